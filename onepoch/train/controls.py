"""Causal controls for the drop at the epoch boundary: what changes at the boundary besides "the
samples come back"? Each is a RunConfig option, off at its NEUTRAL value, applied as a callback
(`controls_for`), and each removes ONE route to a drop while leaving the others:

- `freeze_norm_stats=True` -- Dice's running statistics (the batch norm's mean and variance that
  evaluation uses, an average over ~100 steps) stop updating at the end of epoch 1. Training still
  normalises with the batch's own statistics; only what evaluation sees is frozen. If the drop came
  from the statistics shifting when seen samples return, it goes away.
- `reset_optimizer=True` -- Adam's moments (and its step count) are dropped at every epoch boundary:
  the optimizer starts afresh, as at step 0. If the drop came from moments carried over the boundary,
  it goes away.
- `second_pass="repeat"` / `"fresh"` -- the training samples are split once (by the run's data seed
  ... and seed) into two disjoint halves A and B of equal size. Epoch 1 becomes two passes of half an
  epoch each: A then A again ("repeat"), or A then B ("fresh"). Both runs take the same steps on the
  same amount of data; only "repeat" sees samples again at the boundary (mid-epoch 1, i.e. at
  epoch 0.5 on the curves). Later epochs train on the whole set as usual. If the drop is about
  seeing samples again, "repeat" drops at the pass boundary and "fresh" does not.
- `reshuffle=False` -- every epoch visits the samples in the first epoch's order instead of a new
  shuffle. If the drop came from the new order of the batches, a fixed order changes it.

They act through the loop's hooks only (`Callback.epoch_order` for the sample order), so a run with
every control off is the plain run, bit for bit.
"""
from __future__ import annotations

import torch

from onepoch.models.dice import Dice
from onepoch.train.callbacks import Callback


class FreezeNormStats(Callback):
    """From the start of epoch `at_epoch + 1` (0-based index `at_epoch`), the running statistics of
    every Dice batch norm stay as they were at the end of the previous epoch."""

    def __init__(self, at_epoch: int = 1):
        self.at_epoch = at_epoch

    def on_epoch_begin(self, state) -> None:
        if state.epoch_index != self.at_epoch:
            return
        for module in state.model.modules():
            if isinstance(module, Dice):
                # momentum 0: running = (1 - 0) * running + 0 * batch, i.e. unchanged; the batch's
                # own statistics still normalise the training forward pass
                module.norm.momentum = 0.0


class ResetOptimizer(Callback):
    """At the start of every epoch after the first, the optimizer forgets its state (moments, steps)."""

    def on_epoch_begin(self, state) -> None:
        if state.epoch_index >= 1:
            # every optimizer's own state: `Optimizers.state` (lazy Adam, embedding L2) is a merged copy
            for optimizer in getattr(state.optimizer, "optimizers", [state.optimizer]):
                optimizer.state.clear()


def split_halves(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two disjoint halves (A, B) of the row indices 0..n-1, of n // 2 rows each (an odd row left out)."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    half = n // 2
    return perm[:half], perm[half:2 * half]


class SecondPass(Callback):
    """Epoch 1 as two passes: half A, then half A again ("repeat") or half B ("fresh")."""

    def __init__(self, mode: str, seed: int):
        if mode not in ("repeat", "fresh"):
            raise ValueError(f"second_pass must be 'repeat' or 'fresh', got {mode!r}")
        self.mode, self.seed = mode, seed

    def epoch_order(self, state, order: torch.Tensor) -> torch.Tensor:
        if state.epoch_index != 0:
            return order
        n = len(order)
        a, b = split_halves(n, self.seed)
        # each pass in its own order, drawn from the epoch's shuffle (order is a random permutation)
        rank = torch.empty(n, dtype=torch.long)
        rank[order] = torch.arange(n)
        first = a[rank[a].argsort()]
        second_rows = b if self.mode == "fresh" else a
        second = second_rows[rank[second_rows].flip(0).argsort()]  # a different order of the same rows
        needed = state.steps_per_epoch * state.config.batch_size
        if 2 * len(a) < needed:
            raise ValueError(f"second_pass needs an even number of training samples with batch_size "
                             f"{state.config.batch_size}; got {n}")
        return torch.cat([first, second])


class FixedOrder(Callback):
    """Every epoch in the order of the first."""

    def __init__(self):
        self.first = None

    def epoch_order(self, state, order: torch.Tensor) -> torch.Tensor:
        if self.first is None:
            self.first = order
        return self.first


def controls_for(config) -> list[Callback]:
    """The control callbacks a config asks for (none at the NEUTRAL values)."""
    controls: list[Callback] = []
    if config.freeze_norm_stats:
        controls.append(FreezeNormStats())
    if config.reset_optimizer:
        controls.append(ResetOptimizer())
    if config.second_pass != "none":
        controls.append(SecondPass(config.second_pass, seed=config.seed))
    if not config.reshuffle:
        controls.append(FixedOrder())
    return controls


def training_users_subset(users, fraction: float, seed: int):
    """Row indices of the training samples of the first `fraction` of the users, in an order of the
    users fixed by `seed`: nested (5% is inside 10%), so the size axis grows one set of users."""
    import numpy as np

    users = np.asarray(users)
    unique = np.unique(users)
    order = np.random.default_rng(seed).permutation(len(unique))
    keep = unique[order[: max(1, int(round(fraction * len(unique))))]]
    return np.flatnonzero(np.isin(users, keep))
