"""Numbers that chapters state: the drop at the epoch-2 boundary, the best AUC and where.

Per run (one setting, one seed), on the test split:
- `end_epoch1`: the metric at the last evaluation of epoch 1 (step = one epoch);
- `best_epoch1`: its best value during epoch 1;
- `first_epoch2`: the first evaluation after the boundary;
- `drop`: end_epoch1 - first_epoch2 (positive = the metric fell);
- `min_epoch2`: the lowest value in epoch 2;
- `best`, `best_epoch`: the best value over the whole run and when.
Then mean and standard deviation over seeds per setting. The tables' "sharp"
column (mean > `SHARP` seed standard deviations and an absolute floor) is
descriptive: the ledger's verdicts use `onepoch.analysis.measures` (effects
with 95% intervals, the placebo-boundary sharpness) and `rules`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from onepoch.analysis.rules import SEED_MIN_DROP as MIN_DROP  # descriptive columns only; verdicts: rules.RULES
from onepoch.analysis.rules import SEED_SHARP as SHARP
from onepoch.analysis.rules import UPDATE_RATIO as MIN_RATIO
from onepoch.tables import signed


def each_run(frame: pd.DataFrame, by: list[str], metric: str, split: str, sort: bool = False):
    """Per run (the `by` columns + seed) of one metric and split: (its labels as a dict, its epochs, its
    values), ordered by step -- the loop every per-run measure starts from."""
    rows = frame[(frame["metric"] == metric) & (frame["split"] == split)]
    for key, run in rows.groupby([*by, "seed"], sort=sort, observed=True):
        run = run.sort_values("step")
        labels = dict(zip([*by, "seed"], key if isinstance(key, tuple) else (key,)))
        yield labels, run["epoch"].to_numpy(float), run["value"].to_numpy(float)


def boundary_drops(frame: pd.DataFrame, by: list[str], metric: str = "auc", split: str = "test",
                   epoch: int = 1) -> pd.DataFrame:
    """One row per run (by + seed) with the boundary numbers of `epoch` -> `epoch + 1`."""
    out = []
    for labels, e, v in each_run(frame, by, metric, split, sort=True):
        inside = (e > epoch - 1 + 1e-9) & (e <= epoch + 1e-9)
        after = (e > epoch + 1e-9) & (e <= epoch + 1 + 1e-9)
        if not inside.any() or not after.any():
            continue
        end = v[inside][-1]
        first_next = v[after][0]
        best_i = int(np.nanargmax(v))
        out.append(dict(labels,
                        best_epoch1=np.nanmax(v[inside]), end_epoch1=end, first_epoch2=first_next,
                        drop=end - first_next, min_epoch2=np.nanmin(v[after]),
                        best=v[best_i], best_epoch=e[best_i], last=v[-1]))
    return pd.DataFrame(out)


def drop_table(frame: pd.DataFrame, by: list[str], metric: str = "auc", split: str = "test",
               epoch: int = 1) -> pd.DataFrame:
    """Mean and std over seeds of `boundary_drops`, plus a `sharp_drop` verdict column."""
    per_run = boundary_drops(frame, by, metric, split, epoch)
    if per_run.empty:
        return per_run
    cols = ["best_epoch1", "end_epoch1", "first_epoch2", "drop", "min_epoch2", "best", "best_epoch", "last"]
    agg = per_run.groupby(by, sort=False)[cols].agg(["mean", "std"])
    agg.columns = [f"{c}_{s}" for c, s in agg.columns]
    agg["seeds"] = per_run.groupby(by, sort=False)["seed"].nunique()
    agg["sharp_drop"] = [is_sharp(m, s) for m, s in zip(agg["drop_mean"], agg["drop_std"])]
    return agg.reset_index()


def is_sharp(drop_mean: float, drop_std: float) -> bool:
    """Above MIN_DROP and SHARP seed standard deviations; one seed (std NaN) is judged on MIN_DROP alone."""
    noise = 0.0 if not np.isfinite(drop_std) else drop_std
    return bool(drop_mean > MIN_DROP and drop_mean > SHARP * noise)


def pm(mean: float, std: float, digits: int = 4, sign: bool = False) -> str:
    """'0.7512 ± 0.0011' (std over seeds); with `sign`, a change: '+0.0031 ± 0.0012', '−0.0032 ± ...'
    (a true minus). Never '-0.0000': a value that rounds to zero reads '0.0000'."""
    value = signed(mean, digits) if sign else f"{mean:.{digits}f}"
    if not sign and float(value) == 0:
        value = f"{0:.{digits}f}"
    if not np.isfinite(std):
        return value
    return f"{value} ± {std:.{digits}f}"


def readable(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The drop table as strings, for display in a chapter. The drop reads as a signed change (first
    evaluation of epoch 2 minus end of epoch 1: negative when test AUC fell)."""
    show = pd.DataFrame({c: table[c] for c in by})
    show["best in epoch 1"] = [pm(m, s) for m, s in zip(table["best_epoch1_mean"], table["best_epoch1_std"])]
    show["end of epoch 1"] = [pm(m, s) for m, s in zip(table["end_epoch1_mean"], table["end_epoch1_std"])]
    show["first eval of epoch 2"] = [pm(m, s) for m, s in zip(table["first_epoch2_mean"], table["first_epoch2_std"])]
    show["change at epoch 2"] = [pm(-m, s, sign=True) for m, s in zip(table["drop_mean"], table["drop_std"])]
    show["min in epoch 2"] = [pm(m, s) for m, s in zip(table["min_epoch2_mean"], table["min_epoch2_std"])]
    show["best overall"] = [pm(m, s) for m, s in zip(table["best_mean"], table["best_std"])]
    show["best at epoch"] = [pm(m, s, 2) for m, s in zip(table["best_epoch_mean"], table["best_epoch_std"])]
    show["sharp drop"] = ["yes" if x else "no" for x in table["sharp_drop"]]
    show["seeds"] = table["seeds"]
    return show


