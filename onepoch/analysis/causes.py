"""Per-seed effects for the probes, the causal controls and the data-size axis (issue 13).

Everything here turns runs' curves into one number per run (a jump, a drop, a ratio), then into an
`Effect` over seeds with its 95% interval (`onepoch.analysis.stats`), paired by seed where two
settings share a seed. Its bounds are in `onepoch.analysis.rules` (fixed before any result they judge
was read) and named here for the chapters:

- `A_JUMP` (`rules.CAUSES_A_JUMP`): an A-distance (range 0..2) "jumps" at the boundary when the 95%
  interval of its per-seed jump lies above this, and is "flat" when the interval lies below it (`at_most`).
- `UPDATE_RATIO` (`rules.UPDATE_RATIO`): a per-step update "jumps" when the 95% interval of (mean update
  over the first `window` steps of epoch 2) / (over the last `window` steps of epoch 1) lies above this.
- drops and gains of test AUC use `rules.MIN_EFFECT` / `rules.NO_EFFECT_MARGIN` like every chapter.
The ledger rules these decide are `rules.RULES`' 'causes-a-jump', 'causes-update-ratio', 'keeps-drop'
(C16a, b, d) and 'fresh-pass' (C16c); the claims' texts are in `claim_texts.CLAIMS`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from onepoch.analysis import rules
from onepoch.analysis.stats import Verdict, at_most, directional, equivalence, paired_effect, seed_effect
from onepoch.analysis.summary import change_text, each_run

A_JUMP = rules.CAUSES_A_JUMP
UPDATE_RATIO = rules.UPDATE_RATIO
_EPS = 1e-9


def around(frame: pd.DataFrame, by: list[str], metric: str, split: str, at: float = 1.0) -> pd.DataFrame:
    """Per run (by + seed): the metric's last value at epoch <= `at` ("before"), its first value after
    `at` ("after"), and `jump` = after - before (`drop` = before - after)."""
    out = []
    for labels, e, v in each_run(frame, by, metric, split):
        before, after = v[e <= at + _EPS], v[e > at + _EPS]
        if len(before) and len(after):
            out.append({**labels, "before": before[-1], "after": after[0],
                        "jump": after[0] - before[-1], "drop": before[-1] - after[0]})
    return pd.DataFrame(out)


def effects_of(per_run: pd.DataFrame, by: list[str], column: str) -> pd.DataFrame:
    """One row per setting: the Effect of `column` over seeds and the seed means of before/after."""
    out = []
    for key, part in per_run.groupby(by, sort=False, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        out.append({**dict(zip(by, key)), "effect": seed_effect(part[column]),
                    "before": part["before"].mean(), "after": part["after"].mean()})
    return pd.DataFrame(out)


def a_distance_jumps(frame: pd.DataFrame, by: list[str], metric: str = "a_distance") -> pd.DataFrame:
    """Jump of the A-distance at the epoch-2 boundary per split (incoming batches, fixed training
    sample, test), with the verdicts `jumps` (interval above A_JUMP) and `flat` (below it)."""
    parts = []
    for split in ("incoming", "train", "test"):
        runs = around(frame, by, metric, split)
        if runs.empty:
            continue
        table = effects_of(runs, by, "jump").assign(split=split)
        table["jumps"] = [directional(e.ci, A_JUMP) for e in table["effect"]]
        table["flat"] = [at_most(e.ci, A_JUMP) for e in table["effect"]]
        parts.append(table)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def update_ratios(frame: pd.DataFrame, by: list[str], prefix: str = "update_mean:", window: int = 50) -> pd.DataFrame:
    """Per part: the Effect over seeds of (mean update, first `window` steps of epoch 2) / (last `window`
    steps of epoch 1), with the verdict `jumps` (interval above UPDATE_RATIO)."""
    rows = frame[frame["metric"].str.startswith(prefix)].copy()
    rows["part"] = rows["metric"].str[len(prefix):]
    per_run = []
    for key, run in rows.groupby([*by, "part", "seed"], sort=False, observed=True):
        spe = round(run["step"].iloc[-1] / run["epoch"].iloc[-1])
        s, v = run["step"].to_numpy(), run["value"].to_numpy(float)
        before = v[(s > spe - window) & (s <= spe)].mean()
        after = v[(s > spe) & (s <= spe + window)].mean()
        per_run.append({**dict(zip([*by, "part", "seed"], key)), "before": before, "after": after,
                        "ratio": after / before})
    table = effects_of(pd.DataFrame(per_run), [*by, "part"], "ratio")
    table["jumps"] = [directional(e.ci, UPDATE_RATIO) for e in table["effect"]]
    return table


def _matching(frame: pd.DataFrame, labels: dict) -> pd.DataFrame:
    """The rows of `frame` whose columns hold the values in `labels` (all of them)."""
    for col, value in labels.items():
        frame = frame[frame[col] == value]
    return frame


def control_runs(settings: dict, base, datasets, seeds, column: str) -> pd.DataFrame:
    """Curves of every named setting (label -> RunConfig changes) on every data set x seed, one sweep per
    setting, labelled in column `column` (plain strings, the settings' order: the chapters' tables follow it)."""
    from onepoch.runs import sweep  # here, not at the top: the runs package imports the analysis package

    return pd.concat([sweep([base.replace(dataset=d, **changes) for d in datasets], seeds=seeds).assign(**{column: label})
                      for label, changes in settings.items()], ignore_index=True)


def versus_reference(per_run: pd.DataFrame, by: list[str], reference) -> pd.DataFrame:
    """Per setting (`by`, its last column the one compared, e.g. ["dataset", "activation"]), from `around`'s
    per-run frame: `end_1` (seed mean of "before"), `vs_<reference>` (its "before" minus that of the
    `reference` value with the same other labels, paired by seed), `drop` (Effect of the drop over seeds),
    and the verdicts `same_level` (vs_<reference> within +-EQUIVALENCE_MARGIN) and `drops` (above MIN_EFFECT)."""
    *others, compared = by
    out = []
    for key, part in per_run.groupby(by, sort=False):
        labels = dict(zip(by, key))
        ref = _matching(per_run[per_run[compared] == reference], {c: labels[c] for c in others})
        level = paired_effect(part.set_index("seed")["before"], ref.set_index("seed")["before"])
        drop = seed_effect(part["drop"])
        out.append({**labels, "end_1": part["before"].mean(), f"vs_{reference}": level, "drop": drop,
                    "same_level": equivalence(level.ci, rules.EQUIVALENCE_MARGIN),
                    "drops": directional(drop.ci, rules.MIN_EFFECT)})
    return pd.DataFrame(out)


def control_effects(runs: pd.DataFrame, by: list[str], control: str, plain, at=1.0) -> pd.DataFrame:
    """For every value of the `control` column: the drop of test AUC at epoch `at` (a number, or a dict
    value -> epoch), its verdicts (`drops`: above MIN_EFFECT; `no_drop`: below NO_EFFECT_MARGIN), and the
    paired difference of drops (control - plain, by seed) against the `plain` value's runs."""
    out = []
    for value in runs[control].unique():
        where = at.get(value, 1.0) if isinstance(at, dict) else at
        per = around(runs[runs[control] == value], by, "auc", "test", where)
        base_at = at.get(plain, 1.0) if isinstance(at, dict) else at
        base = around(runs[runs[control] == plain], by, "auc", "test", base_at)
        for key, part in per.groupby(by, sort=False, observed=True):
            key = key if isinstance(key, tuple) else (key,)
            ref = _matching(base, dict(zip(by, key)))
            drop = seed_effect(part["drop"])
            diff = paired_effect(part.set_index("seed")["drop"], ref.set_index("seed")["drop"])
            out.append({**dict(zip(by, key)), control: value, "at": where, "before": part["before"].mean(),
                        "drop": drop, "vs_plain": diff, "n_seeds": len(part),
                        "drops": directional(drop.ci, rules.MIN_EFFECT),
                        "no_drop": at_most(drop.ci, rules.NO_EFFECT_MARGIN)})
    return pd.DataFrame(out)


