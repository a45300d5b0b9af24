"""The paper's claims (C1-C15) judged from runs' curves, one ledger row each.

Every function takes the curves a chapter ran (seeds as rows), measures the
per-seed effects the claim rests on (`measures`), decides a verdict per data
set or setting by a rule of `rules.RULES`, and records one row (`verdict_rows`)
with the effect, its 95% interval, the number of seeds and the rule id. The
rows are returned as dicts, so a chapter can quote them. Claims beyond the
paper (C2 on remedies and data size, C7b, C8b, C10b) are in `claims_beyond`.
"""
from __future__ import annotations

import pandas as pd

from onepoch.analysis import rules
from onepoch.analysis.claim_texts import CLAIMS  # noqa: F401  (re-exported: chapters quote claims.CLAIMS)
from onepoch.analysis.measures import effects, paired_difference, per_run, setting_effects
from onepoch.analysis.stats import Effect, all_of, at_most, directional, equivalence, precondition, seed_effect
from onepoch.analysis.verdict_rows import (  # noqa: F401
    Part, headline, measured_text, record_parts, rows_table, show_rows, untestable, verdict_counts,
)


def _label(row, by) -> str:
    return " ".join(str(row[c]) for c in by)


def drop_text(row, label: str) -> str:
    return (f"{label}: end of epoch 1 {row['end_1']:.4f}, drop {row['drop'].text()}, placebo z "
            f"{row['z'].text(1)}, {row['n_seeds']} seeds")


def drop_part(row, label: str, rule: str = "drop") -> Part:
    """One setting's verdict under 'drop', 'drop+sharp' or 'no-drop' (not testable if the model does not learn)."""
    if row["untestable"]:
        return untestable(label, f"learns fails: {row['untestable']}", row["drop"])
    verdict = {"drop": row["drop_verdict"], "no-drop": row["no_drop_verdict"],
               "drop+sharp": all_of([row["drop_verdict"], row["sharp_verdict"]])}[rule]
    return Part(label, verdict, row["drop"], drop_text(row, label))


def record_drop(claim: str, frame: pd.DataFrame, by: list[str], chapter: str, rule: str = "drop+sharp",
                evidence: str = "") -> dict:
    """A claim that test AUC drops at the epoch-2 boundary (rule 'drop+sharp' or 'drop') or does not
    ('no-drop'), in every setting of `by`; the row shows the drop pooled over the testable settings."""
    table = effects(frame, by)
    parts = [drop_part(r, _label(r, by), rule) for _, r in table.iterrows()]
    return record_parts(claim, parts, chapter, rule, evidence, pool=True,
                        what="test AUC drop at the epoch-2 boundary")


def record_one_epoch(frame: pd.DataFrame, by: list[str], chapter: str, evidence: str = "") -> dict:
    """C2 by the one rule 'C2-gain': per seed, best later end-of-epoch AUC minus end-of-epoch-1 AUC."""
    table = effects(frame, by)
    parts = []
    for _, r in table.iterrows():
        label = _label(r, by)
        if r["untestable"]:
            parts.append(untestable(label, f"learns fails: {r['untestable']}", r["gain"]))
            continue
        parts.append(Part(label, r["gain_verdict"], r["gain"],
                          f"{label}: later epochs minus epoch 1 {r['gain'].text()}; best evaluation within epoch 1 "
                          f"for {r['peaks_in_epoch1']} of {r['n_seeds']} seeds"))
    return record_parts("C2", parts, chapter, "C2-gain", evidence, pool=True,
                        what="best end of a later epoch minus end of epoch 1, test AUC")


def baseline_label(study, base) -> str | None:
    """The setting of a factor study that leaves `base` unchanged (the baseline), or None."""
    for label, changes in study.factor.settings.items():
        if base.replace(**changes) == base:
            return label
    return None


def _study_effects(study):
    name = study.factor.name
    curves = study.curves.assign(**{name: study.curves[name].astype(str)})
    return name, per_run(curves, ["dataset", name])


