"""The size axis on real data (chapter `data_size`): train on a share of the training users, the test
set fixed, and ask from which size on "best after one epoch" (C2, rule C2-gain) holds.

- `configs`: one RunConfig per data set x construction x share of users;
- `with_axis_columns`: the sweep's frame with the axis columns even where a setting did not vary;
- `effects_table`: per setting, `measures.setting_effects` (later-epoch gain, drop at the epoch-2
  boundary, their verdicts) with the sizes (samples per ID), the gain's and drop's numbers for a chart
  and the `series` (data set, construction) each size belongs to;
- `onsets`: per series, the smallest size at which C2 agrees;
- `size_row` / `sizes`: per config, the training samples its share of the users keeps and the samples
  per item ID and per user ID (the x-axis);
- `record_c2` / `summary_text`: C2 over all sizes ('every-setting'), its ledger row and the chapter's
  computed summary.
"""
from __future__ import annotations

import pandas as pd

from onepoch.analysis import causes, ledger, measures, stats
from onepoch.analysis.claim_texts import CLAIMS
from onepoch.analysis.stats import Verdict
from onepoch.config import RunConfig
from onepoch.runs.runner import load_data
from onepoch.train.controls import training_users_subset

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


def size_row(config: RunConfig, train: dict) -> dict:
    """The size of `config`'s share of the users of `train` (arrays per column, with `user_raw`,
    `item_id` and `user_id`): its samples and samples per item ID and per user ID."""
    keep = training_users_subset(train["user_raw"], config.train_user_fraction, config.data_seed)
    part = {k: v[keep] for k, v in train.items()}
    return dict(dataset=config.dataset, construction=config.construction,
                train_user_fraction=config.train_user_fraction, samples=len(keep),
                samples_per_item=causes.samples_per_id(part, "item_id"),
                samples_per_user=causes.samples_per_id(part, "user_id"))


def sizes(configs, load=None) -> pd.DataFrame:
    """One `size_row` per config, on its training data (`load(config)`; by default `load_data(config).train`)."""
    load = load or (lambda config: load_data(config).train)
    return pd.DataFrame([size_row(c, load(c)) for c in configs])


def _agreeing(verdicts) -> int:
    return sum(str(v) == Verdict.AGREES.value for v in verdicts)


def record_c2(table: pd.DataFrame, chapter: str) -> Verdict:
    """C2 (rule 'C2-gain') over every setting of `effects_table`: agrees when it agrees at every size; the
    effect quoted is the first series' gain at its largest share of users. Writes the ledger row and
    returns the verdict."""
    verdict = stats.all_of(table.gain_verdict)
    largest = table[table.train_user_fraction == table.train_user_fraction.max()].iloc[0]
    ledger.record("C2", CLAIMS["C2"], measured="; ".join(
        f"{r.series} at {100 * r.train_user_fraction:.0f}% of users ({r.samples_per_item:.2f} samples per item "
        f"ID): gain {r.gain.text()}" for r in table.itertuples()),
        verdict=verdict, chapter=chapter, effect=largest.gain.estimate, ci=largest.gain.ci,
        n_seeds=int(largest.n_seeds), rule="C2-gain",
        evidence="Size axis on real data: share of training users varied, test set fixed; "
                 "'every-setting' over sizes (effect quoted: the first series at its largest size).")
    return verdict


def summary_text(table: pd.DataFrame, n_seeds: int) -> str:
    """The chapter's computed summary: in how many settings of `effects_table` more epochs do not beat one,
    the `onsets`, C2's verdict over all sizes and in how many settings the drop is significant."""
    return (f"**Computed summary.** Over {len(table)} settings (data set x construction x share of users, "
            f"{n_seeds} seeds each), more epochs do not beat one epoch in {_agreeing(table.gain_verdict)}; "
            + "; ".join(onsets(table)) + f". C2 on the size axis: {stats.all_of(table.gain_verdict)}. The drop at "
            f"the boundary is significant in {_agreeing(table.drop_verdict)} of them.")
