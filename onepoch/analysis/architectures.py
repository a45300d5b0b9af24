"""The architectures chapter's measurements: the one-epoch phenomenon across CTR models.

Every architecture (onepoch.models.ARCHITECTURES) is trained on the same data
sets with the same seeds, so its numbers pair with the paper's model's seed
by seed. Per run (`analysis.measures.per_run`): the drop of test AUC at each
epoch boundary and where the best evaluation falls; per (data set,
architecture): effects with 95% intervals and the verdicts of the book's
rules (`analysis.rules`: 'drop' = interval above MIN_EFFECT AUC, 'no-drop' =
interval below the NO_EFFECT_MARGIN, fixed up front); fine-tuning arms after
epoch 1; parameter counts and the cost of an epoch; and the ledger rows C3,
C14 and C3b (the structural hypothesis).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from onepoch.analysis import claims, ledger, measures, rules, summary
from onepoch.analysis.claim_texts import CLAIMS
from onepoch.analysis.stats import Effect, Verdict, all_of, paired_effect, pooled
from onepoch.analysis.verdict_rows import Part, record_parts, untestable
from onepoch.config import RunConfig
from onepoch.models import HAS_MLP, FieldLayout, build_model, parameter_counts
from onepoch.runs.cache import ResultCache
from onepoch.runs.runner import data_checksum, expand, load_data, result_key, sweep

BY = ["data", "model"]
STRUCTURAL = CLAIMS["C3b"]  # the claim's text, as the ledger quotes it
STRUCTURAL_RULE = rules.RULES["structural"]


def grid(bases: dict[str, RunConfig], architectures, seeds, n_jobs=None, probes: dict | None = None,
         **changes) -> pd.DataFrame:
    """Curves of every architecture on every data set (`bases`: label -> RunConfig), with a `data` column.
    `probes`: model name -> probe factories for that model's runs (probes only read: same curves)."""
    probes = probes or {}
    frames = []
    for label, base in bases.items():
        plain = [a for a in architectures if a not in probes]
        if plain:
            frames.append(sweep([base.replace(model=a, **changes) for a in plain], seeds=seeds, n_jobs=n_jobs)
                          .assign(data=label))
        for a in [a for a in architectures if a in probes]:
            frames.append(sweep([base.replace(model=a, **changes)], seeds=seeds, n_jobs=n_jobs, probes=probes[a])
                          .assign(data=label))
    return pd.concat(frames, ignore_index=True)


def _boundaries(frame: pd.DataFrame) -> range:
    return range(1, int(np.floor(frame["epoch"].max() + 1e-9)))


def per_run(frame: pd.DataFrame, by=BY) -> pd.DataFrame:
    """One row per run and boundary k -> k + 1 (column `boundary`), `measures.per_run`'s numbers."""
    return pd.concat([measures.per_run(frame, list(by), boundary=k).assign(boundary=k) for k in _boundaries(frame)],
                     ignore_index=True)


def effects(frame: pd.DataFrame, by=BY) -> pd.DataFrame:
    """`measures.effects` at every boundary (column `boundary`)."""
    return pd.concat([measures.effects(frame, list(by), boundary=k).assign(boundary=k) for k in _boundaries(frame)],
                     ignore_index=True)