def keep_drop_parts(study, base, extra=None, keep: bool = True) -> list[Part]:
    """Per data set and setting of a factor study: 'drop' (the setting keeps the drop; left out with
    `keep=False`), not testable where the baseline setting shows no drop. `extra(runs, where, baseline,
    label)` returns a (further) verdict and its text per setting."""
    name, runs = _study_effects(study)
    base_label = baseline_label(study, base)
    parts = []
    for ds, part in runs.groupby("dataset", sort=False):
        table = setting_effects(part, ["dataset", name]).set_index(name)
        if base_label is None or base_label not in table.index:
            parts.append(untestable(f"{ds} {name}", "baseline-drops fails: the study has no baseline setting"))
            continue
        b = table.loc[base_label]
        why = b["untestable"] or precondition(baseline_drop=b["drop_verdict"])
        for label, r in table.iterrows():
            if label == base_label:
                continue
            text = f"{ds} {name}={label}"
            if why:
                parts.append(untestable(text, f"baseline-drops fails: {why} (baseline drop {b['drop'].text()})",
                                        r["drop"]))
                continue
            verdicts, body = ([r["drop_verdict"]] if keep else []), drop_text(r, text)
            if extra is not None:
                v, more = extra(part, part[name] == label, part[name] == base_label, text)
                verdicts.append(v)
                body += "; " + more
            parts.append(Part(text, all_of(verdicts), r["drop"], body))
    return parts


def _same_drop(runs, where, baseline, text):
    diff = paired_difference(runs, "drop", where, baseline)
    return equivalence(diff.ci, rules.EQUIVALENCE_MARGIN), f"drop minus baseline's {diff.text()}"


def _no_help(runs, where, baseline, text):
    diff = paired_difference(runs, "best", where, baseline)
    return at_most(diff.ci, rules.NO_EFFECT_MARGIN), f"best AUC minus baseline's {diff.text()}"


_EXTRA = {"keeps-drop": None, "no-influence": _same_drop, "no-help": _no_help}


def _record_factor(claim: str, studies, base, chapter: str, rule: str) -> dict:
    parts = [p for s in studies for p in keep_drop_parts(s, base, extra=_EXTRA[rule])]
    return record_parts(claim, parts, chapter, rule, pick="min", what="smallest drop among the settings")


def record_keeps_drop(claim: str, studies, base, chapter: str) -> dict:
    """C4, C5, C6: every setting of the factors keeps the drop (where the baseline drops at all); for a claim
    of no influence (`rules.FACTOR_RULE`: C4, C5) the drop must also equal the baseline's (equivalence)."""
    return _record_factor(claim, studies, base, chapter, rules.FACTOR_RULE.get(claim, "keeps-drop"))


def record_no_help(claim: str, studies, base, chapter: str) -> dict:
    """C8: weight decay and dropout neither remove the drop nor raise the best AUC (paired by seed)."""
    return _record_factor(claim, studies, base, chapter, "no-help")


def _lower(runs, where, baseline, column="best"):
    diff = paired_difference(runs, column, where, baseline)
    return at_most(diff.ci, -rules.MIN_EFFECT), diff


def record_optimizers(frame: pd.DataFrame, chapter: str, by=("dataset", "optimizer", "lr"), claim: str = "C7",
                      evidence: str = "", tiny: float = 1e-6) -> dict:
    """C7: fast optimizers (Adam/RMSprop at lr >= 1e-3) drop; SGD and lr <= `tiny` do not, at a cost in AUC."""
    by = list(by)
    runs = per_run(frame, by)
    table = setting_effects(runs, by)
    parts = []
    for ds, part in table.groupby("dataset", sort=False):
        rows = runs[runs.dataset == ds]
        ref = (rows.optimizer == "adam") & (rows.lr == 1e-3)
        for _, r in part.iterrows():
            label = f"{ds} {r['optimizer']} lr={r['lr']:g}"
            if r["optimizer"] in ("adam", "rmsprop") and r["lr"] >= 1e-3:
                parts.append(drop_part(r, label, "drop"))
            elif r["optimizer"] == "sgd" or r["lr"] <= tiny:
                if not ref.any():
                    parts.append(untestable(label, "no Adam lr=1e-3 run to compare with"))
                    continue
                lower, diff = _lower(rows, (rows.optimizer == r["optimizer"]) & (rows.lr == r["lr"]), ref)
                verdict = all_of([at_most(r["drop"].ci, rules.NO_EFFECT_MARGIN), lower])
                parts.append(Part(label, verdict, r["drop"], drop_text(r, label)
                                  + f"; best AUC minus Adam 1e-3's {diff.text()}"))
    return record_parts(claim, parts, chapter, "optimizers", evidence, what="drop of the first setting deciding")


