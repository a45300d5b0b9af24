"""When the trainer evaluates: the run's `eval_schedule`.

- "paper": the paper's cadence -- at step 0, every `eval_every` steps and at
  the end of each epoch, for the whole run.
- "boundaries": the paper's cadence through epochs 1 and 2 and for the first
  `BOUNDARY_EVALS` evaluations after every later epoch boundary; in between,
  every `COARSE` x `eval_every` steps; always at step 0 and each epoch end.

Why: the book reads epoch 1 (its best value and its end), the boundaries
(the last evaluation before, the first ones after) and the same-length
intervals inside epochs 1 and 2 (placebo boundaries); a 10-epoch run at the
paper's cadence spends most of its evaluations where nothing is read.

Every "boundaries" evaluation falls on a step of the paper's grid and
evaluation changes neither the model nor any random stream, so a
"boundaries" run's curves are exactly the paper-cadence curves at those
steps (`thin` makes one from the other; a test checks it). Read at the
coarser resolution, in epochs 3 and later only: the best and lowest value
inside an epoch, and so the best value overall and its epoch when it falls
there. End of every epoch and first evaluation after every boundary: unchanged.
"""
from __future__ import annotations

import pandas as pd

FULL_EPOCHS = 2  # epochs evaluated at the paper's cadence throughout (RunConfig.schedule relies on it)
BOUNDARY_EVALS = 3  # evaluations at the paper's cadence after each later boundary
COARSE = 10  # in between, every COARSE x eval_every steps


def evaluates_at(step: int, epoch_index: int, steps_per_epoch: int, every: int, schedule: str) -> bool:
    """Whether the loop evaluates after `step` steps, inside epoch `epoch_index` (0-based), not
    counting step 0 and the epoch ends (always evaluated)."""
    if step % every:
        return False
    if schedule == "paper" or epoch_index < FULL_EPOCHS:
        return True
    boundary = epoch_index * steps_per_epoch
    return step // every - boundary // every <= BOUNDARY_EVALS or step % (every * COARSE) == 0


def evaluation_steps(config, steps_per_epoch: int) -> list[int]:
    """Every step at which a run of `config` evaluates (0 = before training)."""
    steps = [0]
    for epoch in range(config.epochs):
        for b in range(steps_per_epoch):
            step = epoch * steps_per_epoch + b + 1
            if b == steps_per_epoch - 1 or evaluates_at(step, epoch, steps_per_epoch, config.eval_every,
                                                        config.eval_schedule):
                steps.append(step)
    return steps


def thin(frame: pd.DataFrame, config, steps_per_epoch: int) -> pd.DataFrame:
    """The evaluation rows of a paper-cadence run's `frame` that a run of `config` (same settings,
    its own `eval_schedule`) records: its curves, without training it again."""
    keep = frame["step"].isin(evaluation_steps(config, steps_per_epoch))
    return frame[keep].reset_index(drop=True)


def paper_equivalent(config):
    """The run whose curves contain this run's: the same settings at the paper's cadence with the
    training sample evaluated; None when `config` is that run already."""
    if config.schedule == "paper" and config.eval_train:
        return None
    return config.replace(eval_schedule="paper", eval_train=True)


def from_paper_run(frame: pd.DataFrame, config) -> pd.DataFrame:
    """The curves of a run of `config` cut out of its `paper_equivalent`'s curves (a run without
    probes: their records need not fall on evaluation steps)."""
    last = frame.iloc[-1]
    steps_per_epoch = round(last["step"] / last["epoch"])
    out = thin(frame, config, steps_per_epoch)
    if not config.eval_train:
        out = out[out["split"] != "train"].reset_index(drop=True)
    return out
