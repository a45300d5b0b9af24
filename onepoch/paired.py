"""Effects with 95% intervals over seeds, paired where two arms share seeds.

A stop-gap for the architectures chapter until the book's statistics module
(onepoch.analysis.stats) lands: per-seed values (a drop, or the difference of
two arms run with the same seed on the same data) and a Student-t interval
for their mean. With 3 seeds a bootstrap over seeds would under-cover badly
(its percentiles cannot leave the 3 values' range), so the t interval is the
honest small-sample choice. The intervals cover seed-to-seed variation
(initialisation and shuffling); they do NOT include the test set's own
sampling error, which a resampling of test rows would add.

Verdicts, fixed before any result: an effect is "positive" when its whole
interval is above 0, "within margin" when its whole interval lies inside
(-margin, +margin) -- the equivalence test a "no effect" claim needs --
"negative" when wholly below 0, else "inconclusive".
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95


def interval(values) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of the mean of `values`, a Student-t 95% interval; NaN bounds for n < 2."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    n = len(v)
    if n == 0:
        return (np.nan, np.nan, np.nan, 0)
    mean = float(v.mean())
    if n < 2:
        return (mean, np.nan, np.nan, n)
    half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1) * v.std(ddof=1) / np.sqrt(n))
    return (mean, mean - half, mean + half, n)


def judge(low: float, high: float, margin: float) -> str:
    """'positive', 'within margin', 'negative' or 'inconclusive' (see the module docstring)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "inconclusive"
    if -margin < low and high < margin:
        return "within margin"
    if low > 0:
        return "positive"
    if high < 0:
        return "negative"
    return "inconclusive"


def effects(per_seed: pd.DataFrame, by: list[str], value: str, margin: float) -> pd.DataFrame:
    """One row per group of `by`: mean, low, high, seeds and verdict of `value` over its seeds."""
    rows = []
    for key, part in per_seed.groupby(by, sort=False):
        mean, low, high, n = interval(part[value])
        rows.append(dict(zip(by, key if isinstance(key, tuple) else (key,)), mean=mean, low=low, high=high,
                         seeds=n, verdict=judge(low, high, margin)))
    return pd.DataFrame(rows)


def paired_differences(per_seed: pd.DataFrame, by: list[str], arm: str, baseline, value: str) -> pd.DataFrame:
    """Per seed, `value` of each arm minus the baseline arm's, matched on `by` and the seed."""
    base = per_seed[per_seed[arm] == baseline][[*by, "seed", value]].rename(columns={value: "_base"})
    other = per_seed[per_seed[arm] != baseline]
    merged = other.merge(base, on=[*by, "seed"], how="inner")
    merged["difference"] = merged[value] - merged["_base"]
    return merged.drop(columns="_base")


def text(mean: float, low: float, high: float, digits: int = 4) -> str:
    """'0.0123 [0.0081, 0.0165]'."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{mean:.{digits}f} [no interval]"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"
