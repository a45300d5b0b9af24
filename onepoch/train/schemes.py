"""Training schemes a RunConfig can ask for, applied as callbacks.

- finetune (paper Fig. 17): at the start of epoch 2, continue training only
  the embeddings ("embedding", MLP frozen), only the MLP ("mlp", embeddings
  frozen), or everything ("all"), each with a fresh optimizer at
  `finetune_lr` (0 = the run's learning rate). "none" just keeps training.
- multi-epoch remedies (MEDA, learning-rate decay, lazy Adam, embedding L2,
  frequency-aware decay): see `onepoch.train.remedies`.
"""
from __future__ import annotations

from onepoch.train import remedies
from onepoch.train.callbacks import Callback


class FineTune(Callback):
    def __init__(self, part: str, lr: float, at_epoch: int = 1):
        self.part, self.lr, self.at_epoch = part, lr, at_epoch

    def on_epoch_begin(self, state) -> None:
        if state.epoch_index != self.at_epoch:
            return
        model = state.model
        groups = {"embedding": model.embedding_parameters(), "mlp": model.mlp_parameters()}
        if self.part == "all":
            trained = list(model.parameters())
        else:
            trained = groups[self.part]
            for name, params in groups.items():
                if name != self.part:
                    for p in params:
                        p.requires_grad_(False)
        state.rebuild_optimizer(trained, lr=self.lr or None)  # keeps lazy Adam / embedding L2 if asked for


def schemes_for(config) -> list[Callback]:
    """The callbacks a config's training options need: fine-tuning first, then the remedies."""
    schemes = []
    if config.finetune != "none":
        schemes.append(FineTune(config.finetune, config.finetune_lr))
    schemes.extend(remedies.remedies_for(config))
    return schemes
