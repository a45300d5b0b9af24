"""Per-seed numbers from runs' curves, and per-setting effects with intervals.

`per_run(frame, by)` gives one row per run (setting x seed) of the test-AUC
numbers every claim reads:

- `end_1`: the value at the end of epoch 1 (its last evaluation);
- `drop`: end of epoch `boundary` minus the first evaluation after it;
- `z`, `pct`: that drop against the run's own drops between evaluations
  inside epochs (`stats.placebo_z`);
- `end_k`: the value at the end of epoch k; `gain`: the best end of an epoch
  k >= 2 minus `end_1` (the C2 rule; NaN with one epoch);
- `best`, `best_epoch`, `peak_in_epoch1`: the best evaluation and where.

`setting_effects(runs, by)` turns them into one row per setting: `Effect`s
of drop, z and gain over seeds, the seed-mean `end_1`, and the verdicts of
the rules `learns`, `drop`, `sharp`, `no-drop`, `C2-gain`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from onepoch.analysis import rules
from onepoch.analysis.summary import change_text, each_run
from onepoch.analysis.stats import Verdict, at_most, directional, paired_effect, precondition, seed_effect, placebo_z

_EPS = 1e-9


def _run_numbers(e: np.ndarray, v: np.ndarray, boundary: int) -> dict:
    row = {}
    last = int(np.floor(e.max() + _EPS))
    for k in range(1, last + 1):
        at = np.isclose(e, k)
        row[f"end_{k}"] = v[at][-1] if at.any() else np.nan
    inside = (e > boundary - 1 + _EPS) & (e <= boundary + _EPS)
    after = (e > boundary + _EPS) & (e <= boundary + 1 + _EPS)
    row["end_1"] = row.get("end_1", np.nan)
    row["drop"] = v[inside][-1] - v[after][0] if inside.any() and after.any() else np.nan
    row["z"], row["pct"] = placebo_z(e, v, boundary)
    later = [row[f"end_{k}"] for k in range(2, last + 1)]
    row["gain"] = (np.nanmax(later) - row["end_1"]) if later and np.isfinite(later).any() else np.nan
    i = int(np.nanargmax(v))
    row.update(best=v[i], best_epoch=e[i], peak_in_epoch1=bool(e[i] <= 1 + _EPS))
    return row


def per_run(frame: pd.DataFrame, by: list[str], metric: str = "auc", split: str = "test",
            boundary: int = 1) -> pd.DataFrame:
    """One row per run (the `by` columns + seed) with the numbers of the module docstring."""
    return pd.DataFrame([{**labels, **_run_numbers(e, v, boundary)}
                         for labels, e, v in each_run(frame, by, metric, split)])


def setting_effects(runs: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """One row per setting: Effects `drop`, `z`, `gain` (over seeds), `end_1` (seed mean), `n_seeds`,
    `peaks_in_epoch1` (seeds whose best evaluation is in epoch 1), `best` (seed mean) and the verdicts
    `untestable` (why not, or ''), `drop_verdict`, `sharp_verdict`, `no_drop_verdict`, `gain_verdict`."""
    out = []
    for key, part in runs.groupby(by, sort=False, observed=True):
        drop, z, gain = seed_effect(part["drop"]), seed_effect(part["z"]), seed_effect(part["gain"])
        end_1 = float(part["end_1"].mean())
        why = precondition(epoch1_auc=end_1)
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        row.update(drop=drop, z=z, gain=gain, end_1=end_1, best=float(part["best"].mean()),
                   n_seeds=int(part["seed"].nunique()), peaks_in_epoch1=int(part["peak_in_epoch1"].sum()),
                   untestable=why or "")
        row["drop_verdict"] = Verdict.NOT_TESTABLE if why else directional(drop.ci, rules.MIN_EFFECT)
        row["sharp_verdict"] = Verdict.NOT_TESTABLE if why else directional(z.ci, rules.SHARP_Z)
        row["no_drop_verdict"] = Verdict.NOT_TESTABLE if why else at_most(drop.ci, rules.NO_EFFECT_MARGIN)
        row["gain_verdict"] = Verdict.NOT_TESTABLE if why else at_most(gain.ci, rules.NO_EFFECT_MARGIN)
        out.append(row)
    return pd.DataFrame(out)


def paired_difference(runs: pd.DataFrame, column: str, where, baseline, other_column: str | None = None):
    """Effect of runs[where][column] - runs[baseline][other_column or column], paired by seed (boolean masks)."""
    a = runs[where].set_index("seed")[column]
    b = runs[baseline].set_index("seed")[other_column or column]
    return paired_effect(a, b)


def effects(frame: pd.DataFrame, by: list[str], boundary: int = 1) -> pd.DataFrame:
    """`setting_effects(per_run(frame, by, boundary=boundary), by)`."""
    return setting_effects(per_run(frame, by, boundary=boundary), by)


def effect_table(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """`setting_effects` as text for a chapter: drop, its placebo z, later-epoch gain (95% intervals)."""
    show = pd.DataFrame({c: table[c] for c in by})
    show["end of epoch 1"] = [f"{x:.4f}" for x in table["end_1"]]
    show["change at the boundary [95% CI]"] = [change_text(e) for e in table["drop"]]  # signed: minus = fell
    show["drop verdict"] = [str(v) for v in table["drop_verdict"]]
    show["placebo z [95% CI]"] = [e.text(1) for e in table["z"]]
    show["sharp"] = [str(v) for v in table["sharp_verdict"]]
    show["later-epoch gain [95% CI]"] = [e.text() for e in table["gain"]]
    show["seeds peaking in epoch 1"] = [f"{p} of {n}" for p, n in zip(table["peaks_in_epoch1"], table["n_seeds"])]
    return show


def interval_columns(table: pd.DataFrame, columns) -> pd.DataFrame:
    """`table` with, for each Effect column c in `columns`, the plain numbers a chart draws: `c_mean`
    (its estimate) and `c_half` (half the width of its 95% interval, the error bar)."""
    table = table.copy()
    for c in columns:
        table[f"{c}_mean"] = [e.estimate for e in table[c]]
        table[f"{c}_half"] = [(e.high - e.low) / 2 for e in table[c]]
    return table
