"""The size axis on real data (chapter `data_size`): train on a share of the training users, the test
set fixed, and ask from which size on "best after one epoch" (C2, rule C2-gain) holds.

- `configs`: one RunConfig per data set x construction x share of users;
- `with_axis_columns`: the sweep's frame with the axis columns even where a setting did not vary;
- `effects_table`: per setting, `measures.setting_effects` (later-epoch gain, drop at the epoch-2
  boundary, their verdicts) with the sizes (samples per ID), the gain's and drop's numbers for a chart
  and the `series` (data set, construction) each size belongs to;
- `onsets`: per series, the smallest size at which C2 agrees.
"""
from __future__ import annotations

import pandas as pd

from onepoch.analysis import measures
from onepoch.analysis.stats import Verdict
from onepoch.config import RunConfig

AXIS = ("construction", "train_user_fraction")
BY = ["dataset", *AXIS]


def configs(datasets, constructions, fractions, eval_every: dict, **fixed) -> list[RunConfig]:
    """RunConfigs for every data set x construction x share of the training users (in that order);
    `eval_every` maps a construction to its steps between evaluations; `fixed` applies to all."""
    return [RunConfig(dataset=d, construction=c, train_user_fraction=f, eval_every=eval_every[c], **fixed)
            for d in datasets for c in constructions for f in fractions]


def with_axis_columns(runs: pd.DataFrame, config: RunConfig) -> pd.DataFrame:
    """`runs` with the `AXIS` columns: a sweep adds a column only for a setting that varies between its
    configs, so a single construction (quick mode) takes its value from `config`."""
    return runs.assign(**{c: getattr(config, c) for c in AXIS if c not in runs})


def effects_table(runs: pd.DataFrame, sizes: pd.DataFrame, by=BY) -> pd.DataFrame:
    """One row per setting (`by`): `measures.setting_effects`, merged with `sizes` (one row per setting,
    e.g. samples per item ID), `gain_mean`/`gain_half`, `drop_mean`/`drop_half` and `series`."""
    by = list(by)
    table = measures.setting_effects(measures.per_run(runs, by), by).merge(sizes, on=by)
    table = measures.interval_columns(table, ("gain", "drop"))
    table["series"] = table.dataset + ", " + table.construction
    return table


def onsets(table: pd.DataFrame) -> list[str]:
    """Per series (in order of its smallest size): 'beauty, last: from 1.23 samples per item ID (25% of
    users)', the smallest size whose C2 verdict (`gain_verdict`) agrees, or 'at no size tried'."""
    out = []
    for series, part in table.sort_values("samples_per_item").groupby("series", sort=False):
        holds = part[[str(v) == Verdict.AGREES.value for v in part.gain_verdict]]
        out.append(f"{series}: " + (f"from {holds.samples_per_item.min():.2f} samples per item ID "
                                    f"({100 * holds.train_user_fraction.min():.0f}% of users)" if len(holds) else
                                    "at no size tried"))
    return out
