"""The architectures chapter's measurements: the one-epoch phenomenon across CTR models.

Every architecture (onepoch.models.ARCHITECTURES) is trained on the same data
sets with the same seeds, so its numbers pair with the paper's model's seed
by seed. Per run: the drop of test AUC at each epoch boundary and the epoch
of the best test AUC; per (architecture, data set): those with 95% intervals
(onepoch.paired), fine-tuning arms after epoch 1, parameter counts and the
cost of an epoch; and the ledger rows C3, C14 and C3b.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from onepoch import ledger, paired, summary
from onepoch.config import RunConfig
from onepoch.models import ARCHITECTURES, HAS_MLP, build_model, parameter_counts
from onepoch.runs.cache import ResultCache
from onepoch.runs.runner import data_checksum, load_data, result_key, sweep

MARGIN = 0.002  # AUC: the equivalence margin of "no drop", fixed up front (= the book's floor for a sharp drop)
STRUCTURAL = ("(Sec. 5, structural) The phenomenon comes from the MLP: models that keep the embeddings but have "
              "no MLP (factorization machine, logistic regression) show no drop at the start of epoch 2, on data "
              "where the models with an MLP do.")
C3 = "Logistic regression does not show the phenomenon (Fig. 6)."
C14 = "Fine-tuning only the MLP after epoch 1 drops; freezing the MLP avoids the drop (Fig. 17)."


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


def per_seed(frame: pd.DataFrame, by=("data", "model")) -> pd.DataFrame:
    """One row per run and epoch boundary k -> k + 1: its drop, and the run's best epoch."""
    last = int(np.floor(frame["epoch"].max() + 1e-9))
    parts = [summary.boundary_drops(frame, list(by), epoch=k).assign(boundary=k) for k in range(1, last)]
    return pd.concat([p for p in parts if not p.empty], ignore_index=True)


def drop_effects(runs: pd.DataFrame, by=("data", "model")) -> pd.DataFrame:
    """Per (group, boundary): the mean drop with its interval and verdict ('positive' = AUC fell)."""
    return paired.effects(runs, [*by, "boundary"], "drop", MARGIN)


def versus_dnn(runs: pd.DataFrame, by=("data",)) -> pd.DataFrame:
    """Per (data, model, boundary): drop minus the paper's model's drop, same seed, with its interval."""
    diff = paired.paired_differences(runs, [*by, "boundary"], "model", "dnn", "drop")
    return paired.effects(diff, [*by, "model", "boundary"], "difference", MARGIN)


def best_epochs(frame: pd.DataFrame, runs: pd.DataFrame, by=("data", "model")) -> pd.DataFrame:
    """Where the seed-mean test AUC peaks, and the best epoch of the seeds (mean and range)."""
    peaks = summary.peak_epochs(frame, list(by))
    first = runs[runs.boundary == 1]
    spread = first.groupby(list(by), sort=False)["best_epoch"].agg(["mean", "min", "max"]).reset_index()
    spread = spread.rename(columns={"mean": "best_epoch_mean", "min": "best_epoch_min", "max": "best_epoch_max"})
    return peaks.merge(spread, on=list(by))