def record_long_tail(shares: pd.DataFrame, chapter: str, limit: float = rules.LONG_TAIL_SHARE) -> dict:
    """C9 from a table with columns dataset, bottom_share (share of occurrences of the rarest 50% of IDs)
    and its 95% interval low, high (`onepoch.data.bottom_share_interval`: a bootstrap over users)."""
    missing = {"bottom_share", "low", "high"} - set(shares.columns)
    if missing:
        raise ValueError(f"record_long_tail needs columns {sorted(missing)}: compute them with "
                         "onepoch.data.bottom_share_interval(data)")
    parts = [Part(r.dataset, at_most((r.low, r.high), limit),
                  Effect(float(r.bottom_share), float(r.low), float(r.high), 0, "bootstrap over users"),
                  f"{r.dataset}: {100 * r.bottom_share:.1f}% of occurrences "
                  f"[{100 * r.low:.1f}%, {100 * r.high:.1f}%]") for r in shares.itertuples()]
    return record_parts("C9", parts, chapter, "long-tail", pick="max",
                        what="share of occurrences carried by the rarest 50% of IDs (95% interval: bootstrap "
                             "over users)")


def record_sparsity(study, base, chapter: str) -> dict:
    """C10: filter and hash at every m weaken the drop and lower the best AUC (paired by seed)."""
    def weakens_lowers(runs, where, baseline, text):
        weaker = paired_difference(runs, "drop", baseline, where)  # baseline drop minus the setting's
        lower, diff = _lower(runs, where, baseline)
        return (all_of([directional(weaker.ci, rules.MIN_EFFECT), lower]),
                f"drop smaller by {weaker.text()}, best AUC minus baseline's {diff.text()}")

    parts = keep_drop_parts(study, base, extra=weakens_lowers, keep=False)
    return record_parts("C10", parts, chapter, "weakens+lowers", what="drop of the first setting deciding")


def record_fields(study, base, without: str, chapter: str) -> dict:
    """C11: without the fine-grained fields there is no drop, and the best AUC is lower (paired by seed)."""
    name, runs = _study_effects(study)
    base_label = baseline_label(study, base)
    parts = []
    for ds, part in runs.groupby("dataset", sort=False):
        table = setting_effects(part, ["dataset", name]).set_index(name)
        b, r = table.loc[base_label], table.loc[without]
        label = f"{ds} {without}"
        why = b["untestable"] or precondition(baseline_drop=b["drop_verdict"])
        if why:
            parts.append(untestable(label, f"baseline-drops fails: {why}", r["drop"]))
            continue
        lower, diff = _lower(part, part[name] == without, part[name] == base_label)
        parts.append(Part(label, all_of([at_most(r["drop"].ci, rules.NO_EFFECT_MARGIN), lower]), r["drop"],
                          drop_text(r, label) + f"; best AUC minus all fields' {diff.text()}"))
    return record_parts("C11", parts, chapter, "removes+lowers", what="drop without the fields")


# -- why the second epoch (chapter why_second_epoch) -------------------------------------------

def _jump(runs: pd.DataFrame):
    """Per-seed jump (first evaluation after the boundary minus end of epoch 1) as an Effect."""
    return seed_effect(-runs["drop"])


def record_a_distance(ad: pd.DataFrame, per_field: pd.DataFrame, quiet: pd.DataFrame, chapter: str,
                      setting: str = "setting") -> dict:
    """C12 from A-distance curves: `ad` (all fields, train and test), `per_field` (train, column `field`),
    `quiet` (settings without the phenomenon, column `setting`)."""
    margin, parts = rules.A_DISTANCE_JUMP, []
    for split in ("train", "test"):
        runs = per_run(ad, ["dataset"], metric="a_distance", split=split)
        for ds, part in runs.groupby("dataset", sort=False):
            jump = _jump(part)
            verdict = directional(jump.ci, margin) if split == "train" else at_most(jump.ci, margin)
            parts.append(Part(f"{ds} {split}", verdict, jump, f"{ds} {split}: jump {jump.text(3)}"))
    fields = per_run(per_field, ["dataset", "field"], metric="a_distance", split="train").assign(
        jump=lambda t: -t["drop"])
    for ds, part in fields.groupby("dataset", sort=False):
        wide = part.pivot_table(index="seed", columns="field", values="jump")
        fine = wide[[c for c in ("item_id", "hist_item_ids") if c in wide]].max(axis=1)
        coarse = wide[[c for c in ("cat_id", "hist_cat_ids") if c in wide]].max(axis=1)
        diff = seed_effect(fine - coarse)
        parts.append(Part(f"{ds} fields", directional(diff.ci, 0.0), diff,
                          f"{ds}: largest item-ID field jump minus largest category field jump {diff.text(3)}"))
    runs = per_run(quiet, ["dataset", setting], metric="a_distance", split="train")
    for key, part in runs.groupby(["dataset", setting], sort=False):
        jump = _jump(part)
        parts.append(Part(" ".join(map(str, key)), at_most(jump.ci, margin), jump,
                          f"{' '.join(map(str, key))} (no phenomenon expected): train jump {jump.text(3)}"))
    return record_parts("C12", parts, chapter, "a-distance", "A-distance of pooled embeddings, logistic-regression "
                        "probe.", what="train A-distance jump")


