"""The one_epoch chapter's sentences between its tables: the DNN's boundary effects per data set, later epochs
against epoch 1, and the conditions that bring out the paper's shape.

Inputs are `measures.effects` tables (one row per data set) and `conditions.table`; every function only
formats, so what a sentence says is exactly what those tables hold.
"""
from __future__ import annotations

import pandas as pd

from onepoch.analysis import rules
from onepoch.analysis.summary import change_text


def effect_line(r) -> str:
    """One data set's row of `measures.effects`: the end of epoch 1, the change at the first evaluation of epoch 2
    with its verdict, and the placebo z against the run's own changes inside epochs; or why it is not testable."""
    if r.untestable:
        return f"**{r.dataset}**: not testable, {r.untestable} (change {change_text(r.drop)})"
    return (f"**{r.dataset}**: {r.end_1:.4f} at the end of epoch 1, a change of {change_text(r.drop)} at the "
            f"first evaluation of epoch 2 ({r.drop_verdict} that it fell by more than {rules.MIN_EFFECT}); against the "
            f"run's own changes between evaluations inside epochs, placebo z {r.z.text(1)} (sharp: {r.sharp_verdict})")


def effects_text(effects: pd.DataFrame) -> str:
    """The DNN's effects per data set as a Markdown list under a sentence on what the intervals contain."""
    return ("For the DNN, per data set, with 95% intervals over seeds (each seed draws its own user split and "
            "negatives, so test-set sampling error is inside the interval):\n\n"
            + "\n".join("- " + effect_line(r) for r in effects.itertuples()))


def later_epochs_text(dnn_effects: pd.DataFrame, lr_effects: pd.DataFrame) -> str:
    """Per data set, the DNN's best later end of an epoch minus the end of epoch 1 (seed by seed) and how many
    seeds peak within epoch 1; then logistic regression's drop at the epoch-2 boundary."""
    return ("Later epochs against epoch 1, seed by seed (the best end of an epoch >= 2 minus the end of epoch 1): "
            + "; ".join(f"{r.dataset} {r.gain.text()}, best evaluation within epoch 1 for {r.peaks_in_epoch1} of "
                        f"{r.n_seeds} seeds" for r in dnn_effects.itertuples())
            + ". Logistic regression's drop at the epoch-2 boundary: "
            + "; ".join(f"{r.dataset} {r.drop.text()}" for r in lr_effects.itertuples()) + ".")


def paper_shape(condition_table: pd.DataFrame) -> pd.DataFrame:
    """The rows of `conditions.table` with the paper's shape: a sharp drop and the seed-mean curve peaking
    within epoch 1."""
    peak = condition_table["peak epoch (mean curve)"].astype(float)
    return condition_table[(condition_table.sharp == "yes") & (peak <= 1.0)]


def shape_text(shape: pd.DataFrame, n_conditions: int, condition_dataset: str) -> str:
    """In how many of `n_conditions` the paper's shape appears (`shape`: `paper_shape`), naming them."""
    return (f"The paper's shape -- a sharp drop and a peak within epoch 1 -- appears in {len(shape)} of "
            f"{n_conditions} conditions on {condition_dataset}: "
            + (", ".join(f"{r.condition} = {r.value}" for r in shape.itertuples()) or "none") + ".")
