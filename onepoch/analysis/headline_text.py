"""The intro's "What this book measured" paragraph, from the one_epoch chapter's headline runs.

`head` is `measures.effects` by data set of those runs; a data set where the model does not learn (test AUC at
the end of epoch 1 below `rules.AUC_FLOOR`) is named as not testable and left out of the pooled numbers.
"""
from __future__ import annotations

import pandas as pd

from onepoch.analysis import rules, stats
from onepoch.analysis.summary import change_text
from onepoch.tables import count


def measured_text(head: pd.DataFrame) -> str:
    """The pooled change at the epoch-2 boundary and the best later epoch against epoch 1 over the data sets
    where the model learns, each data set's change and placebo z, how many runs peak within epoch 1, and the
    data sets that cannot be tested; or that none can."""
    learns = head[head.untestable == ""]
    if not len(learns):
        return (f"In none of these settings does the model learn (test AUC at the end of epoch 1 below "
                f"{rules.AUC_FLOOR}), so the paper's claims cannot be tested on them. ")
    drop, gain = stats.pooled(list(learns["drop"])), stats.pooled(list(learns["gain"]))
    not_learning = ", ".join(head[head.untestable != ""].dataset) or "none"
    return (
        f"Test AUC changes between the end of epoch 1 and the first evaluation of epoch 2 by {change_text(drop)} "
        f"(pooled over the {count(len(learns), 'data sets')} where the model learns; per data set: "
        + "; ".join(f"{r.dataset} {change_text(r.drop)}, placebo z {r.z.text(1)}" for r in learns.itertuples())
        + f"). The best end of a later epoch minus the end of epoch 1, seed by seed: {gain.text()} pooled "
          f"(negative: one epoch is best); {int(learns.peaks_in_epoch1.sum())} of {int(learns.n_seeds.sum())} runs "
          f"reach their best test AUC within epoch 1. Data sets where the model does not learn (test AUC at the end "
          f"of epoch 1 below {rules.AUC_FLOOR}), so the paper's claims cannot be tested there: {not_learning}. ")


def headline(head: pd.DataFrame, datasets, n_seeds: int) -> str:
    """The whole paragraph: which runs (`datasets`, `n_seeds` seeds each), `measured_text`, and where the
    verdicts are."""
    return (f"**What this book measured** (the one_epoch chapter's runs: {', '.join(datasets)}, "
            f"{n_seeds} seeds each, every seed with its own user split and negatives; 95% intervals). "
            + measured_text(head) + "The claims ledger gives every claim's verdict with its interval.")