def versus_dnn(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (data, model, boundary): the model's drop minus the paper's model's, paired by seed (`Effect`)."""
    rows = []
    for (data, boundary), part in runs.groupby(["data", "boundary"], sort=False):
        dnn = part[part.model == "dnn"].set_index("seed")["drop"]
        for model, other in part[part.model != "dnn"].groupby("model", sort=False):
            rows.append(dict(data=data, model=model, boundary=boundary,
                             versus_dnn=paired_effect(other.set_index("seed")["drop"], dnn)))
    return pd.DataFrame(rows)


def reads_as(drops, no_drop) -> str:
    """One decision from the two one-sided verdicts on a change: 'drops', 'does not drop', or 'unclear'
    (neither interval clears its bound)."""
    if drops == Verdict.AGREES:
        return "drops"
    if no_drop == Verdict.AGREES:
        return "does not drop"
    return "unclear"


def drop_table(table: pd.DataFrame, vs: pd.DataFrame) -> pd.DataFrame:
    """The effects at every boundary as text, the decision first: what the change reads as, the signed
    change (minus: test AUC fell) with its interval, the change minus dnn's (paired by seed), the placebo z."""
    merged = table.merge(vs, on=["data", "model", "boundary"], how="left")
    return pd.DataFrame({
        "data": merged.data, "model": merged.model, "boundary": [f"{b} -> {b + 1}" for b in merged.boundary],
        "reads as": [reads_as(d, n) for d, n in zip(merged.drop_verdict, merged.no_drop_verdict)],
        "change [95% CI]": [summary.change_text(e) for e in merged["drop"]],
        "vs dnn [95% CI]": [summary.change_text(e) if isinstance(e, Effect) else "-" for e in merged.versus_dnn],
        "placebo z [95% CI]": [e.text(1) for e in merged.z],
        "AUC end of epoch 1": merged.end_1.round(4),
        "seeds": merged.n_seeds})


def best_epochs(frame: pd.DataFrame, runs: pd.DataFrame, by=BY) -> pd.DataFrame:
    """Where the seed-mean test AUC peaks, and the best evaluation of each seed (mean, min, max epoch)."""
    peaks = summary.peak_epochs(frame, list(by))
    first = runs[runs.boundary == 1]
    spread = first.groupby(list(by), sort=False)["best_epoch"].agg(["mean", "min", "max"]).reset_index()
    spread = spread.rename(columns={"mean": "best_epoch_mean", "min": "best_epoch_min", "max": "best_epoch_max"})
    seeds_in_1 = first.groupby(list(by), sort=False)["peak_in_epoch1"].sum().rename("seeds_peak_in_epoch1")
    return peaks.merge(spread, on=list(by)).merge(seeds_in_1.reset_index(), on=list(by))


def finetune_effects(frame: pd.DataFrame) -> pd.DataFrame:
    """Effects at the 1 -> 2 boundary per (data, model, finetune) arm."""
    return measures.effects(frame, ["data", "model", "finetune"], boundary=1)


def costs(bases: dict[str, RunConfig], architectures, seeds) -> pd.DataFrame:
    """Parameters (embedding / other / total) and training seconds per epoch (mean over the cached runs of
    `seeds`: each run's whole training time, evaluations included, over its epochs)."""
    store, rows = ResultCache(), []
    for label, base in bases.items():
        data = load_data(base)
        layout = FieldLayout.of(data.train, base.fields)
        for a in architectures:
            config = base.replace(model=a)
            counts = parameter_counts(build_model(config, data.vocab_size, layout))
            seconds = []
            for c in expand([config], seeds):
                hit = store.get(result_key(c, data_checksum(c)))
                if hit is None and a == "din":  # the chapter's din runs carry the attention probe
                    from onepoch.probes.attention import AttentionSpreadProbe
                    hit = store.get(result_key(c, data_checksum(c), [AttentionSpreadProbe().cache_key]))
                if hit is not None and "seconds" in hit:
                    seconds.append(hit["seconds"] / c.epochs)
            rows.append(dict(data=label, model=a, **counts,
                             seconds_per_epoch=float(np.mean(seconds)) if seconds else np.nan))
    return pd.DataFrame(rows)


# -- ledger rows ------------------------------------------------------------------------------

def record_c3(frame: pd.DataFrame, chapter: str) -> dict:
    """C3 on every data set of the chapter: logistic regression does not drop ('no-drop')."""
    return claims.record_drop("C3", frame[frame.model == "lr"], ["data"], chapter, rule="no-drop")


def record_c14(ft: pd.DataFrame, chapter: str) -> dict:
    """C14 per (data, model): only the MLP part trained drops ('drop'), only the embeddings does not
    ('no-drop'); not testable where the run training everything ('none' arm) shows no drop."""
    parts = claims.finetune_parts(ft, ["data", "model"], everything="none")
    evidence = ("Architectures: for fm the 'MLP' part is its first-order weights and bias. The baseline is the run "
                "that keeps training everything with its optimizer.")
    return record_parts("C14", parts, chapter, "finetune", evidence=evidence, what="drop of the first deciding arm")


def structural_parts(table: pd.DataFrame, boundary: int = 1) -> list[Part]:
    """The structural hypothesis per (data set, model without an MLP), by STRUCTURAL_RULE."""
    parts = []
    for data, part in table[table.boundary == boundary].groupby("data", sort=False):
        with_mlp = part[part.model.map(HAS_MLP)]
        dropping = [r.model for r in with_mlp.itertuples() if r.drop_verdict == Verdict.AGREES]
        for _, r in part[~part.model.map(HAS_MLP)].iterrows():
            label = f"{data} {r.model}"
            if not dropping:
                parts.append(untestable(label, "baseline-drops fails: no model with an MLP drops here", r["drop"]))
            else:
                p = claims.drop_part(r, label, "no-drop")
                parts.append(Part(p.label, p.verdict, p.effect, p.text + f" (with an MLP, dropping: {', '.join(dropping)})"))
    return parts


def record_structural(table: pd.DataFrame, chapter: str) -> dict:
    """Ledger row C3b: the structural hypothesis (a claim beyond the paper's list, so written here)."""
    parts = structural_parts(table)
    verdict = all_of(p.verdict for p in parts)
    testable = [p for p in parts if p.verdict != Verdict.NOT_TESTABLE and p.effect is not None]
    shown = pooled([p.effect for p in testable]) if len(testable) > 1 else (testable[0].effect if testable else None)
    number = lambda x: float(x) if x is not None and math.isfinite(x) else None  # noqa: E731
    row = dict(claim="C3b", paper_says=STRUCTURAL, verdict=str(verdict), chapter=chapter,
               measured="; ".join(f"{p.text} [{p.verdict}]" for p in parts) or "nothing measured",
               evidence=(f"Rule structural: {STRUCTURAL_RULE}. Effect shown: drop of the models without an MLP, "
                         f"pooled over {len(testable)} testable cases." if testable else
                         f"Rule structural: {STRUCTURAL_RULE}."),
               effect=None if shown is None else number(shown.estimate),
               ci=None if shown is None else [number(x) for x in shown.ci],
               n_seeds=None if shown is None else shown.n_seeds, rule="structural")
    ledger.record(**row)
    return {**row, "effect_of": f"drop of the models without an MLP, pooled over {len(testable)} testable cases"
            if testable else ""}


# -- the chapter's settings and fine-tuning arms -----------------------------------------------

FINETUNE_ARMS = {"none": "everything", "embedding": "only embeddings", "mlp": "only MLP / interactions"}


def base_configs(datasets, syn_zipfs, epochs: int, eval_every: int, synthetic_sizes: dict, evaluation: dict,
                 real: dict | None = None) -> dict[str, RunConfig]:
    """The chapter's base configuration per data label: each real data set (`real`: its extra RunConfig
    changes, e.g. max_users), then "synthetic s=<z>" per Zipf exponent in `syn_zipfs`, with `synthetic_sizes`
    (syn_samples, syn_users, syn_items, max_history), a 5000-sample training evaluation and ten evaluations an
    epoch whatever its size (`multi_epoch.eval_every_for`). `evaluation`: the RunConfig fields every base shares
    (eval_schedule, eval_train)."""
    from onepoch.analysis.multi_epoch import eval_every_for
    from onepoch.data import synthetic

    out = {d: RunConfig(dataset=d, epochs=epochs, eval_every=eval_every, **evaluation, **(real or {}))
           for d in datasets}
    for z in syn_zipfs:
        out[f"synthetic s={z:g}"] = RunConfig(
            dataset="synthetic", **synthetic_sizes, syn_zipf=z, epochs=epochs, train_eval_size=5000, **evaluation,
            eval_every=eval_every_for(synthetic.sizes(synthetic_sizes["syn_samples"])[0]))
    return out


def finetune_runs(runs: pd.DataFrame, bases: dict[str, RunConfig], models, seeds, epochs: int,
                  n_jobs=None) -> pd.DataFrame:
    """Curves of the fine-tuning arms, column `finetune`: "none" (the chapter's `runs` of `models`, cut after
    `epochs`: everything keeps training), then "embedding" and "mlp" (only that part trains after epoch 1)."""
    arms = [runs[runs.model.isin(models) & (runs.epoch <= epochs + 1e-9)].assign(finetune="none")]
    for part in ("embedding", "mlp"):
        arms.append(grid(bases, models, seeds, n_jobs=n_jobs, epochs=epochs, finetune=part).assign(finetune=part))
    return pd.concat(arms, ignore_index=True)


def finetune_table(ft_runs: pd.DataFrame) -> pd.DataFrame:
    """`finetune_effects`, data sets and models in order of first appearance, the arms in FINETUNE_ARMS order."""
    ft = finetune_effects(ft_runs)
    arm_order = {arm: i for i, arm in enumerate(FINETUNE_ARMS)}
    return ft.sort_values(["data", "model", "finetune"], key=lambda c: c.map(arm_order) if c.name == "finetune" else
                          c.map({v: i for i, v in enumerate(dict.fromkeys(c))}), kind="stable").reset_index(drop=True)


def finetune_readable(ft: pd.DataFrame) -> pd.DataFrame:
    """The fine-tuning effects as text: the part trained after epoch 1, what the change reads as, the signed
    change (minus: test AUC fell) with its 95% interval, the seeds."""
    return pd.DataFrame({
        "data": ft.data, "model": ft.model, "trained after epoch 1": ft.finetune.map(FINETUNE_ARMS),
        "reads as": [reads_as(d, n) for d, n in zip(ft.drop_verdict, ft.no_drop_verdict)],
        "change [95% CI]": [summary.change_text(e) for e in ft["drop"]], "seeds": ft.n_seeds})


# -- the chapter's sentences ------------------------------------------------------------------

def spread_at_end(spread: pd.DataFrame) -> pd.DataFrame:
    """Per data label and field, the last value of each seed's curve in `spread` (columns data, field, seed, step,
    value), then its mean, min and max over seeds."""
    end = spread.groupby(["data", "field", "seed"]).apply(lambda r: r.sort_values("step").value.iloc[-1],
                                                          include_groups=False)
    return end.groupby(["data", "field"]).agg(["mean", "min", "max"]).reset_index()


def spread_text(end: pd.DataFrame, vs: pd.DataFrame) -> str:
    """The spread at the end of training (`spread_at_end`), then DIN's change at epoch 2 minus dnn's, same seed
    (`versus_dnn`)."""
    din_vs = vs[(vs.model == "din") & (vs.boundary == 1)]
    return ("At the end of training the spread is " + "; ".join(
        f"{r.data} {r.field}: {r['mean']:.3f} ({r['min']:.3f}-{r['max']:.3f} over seeds)" for _, r in end.iterrows())
        + ". DIN's change at epoch 2 minus dnn's, same seed (minus: DIN falls further): " + "; ".join(
        f"{r.data}: {summary.change_text(r.versus_dnn)}" for r in din_vs.itertuples()) + ".")


def boundary_text(table: pd.DataFrame, peaks: pd.DataFrame, n_seeds: int, epochs: int, quick: bool) -> str:
    """At the 1 -> 2 boundary (`effects` table): how many cases with and without an MLP drop, how many without
    are shown not to drop, how many are not testable; then in how many the seed-mean test AUC peaks within
    epoch 1 (`peaks`: `best_epochs`)."""
    b1 = table[table.boundary == 1]
    with_mlp, without = b1[b1.model.map(HAS_MLP)], b1[~b1.model.map(HAS_MLP)]

    def agrees(col) -> int:
        return int((col.astype(str) == "agrees").sum())

    return (f"At the 1 -> 2 boundary, {agrees(with_mlp.drop_verdict)} of {len(with_mlp)} (model with an MLP, data set) "
            f"cases drop (interval above {rules.MIN_EFFECT} AUC) and {agrees(without.drop_verdict)} of {len(without)} "
            f"cases without an MLP do; {agrees(without.no_drop_verdict)} of those {len(without)} are shown not to drop "
            f"(interval below {rules.NO_EFFECT_MARGIN}); {int((b1.untestable != '').sum())} of {len(b1)} cases are not "
            f"testable (the model does not learn). The seed-mean test AUC peaks within epoch 1 in "
            f"{int(peaks.peak_in_epoch1.sum())} of {len(peaks)} cases ({n_seeds} seeds, {epochs} epochs"
            f"{', quick mode' if quick else ''}).")


def rows_text(rows: list[dict]) -> str:
    """The chapter's ledger rows, one `verdict_rows.headline` paragraph each."""
    from onepoch.analysis.verdict_rows import headline

    return "\n\n".join(["Ledger rows of this chapter:"] + [headline(r) for r in rows])
