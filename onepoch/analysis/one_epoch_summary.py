"""The sentences of the one_epoch chapter's computed Summary, from its effect tables and ledger rows.

Each reads correctly whatever the numbers are (`chapter_summary.change` and `compare` choose the verb from
the interval); a data set where the model does not learn is named as such, since its numbers test nothing.
"""
from __future__ import annotations

import pandas as pd

from onepoch.analysis import chapter_summary as cs
from onepoch.analysis import measures
from onepoch.analysis.rules import AUC_FLOOR
from onepoch.tables import count


def where(r) -> str:
    """'On <data set>', or for a data set where the model does not learn, why its numbers are not a test."""
    if not r.untestable:
        return f"On {r.dataset}"
    return (f"On {r.dataset}, where the model does not learn (test AUC {r.end_1:.3f} at the end of epoch 1, under "
            f"the floor of {AUC_FLOOR}: not testable)")


def boundary_line(effects: pd.DataFrame, gauc: pd.DataFrame) -> str:
    """Per data set (`measures.effects` by dataset), the change of test AUC and of user-weighted AUC (`gauc`:
    `measures.setting_effects` indexed by dataset) at the first evaluation of epoch 2."""
    return "At the first evaluation of epoch 2 (DNN, 95% intervals over seeds): " + " ".join(
        f"{where(r)}, {cs.change(r.drop)}; {cs.change(gauc.loc[r.dataset, 'drop'], 'user-weighted AUC')}."
        for r in effects.itertuples())


def best_epoch_line(effects: pd.DataFrame) -> str:
    """How many runs peak within epoch 1, and per data set the best later end of an epoch against epoch 1."""
    return (f"The best test AUC comes within epoch 1 in {int(effects.peaks_in_epoch1.sum())} of "
            f"{count(int(effects.n_seeds.sum()), 'DNN runs')}. " + ". ".join(
                f"On {r.dataset} the best later end of an epoch "
                + cs.compare(r.gain, "beats the end of epoch 1", "falls short of the end of epoch 1",
                             "differs from the end of epoch 1")
                for r in effects.itertuples()) + ".")


def shape_line(n_shape: int, n_conditions: int, condition_dataset: str, dense: pd.DataFrame) -> str:
    """In how many varied conditions the paper's shape appears, and the change on the dense control (`dense`:
    `measures.effects` by dataset)."""
    return (f"The paper's shape (a sharp drop and a peak within epoch 1) appears in {n_shape} of "
            f"{count(n_conditions, 'conditions')} varied on {condition_dataset}. On the dense control, "
            + "; ".join(f"{r.dataset}, {cs.change(r.drop)}" for r in dense.itertuples()) + ".")


def lines(dnn: pd.DataFrame, effects: pd.DataFrame, control_curves: pd.DataFrame, rows: list[dict], n_shape: int,
          n_conditions: int, condition_dataset: str, dense_dataset: str = "ml-100k") -> list[str]:
    """The Summary's bullets: the boundary change (test and user-weighted AUC of the DNN curves `dnn`), where the
    best test AUC comes, the tally and verdicts of the ledger `rows`, the conditions with the paper's shape and
    the dense control (`dense_dataset`'s runs in `control_curves`)."""
    gauc = measures.setting_effects(measures.per_run(dnn, ["dataset"], metric="gauc"), ["dataset"]).set_index("dataset")
    dense = measures.effects(control_curves[control_curves.dataset == dense_dataset], ["dataset"])
    verdicts = cs.tally(rows) + " " + " ".join(cs.verdict_lines(rows))
    return [boundary_line(effects, gauc), best_epoch_line(effects), verdicts,
            shape_line(n_shape, n_conditions, condition_dataset, dense)]
