"""Remedies for the one-epoch phenomenon: ways to train for more than one epoch.

Each is a RunConfig option, off at its default (see `schemes_for`):

- `meda=True` -- MEDA (Liu et al. 2023, arXiv 2305.19531): at the start of
  every epoch after the first, the embedding table is initialised afresh
  (same scheme as at the start, new random draws) and its optimizer state
  is dropped; the MLP and its optimizer state are kept.
- `finetune="embedding"` -- freeze the MLP after epoch 1 (the paper's
  Fig. 17); that is `onepoch.train.schemes.FineTune`, not repeated here.
- `lr_decay=g` -- every learning rate is multiplied by g at each epoch
  boundary.
- `emb_optimizer="lazy"` -- lazy Adam on the embedding table: only the rows
  of the IDs in the batch have their moments updated and move, with the
  arithmetic of `torch.optim.SparseAdam`. Dense Adam (the default, and
  TensorFlow 1's AdamOptimizer in the paper's code) decays the moments of
  every row and moves every row at every step. The MLP keeps dense Adam.
- `emb_l2=l` -- an L2 penalty (l / 2) ||E||^2 on the embedding table E,
  its gradient l E going through Adam (coupled, like Adam's `weight_decay`
  restricted to the table; with lazy Adam, on the rows in the batch only).
- `emb_decay=d`, `emb_decay_alpha=a` -- frequency-aware decoupled weight
  decay of the embeddings, our reading of the idea in the abstract of
  AdamAR (Li & Lyu 2025, arXiv 2511.06374: constrain the norm budget of the
  embeddings adaptively, rare IDs harder). The abstract gives no formula;
  we implement: after each optimizer step, every row whose ID is in the
  batch shrinks, decoupled from the gradient (as in AdamW), by

      E_i <- E_i * (1 - lr * d * min(1, a * I_i)),

  where I_i is the number of steps since ID i was last in a batch (since
  the start, for its first appearance). An ID seen at every step is decayed
  by lr * d * a per step; one seen once in 1 / a steps or more rarely, by
  the full lr * d each time it comes back: the rarer the ID, the harder its
  decay relative to the gradient steps it gets.
"""
from __future__ import annotations

import torch

from onepoch.train.callbacks import Callback
# the optimizers themselves live with the others, so that one module builds every optimizer;
# re-exported here, where the remedies that use them are described
from onepoch.train.optim import LazyAdam, Optimizers, build_optimizer, custom_optimizer  # noqa: F401


def forget(optimizer, params) -> None:
    """Drop the optimizer state (moments, step count) of `params`: they start afresh at the next step."""
    optimizers = optimizer.optimizers if isinstance(optimizer, Optimizers) else [optimizer]
    for o in optimizers:
        for p in params:
            o.state.pop(p, None)


def lr_of(optimizer, param) -> float | None:
    """The learning rate the optimizer applies to `param` (None when it does not train it)."""
    for group in optimizer.param_groups:
        if any(p is param for p in group["params"]):
            return float(group["lr"])
    return None


# -- callbacks ---------------------------------------------------------------------

class MEDA(Callback):
    """Fresh embeddings and embedding optimizer state at the start of every epoch after the first."""

    def __init__(self, seed: int = 0):
        self.seed = seed

    def on_epoch_begin(self, state) -> None:
        if state.epoch_index == 0:
            return
        generator = torch.Generator().manual_seed(1_000_003 * (self.seed + 1) + state.epoch_index)
        state.model.embedding.reset_parameters(generator)
        forget(state.optimizer, state.model.embedding_parameters())


class LRDecay(Callback):
    """Every learning rate times `factor` at each epoch boundary."""

    def __init__(self, factor: float):
        self.factor = factor

    def on_epoch_begin(self, state) -> None:
        if state.epoch_index == 0:
            return
        for group in state.optimizer.param_groups:
            group["lr"] = group["lr"] * self.factor


class FrequencyDecay(Callback):
    """Frequency-aware decoupled decay of the embedding rows of each batch (see the module docstring)."""

    def __init__(self, strength: float, alpha: float):
        self.strength, self.alpha = strength, alpha

    def on_train_begin(self, state) -> None:
        self.table = state.model.embedding.table.weight
        self.last_seen = torch.zeros(self.table.shape[0], dtype=torch.long)

    def on_step_end(self, state) -> None:
        lr = lr_of(state.optimizer, self.table)
        rows = torch.unique(state.batch_ids)
        rows = rows[rows != 0]  # padding is never looked up
        interval = (state.step - self.last_seen[rows]).double()
        self.last_seen[rows] = state.step
        if lr is None:  # the table is frozen
            return
        shrink = (lr * self.strength * torch.clamp(self.alpha * interval, max=1.0)).clamp(max=1.0)
        with torch.no_grad():
            self.table[rows] *= (1.0 - shrink).to(self.table.dtype).unsqueeze(1)


def remedies_for(config) -> list[Callback]:
    """The remedy callbacks a config asks for, in the order they must run."""
    out: list[Callback] = []
    if config.meda:
        out.append(MEDA(config.seed))
    if config.lr_decay != 1.0:
        out.append(LRDecay(config.lr_decay))
    if config.emb_decay > 0:
        out.append(FrequencyDecay(config.emb_decay, config.emb_decay_alpha))
    return out
