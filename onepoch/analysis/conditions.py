"""One condition varied at a time (the one_epoch chapter): which settings bring out the paper's shape.

`condition_curves` maps a condition's name (a RunConfig field: "construction", "lr", ...) to the curves
of its runs, one setting per value of that field. `table` gives one row per (condition, value) with the
descriptive numbers of `summary.drop_table` and `summary.peak_epochs`; `chart` draws every condition's
test-AUC curves, one panel per condition.
"""
from __future__ import annotations

import pandas as pd

from onepoch.analysis.summary import drop_table, peak_epochs, pm


def labelled(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The curves with the condition's column as text ("default" when the runs lack the column)."""
    return frame.assign(**{name: frame[name].astype(str)}) if name in frame else frame.assign(**{name: "default"})


def table(condition_curves: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per (condition, value), as text: the drop at epoch 2 (mean ± std over seeds; positive: test AUC
    fell), whether it is sharp (`summary.is_sharp`), where the seed-mean curve peaks and its value, and the best
    of epoch 1."""
    rows = []
    for name, frame in condition_curves.items():
        frame = labelled(frame, name)
        t = drop_table(frame, [name]).merge(peak_epochs(frame, [name]), on=name)
        for r in t.itertuples():
            rows.append({"condition": name, "value": getattr(r, name),
                         "drop at epoch 2": pm(r.drop_mean, r.drop_std),
                         "sharp": "yes" if r.sharp_drop else "no",
                         "peak epoch (mean curve)": f"{r.peak_epoch:.2f}", "peak test AUC": f"{r.peak_value:.4f}",
                         "best of epoch 1": pm(r.best_epoch1_mean, r.best_epoch1_std)})
    return pd.DataFrame(rows)


def chart(condition_curves: dict[str, pd.DataFrame], width: int = 250, height: int = 160):
    """Test AUC over epochs, one panel per condition ("varying <name>", coloured by its value): the first two
    conditions in the top row, the others below; each panel keeps its own colour scale."""
    import altair as alt

    from onepoch import plots

    charts = [plots.curves(frame.assign(**{name: frame[name].astype(str)}) if name in frame else frame,
                           color=name if name in frame else None, title=f"varying {name}", width=width, height=height)
              for name, frame in condition_curves.items()]
    return alt.vconcat(alt.hconcat(*charts[:2]), alt.hconcat(*charts[2:])).resolve_scale(color="independent")