def removes_drop(row, plain_row) -> Verdict:
    """A control removes the drop when the plain run drops ('drops' agrees) and the control does not
    ('no_drop' agrees); keeps it when both drop; not testable when the plain run does not drop."""
    if str(plain_row["drops"]) != Verdict.AGREES.value:
        return Verdict.NOT_TESTABLE
    if str(row["no_drop"]) == Verdict.AGREES.value:
        return Verdict.AGREES
    return Verdict.DISAGREES if str(row["drops"]) == Verdict.AGREES.value else Verdict.INCONCLUSIVE


def keeps_drop(row, plain_row) -> Verdict:
    """The rule 'keeps-drop' (C16a, b, d): agrees when the control still drops, disagrees when it removes
    the drop -- `removes_drop` with agrees and disagrees swapped."""
    removed = removes_drop(row, plain_row)
    return {Verdict.AGREES: Verdict.DISAGREES, Verdict.DISAGREES: Verdict.AGREES}.get(removed, removed)


def effect_text(table: pd.DataFrame, columns: dict, changes=()) -> pd.DataFrame:
    """A table for a chapter: `columns` maps a heading to a column; Effects become 'mean [low, high]'.
    Columns named in `changes` hold drops (or differences of drops) and are shown as the signed change
    they are ('-0.0032 [...]' when test AUC fell: `summary.change_text`)."""
    show = {}
    for head, col in columns.items():
        if col in changes:
            show[head] = [change_text(v) for v in table[col]]
            continue
        show[head] = [v.text() if hasattr(v, "text") else (f"{v:.4g}" if isinstance(v, float) else str(v))
                      for v in table[col]]
    return pd.DataFrame(show)


def samples_per_id(train: dict, field: str = "item_id") -> float:
    """Training samples per distinct ID of `field`: how often the model sees an ID in one epoch."""
    ids = np.asarray(train[field])
    return len(ids) / max(1, len(np.unique(ids)))
