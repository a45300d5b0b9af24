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


def summary_line(dataset: str, part: pd.DataFrame) -> str:
    """For the chapter's Summary: how many settings end a later epoch above one-epoch training by the rule, and
    the top setting's gain in seed means."""
    from onepoch.tables import k_of_n, signed

    top = part.sort_values("best_end_mean", ascending=False).iloc[0]
    return (f"On {dataset}, {k_of_n(part.beats_one_epoch, 'settings')} {'ends' if len(part) == 1 else 'end'} a later "
            f"epoch above one-epoch training by the rule; the top setting, {top.remedy}, ends a later epoch "
            f"{signed(top.gain)} against it in seed means.")


def summary_lines(board: pd.DataFrame) -> list[str]:
    """`summary_line` for every data set of the leaderboard, in its order."""
    return [summary_line(ds, part) for ds, part in board.groupby("dataset", sort=False)]
