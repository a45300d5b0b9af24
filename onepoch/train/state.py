"""What the training loop shares with its callbacks: `TrainState`.

Its own module, so that the trainer and the callbacks (probes, schemes,
remedies) both import it and neither imports the other.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from onepoch.config import RunConfig
from onepoch.train.optim import build_optimizer


@dataclass
class TrainState:
    """What callbacks see: the live model and optimizer, and where training is."""

    config: RunConfig
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    steps_per_epoch: int
    step: int = 0
    epoch_index: int = 0  # 0-based index of the current epoch
    loss: float = float("nan")  # loss of the last step
    records: list = field(default_factory=list)  # (step, epoch, split, metric, value)
    batch_ids: torch.Tensor | None = None  # packed ids of the last training batch
    eval_sets: list = field(default_factory=list)  # EvalSet("train" sample), EvalSet("test")
    # the training set and this epoch's order, for probes of the samples yet to come (read only)
    train_ids: torch.Tensor | None = None  # packed ids of every training sample
    train_labels: torch.Tensor | None = None
    train_users: torch.Tensor | None = None
    order: torch.Tensor | None = None  # row indices of this epoch's batches, back to back
    batch_index: int = -1  # batch of the current epoch last trained on (-1: none yet)

    @property
    def epoch(self) -> float:
        return self.step / self.steps_per_epoch

    def record(self, split: str, metric: str, value: float) -> None:
        self.records.append((self.step, self.epoch, split, metric, float(value)))

    def rebuild_optimizer(self, params=None, lr: float | None = None) -> None:
        """Replace the optimizer (fresh state) by the one the config asks for, e.g. to train only
        some parameters (`params`, default all the model's) or at another learning rate."""
        self.optimizer = build_optimizer(self.config, self.model, params, lr)