def change_text(drop) -> str:
    """A drop (end of epoch 1 minus first evaluation of epoch 2, an `stats.Effect`) read as the signed
    change it is: "−0.0032 [−0.0061, −0.0003]" when test AUC fell, "+0.0010 [...]" when it rose."""
    if not np.isfinite(drop.estimate):
        return "n/a"
    if not (np.isfinite(drop.low) and np.isfinite(drop.high)):
        return f"{signed(-drop.estimate)} [n/a]"
    return f"{signed(-drop.estimate)} [{signed(-drop.high)}, {signed(-drop.low)}]"


def peak_epochs(frame: pd.DataFrame, by: list[str], metric: str = "auc", split: str = "test") -> pd.DataFrame:
    """Where the seed-mean curve peaks, per setting: epoch, value, and whether it is in epoch 1."""
    rows = frame[(frame["metric"] == metric) & (frame["split"] == split)]
    mean = rows.groupby([*by, "epoch"], sort=True)["value"].mean().reset_index()
    best = mean.loc[mean.groupby(by, sort=False)["value"].idxmax()]
    best = best.rename(columns={"epoch": "peak_epoch", "value": "peak_value"}).reset_index(drop=True)
    best["peak_in_epoch1"] = best["peak_epoch"] <= 1.0 + 1e-9
    return best


def show(table: pd.DataFrame):
    """A table as plain HTML without the index (deterministic, unlike a pandas Styler). A value and
    its spread ("0.0249 ± 0.0029") are joined by non-breaking spaces: a narrow column wraps between
    values, never inside one."""
    from IPython.display import HTML

    return HTML(table.to_html(index=False, border=0, classes="dataframe").replace(" ± ", "\u00a0±\u00a0"))


def split_metric(frame: pd.DataFrame, prefix: str, column: str = "field", whole: str = "all fields") -> pd.DataFrame:
    """Rows whose metric is `prefix` or `prefix:<name>`, with <name> in `column`
    (`whole` for the bare prefix) and the metric renamed to `prefix`."""
    rows = frame[(frame["metric"] == prefix) | frame["metric"].str.startswith(prefix + ":")].copy()
    rows[column] = rows["metric"].str.partition(":")[2].replace("", whole)
    rows["metric"] = prefix
    return rows


def boundary_jumps(frame: pd.DataFrame, by: list[str], metric: str, split: str, epoch: int = 1) -> pd.DataFrame:
    """Like `drop_table` for a quantity expected to rise: jump = first of epoch 2 - end of epoch 1."""
    table = drop_table(frame, by, metric, split, epoch)
    if table.empty:
        return table
    table["jump_mean"] = -table["drop_mean"]
    table["jump_std"] = table["drop_std"]
    table["sharp_jump"] = [is_sharp(m, s) for m, s in zip(table["jump_mean"], table["jump_std"])]
    return table


def each_epoch_drops(frame: pd.DataFrame, by: list[str], metric: str = "auc", split: str = "test") -> pd.DataFrame:
    """`drop_table` at every epoch boundary k -> k + 1, with a `boundary` column (= k)."""
    last = int(np.floor(frame["epoch"].max() + 1e-9))
    tables = [drop_table(frame, by, metric, split, epoch=k).assign(boundary=k) for k in range(1, last)]
    tables = [t for t in tables if not t.empty]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def update_ratios(frame: pd.DataFrame, by: list[str], window: int = 50, prefix: str = "update:") -> pd.DataFrame:
    """Per run (by + part + seed): mean l-infinity update over the last `window` steps of epoch 1 (`before`),
    over the first `window` steps of epoch 2 (`after`), and `ratio` = after / before."""
    rows = frame[frame["metric"].str.startswith(prefix)].copy()
    rows["part"] = rows["metric"].str[len(prefix):]
    out = []
    for key, run in rows.groupby([*by, "part", "seed"], sort=False):
        run = run.sort_values("step")
        steps_per_epoch = round(run["step"].iloc[-1] / run["epoch"].iloc[-1])
        before = run[(run.step > steps_per_epoch - window) & (run.step <= steps_per_epoch)]["value"].mean()
        after = run[(run.step > steps_per_epoch) & (run.step <= steps_per_epoch + window)]["value"].mean()
        out.append(dict(zip([*by, "part", "seed"], key), before=before, after=after, ratio=after / before))
    return pd.DataFrame(out)


def update_jumps(frame: pd.DataFrame, by: list[str], window: int = 50, prefix: str = "update:") -> pd.DataFrame:
    """Per-step update size around the epoch-2 boundary, per part (embedding, fc1, ...).

    `update_ratios` per run, then mean and std over seeds. The `jumps` column
    (descriptive; the verdict is `claims.record_update_jumps`'s) holds when
    the ratio's mean minus 3 std exceeds 1 and the mean ratio is above
    `MIN_RATIO`.
    """
    per_run = update_ratios(frame, by, window, prefix)
    agg = per_run.groupby([*by, "part"], sort=False)[["before", "after", "ratio"]].agg(["mean", "std"])
    agg.columns = [f"{c}_{s}" for c, s in agg.columns]
    agg = agg.reset_index()
    agg["jumps"] = ((agg["ratio_mean"] - SHARP * agg["ratio_std"].fillna(0.0)) > 1.0) & (agg["ratio_mean"] > MIN_RATIO)
    return agg