def record_update_jumps(moves: pd.DataFrame, chapter: str, window: int = 50, by=("dataset",)) -> dict:
    """C13 from ParamChangeProbe curves: every FC layer's update jumps at the boundary, the embedding's
    (rows in the batch) does not."""
    from onepoch.analysis.summary import update_ratios

    ratios = update_ratios(moves, list(by), window)
    parts = []
    for key, part in ratios.groupby([*by, "part"], sort=False):
        name = key[-1]
        if not (name.startswith("fc") or name == "embedding (batch rows)"):
            continue  # the whole-table number is shown in the chapter, not judged
        ratio = seed_effect(part["ratio"])
        verdict = (directional if name.startswith("fc") else at_most)(ratio.ci, rules.UPDATE_RATIO)
        label = " ".join(map(str, key))
        parts.append(Part(label, verdict, ratio, f"{label}: update x{ratio.text(2)} after the boundary"))
    return record_parts("C13", parts, chapter, "update-ratio", f"Windows of {window} steps either side.",
                        what="update ratio, first deciding part")


def finetune_parts(table: pd.DataFrame, groups: list[str], everything: str = "all") -> list[Part]:
    """C14's parts per group (e.g. data set, or data set and model) of an effects table with a `finetune`
    column: only the MLP trained drops ('drop'), only the embeddings does not ('no-drop'); not testable
    where the `everything` arm (training every part) shows no drop."""
    parts = []
    for key, part in table.groupby(groups, sort=False):
        arms = part.set_index("finetune")
        why = None
        if everything in arms.index:
            why = arms.loc[everything, "untestable"] or precondition(baseline_drop=arms.loc[everything, "drop_verdict"])
        for arm, rule in (("mlp", "drop"), ("embedding", "no-drop")):
            if arm not in arms.index:
                continue
            label = " ".join(map(str, key if isinstance(key, tuple) else (key,))) + f" only {arm} trained"
            r = arms.loc[arm]
            parts.append(untestable(label, f"baseline-drops fails: {why}", r["drop"]) if why
                         else drop_part(r, label, rule))
    return parts


def record_finetune(frame: pd.DataFrame, chapter: str, by=("dataset", "finetune")) -> dict:
    """C14 from runs fine-tuned from epoch 2 (column finetune: all, mlp, embedding)."""
    parts = finetune_parts(effects(frame, list(by)), ["dataset"])
    return record_parts("C14", parts, chapter, "finetune", what="drop of the first deciding arm")


def record_each_epoch(frame: pd.DataFrame, chapter: str, by=("dataset",)) -> dict:
    """C15: a drop at every later boundary, where the epoch-2 boundary drops at all."""
    by = list(by)
    last = int(frame["epoch"].max() + 1e-9)
    first = effects(frame, by).set_index(by[0])
    parts = []
    for k in range(2, last):
        for _, r in effects(frame, by, boundary=k).iterrows():
            ds = r[by[0]]
            label = f"{ds} epoch {k}->{k + 1}"
            why = first.loc[ds, "untestable"] or precondition(baseline_drop=first.loc[ds, "drop_verdict"])
            parts.append(untestable(label, f"baseline-drops fails at epoch 1->2: {why}", r["drop"]) if why
                         else drop_part(r, label, "drop"))
    return record_parts("C15", parts, chapter, "each-epoch", pick="min", what="smallest drop at a later boundary")
