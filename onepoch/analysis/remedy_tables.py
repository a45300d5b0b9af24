"""Views of the remedies (beyond_one_epoch): leaderboard subsets as text tables, and the information abundance
of the embedding table at each epoch end against the best end-of-epoch test AUC.

`board` is `multi_epoch.leaderboard` (one row per data set and remedy); `ends` is `multi_epoch.at_epoch_ends`
of the abundance curves by data set and remedy.
"""
from __future__ import annotations

import pandas as pd

from onepoch.analysis.summary import pm
from onepoch.tables import signed

LAZY_REMEDIES = ("baseline", "lazy Adam (embeddings)")
REGULARISERS = ("baseline", "embedding L2", "frequency decay")  # prefixes of the remedies' names


def _yes_no(flags) -> list[str]:
    return ["yes" if x else "no" for x in flags]


def _boundary_columns(rows: pd.DataFrame) -> dict:
    """End of epoch 1 and drop at epoch 2 (mean ± std over seeds), and whether the drop is sharp."""
    return {"end of epoch 1": [pm(m, s) for m, s in zip(rows.end_1_mean, rows.end_1_std)],
            "drop at epoch 2": [pm(m, s) for m, s in zip(rows.drop_mean, rows.drop_std)],
            "sharp": _yes_no(rows.sharp_drop)}


def lazy_table(board: pd.DataFrame) -> pd.DataFrame:
    """Baseline against lazy Adam per data set: the boundary columns and the best test AUC at any point."""
    rows = board[board.remedy.isin(LAZY_REMEDIES)]
    return pd.DataFrame({"dataset": rows.dataset, "optimizer": rows.remedy, **_boundary_columns(rows),
                         "best at any point": [pm(m, s) for m, s in zip(rows.best_mean, rows.best_std)]})


def regularisation_table(board: pd.DataFrame) -> pd.DataFrame:
    """Baseline against the embedding L2 and frequency-decay settings: the boundary columns, the best end of an
    epoch (with that epoch) and whether it beats one-epoch training by the rule."""
    rows = board[board.remedy.str.startswith(REGULARISERS)]
    return pd.DataFrame({"dataset": rows.dataset, "setting": rows.remedy, **_boundary_columns(rows),
                         "best end of epoch": [f"{pm(m, s)} (epoch {int(k)})" for m, s, k in
                                               zip(rows.best_end_mean, rows.best_end_std, rows.best_end_epoch)],
                         "beats one epoch": _yes_no(rows.beats_one_epoch)})


def abundance_wide(ends: pd.DataFrame) -> pd.DataFrame:
    """The abundance (mean ± std over seeds, 2 digits) per data set and remedy, one column per epoch end
    ("start" for epoch 0); indexed by (dataset, remedy)."""
    cells = [pm(m, s, 2) for m, s in zip(ends["mean"], ends["std"])]
    wide = ends.assign(cell=cells).pivot(index=["dataset", "remedy"], columns="epoch", values="cell")
    wide.columns = [f"epoch {c}" if c else "start" for c in wide.columns]
    return wide


def abundance_correlation(ends: pd.DataFrame, board: pd.DataFrame) -> pd.Series:
    """Per data set, the Spearman correlation across remedies between the abundance at the last epoch end and
    the best end-of-epoch test AUC (seed means)."""
    last = ends[ends.epoch == ends.epoch.max()].merge(board[["dataset", "remedy", "best_end_mean"]],
                                                      on=["dataset", "remedy"])
    return last.groupby("dataset")[["mean", "best_end_mean"]].apply(
        lambda d: d["mean"].corr(d["best_end_mean"], method="spearman"))


def correlation_text(corr: pd.Series, n_settings: int) -> str:
    """The correlations in a sentence, "<data set> +0.40" each, over `n_settings` settings."""
    return ("Rank correlation, across remedies, between the final information abundance and the best end-of-epoch "
            "test AUC: " + ", ".join(f"{ds} {c:+.2f}" for ds, c in corr.items()) + f" ({n_settings} settings each).")


def correlation_items(corr: pd.Series) -> list[str]:
    """The correlations as "+0.40 on <data set>" (true minus), for `chapter_summary.names`."""
    return [f"{signed(c, 2)} on {ds}" for ds, c in corr.items()]