def finetune_effects(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop at the 1 -> 2 boundary per (data, model, finetune) arm, with interval and verdict."""
    runs = summary.boundary_drops(frame, ["data", "model", "finetune"], epoch=1)
    return paired.effects(runs, ["data", "model", "finetune"], "drop", MARGIN)


def costs(bases: dict[str, RunConfig], architectures, seeds) -> pd.DataFrame:
    """Parameters (embedding / other / total) and training seconds per epoch (mean over the cached
    runs of `seeds`: each run's whole training time, evaluations included, over its epochs)."""
    store, rows = ResultCache(), []
    for label, base in bases.items():
        data = load_data(base)
        from onepoch.models import FieldLayout

        layout = FieldLayout.of(data.train, base.fields)
        for a in architectures:
            config = base.replace(model=a)
            counts = parameter_counts(build_model(config, data.vocab_size, layout))
            seconds = []
            for s in seeds:
                c = config.replace(seed=s)
                hit = store.get(result_key(c, data_checksum(c)))
                if hit is not None and "seconds" in hit:
                    seconds.append(hit["seconds"] / c.epochs)
            rows.append(dict(data=label, model=a, **counts,
                             seconds_per_epoch=float(np.mean(seconds)) if seconds else np.nan))
    return pd.DataFrame(rows)


def _cases(effects: pd.DataFrame, boundary: int = 1):
    return effects[effects.boundary == boundary]


def structural_verdict(effects: pd.DataFrame, boundary: int = 1) -> tuple[str, list[tuple[str, str]]]:
    """The structural hypothesis, judged per data set, by a rule fixed up front:

    a data set is *testable* when at least one model with an MLP drops (interval above 0); there, the
    hypothesis holds when every model without an MLP has its drop's interval inside +-MARGIN (or wholly
    below 0: AUC rose), and fails when any of them drops (interval above 0). Overall: 'agrees' when every
    testable data set holds, 'disagrees' when any fails, 'inconclusive' otherwise, 'not testable' when no
    data set is testable."""
    checks, states = [], []
    for data, part in _cases(effects, boundary).groupby("data", sort=False):
        mlp = part[part.model.map(HAS_MLP)]
        flat = part[~part.model.map(HAS_MLP)]
        described = "; ".join(f"{r.model} {paired.text(r.mean, r.low, r.high)}" for r in part.itertuples())
        if not (mlp.verdict == "positive").any():
            states.append("not testable")
            checks.append(("not testable", f"{data}: no model with an MLP drops ({described})"))
            continue
        if (flat.verdict == "positive").any():
            state = "fails"
        elif flat.verdict.isin(["within margin", "negative"]).all():
            state = "holds"
        else:
            state = "inconclusive"
        states.append(state)
        checks.append((state, f"{data}: {described}"))
    testable = [s for s in states if s != "not testable"]
    if not testable:
        verdict = "not testable"
    elif "fails" in testable:
        verdict = "disagrees"
    elif all(s == "holds" for s in testable):
        verdict = "agrees"
    else:
        verdict = "inconclusive"
    return verdict, checks


def c3_verdict(effects: pd.DataFrame, boundary: int = 1) -> tuple[str, list[tuple[str, str]]]:
    """C3 on every data set: logistic regression's drop interval inside +-MARGIN (or below 0)."""
    checks = []
    for r in _cases(effects, boundary)[lambda t: t.model == "lr"].itertuples():
        state = {"within margin": "holds", "negative": "holds", "positive": "fails"}.get(r.verdict, "inconclusive")
        checks.append((state, f"{r.data}: lr drop {paired.text(r.mean, r.low, r.high)}"))
    return _overall(checks), checks


def c14_verdict(ft: pd.DataFrame) -> tuple[str, list[tuple[str, str]]]:
    """C14 per (data, model): only-MLP arm drops (interval above 0) and only-embedding arm does not
    (interval inside +-MARGIN or below 0)."""
    checks = []
    for (data, model), part in ft.groupby(["data", "model"], sort=False):
        arms = part.set_index("finetune")
        if not {"mlp", "embedding"} <= set(arms.index):
            continue
        m, e = arms.loc["mlp"], arms.loc["embedding"]
        if m.verdict == "positive" and e.verdict in ("within margin", "negative"):
            state = "holds"
        elif m.verdict in ("within margin", "negative") or e.verdict == "positive":
            state = "fails"
        else:
            state = "inconclusive"
        checks.append((state, f"{data} {model}: only MLP {paired.text(m['mean'], m.low, m.high)}, "
                              f"only embeddings {paired.text(e['mean'], e.low, e.high)}"))
    return _overall(checks), checks


def _overall(checks) -> str:
    states = [s for s, _ in checks]
    if not states:
        return "not testable"
    if all(s == "holds" for s in states):
        return "agrees"
    if all(s == "fails" for s in states):
        return "disagrees"
    if "fails" in states and "holds" in states:
        return "partly agrees"
    return "inconclusive"


LEDGER_VERDICT = {"agrees": "agrees", "partly agrees": "partly agrees", "disagrees": "disagrees",
                  "inconclusive": "not tested", "not testable": "not tested"}
RULE = (f"drop = test AUC at the end of epoch 1 minus at the first evaluation of epoch 2, per seed; 95% Student-t "
        f"interval of its mean over seeds (seed variation only, not test-set resampling); 'no drop' = interval "
        f"inside +-{MARGIN} AUC (equivalence margin fixed up front) or wholly below 0; 'drops' = interval above 0.")


def record(claim: str, paper_says: str, verdict: str, checks, chapter: str, rule: str) -> dict:
    """A ledger row; the ledger's verdicts have no 'inconclusive' / 'not testable' yet, so those are
    recorded as 'not tested' with the computed verdict written out in `measured`."""
    measured = f"computed verdict: {verdict}. " + "; ".join(f"{text} [{state}]" for state, text in checks)
    row = dict(claim=claim, paper_says=paper_says, measured=measured, verdict=LEDGER_VERDICT[verdict],
               chapter=chapter, evidence="Rule: " + rule + " " + RULE)
    ledger.record(**row)
    return row
