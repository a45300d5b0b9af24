"""The remedies' leaderboard (`multi_epoch.leaderboard`) in words, one line per data set (beyond_one_epoch)."""
from __future__ import annotations

import pandas as pd

from onepoch.analysis.summary import pm


def dataset_line(dataset: str, part: pd.DataFrame) -> str:
    """'- **<data set>**: one-epoch training reaches <mean ± std>.' then the settings that beat it by the rule
    (`beats_one_epoch`), best first, each with its best end of an epoch and its gain; or, when none does, the
    closest setting."""
    one = part.iloc[0]
    winners = part[part.beats_one_epoch].sort_values("best_end_mean", ascending=False)
    top = part.sort_values("best_end_mean", ascending=False).iloc[0]
    head = f"- **{dataset}**: one-epoch training reaches {pm(one.one_epoch_mean, one.one_epoch_std)}. "
    if winners.empty:
        return head + (f"No remedy beats it; the closest is {top.remedy} with "
                       f"{pm(top.best_end_mean, top.best_end_std)} at the end of epoch {int(top.best_end_epoch)}.")
    return head + (f"{len(winners)} of {len(part)} settings beat it: "
                   + "; ".join(f"{r.remedy} {pm(r.best_end_mean, r.best_end_std)} at the end of epoch "
                               f"{int(r.best_end_epoch)} ({r.gain:+.4f})" for r in winners.itertuples()) + ".")


def verdict_text(board: pd.DataFrame) -> str:
    """`dataset_line` for every data set of the leaderboard, in its order (Markdown list)."""
    return "\n".join(dataset_line(ds, part) for ds, part in board.groupby("dataset", sort=False))
