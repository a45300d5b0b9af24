"""The hook interface of the training loop.

Probes (measurements) and training schemes (fine-tuning, remedies) are
callbacks: the loop calls them at fixed points with its `TrainState` (model,
optimizer, step, epoch, the last batch, the evaluation sets), so they never
need a copy of the loop. A probe must only read: it must not change the
model, the optimizer or any random number generator the loop uses.
"""
from __future__ import annotations

from onepoch.train.state import TrainState


class Callback:
    """Override any of these; each gets the TrainState."""

    def on_train_begin(self, state: TrainState) -> None: ...
    def on_epoch_begin(self, state: TrainState) -> None: ...
    def on_step_end(self, state: TrainState) -> None: ...
    def on_evaluate(self, state: TrainState) -> None: ...
    def on_train_end(self, state: TrainState) -> None: ...

    def epoch_order(self, state: TrainState, order):
        """The row order of the epoch about to start (`state.epoch_index`); return it, or another
        order of at least steps_per_epoch * batch_size rows. Probes must return it unchanged."""
        return order
