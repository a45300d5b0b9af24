"""Claims judged by the chapters beyond the paper: remedies (beyond_one_epoch) and synthetic data (phase_diagram).

Same machinery as `claims`: per-seed effects from curves, a rule of
`rules.RULES` per case, one ledger row per claim. C2 uses the one rule
'C2-gain' everywhere; for a remedy the gain is paired with the *baseline's*
end of epoch 1 of the same seed (one-epoch training, which every baseline run
contains), so a remedy that only lowers epoch 1 cannot look like a gain.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from onepoch.analysis import rules
from onepoch.analysis.claims import drop_part, drop_text, record_optimizers
from onepoch.analysis.measures import per_run, setting_effects
from onepoch.analysis.stats import all_of, at_most, paired_effect, precondition
from onepoch.analysis.verdict_rows import Part, record_parts, untestable


def _best_later_end(runs: pd.DataFrame) -> pd.Series:
    ends = [c for c in runs.columns if c.startswith("end_") and c != "end_1"]
    return runs[ends].max(axis=1) if ends else pd.Series(np.nan, index=runs.index)


def remedy_parts(frame: pd.DataFrame, chapter_name: str = "remedy", baseline: str = "baseline", keep=None,
                 gain: bool = True, labels=None) -> list[Part]:
    """Per data set and setting: the 'C2-gain' verdict against the baseline's end of epoch 1 (`gain`), and
    with `keep` ('drop' or None) the setting's own drop verdict, not testable where the baseline has no drop."""
    name = chapter_name
    frame = frame.assign(**{name: frame[name].astype(str)})
    runs = per_run(frame, ["dataset", name])
    runs["later"] = _best_later_end(runs)
    parts = []
    for ds, part in runs.groupby("dataset", sort=False):
        table = setting_effects(part, ["dataset", name]).set_index(name)
        if baseline not in table.index:
            raise ValueError(f"no {baseline!r} runs for data set {ds!r}: the remedies are compared with it")
        b = table.loc[baseline]
        one_epoch = part[part[name] == baseline].set_index("seed")["end_1"]
        for label, r in table.iterrows():
            if labels is not None and label not in labels:
                continue
            text = f"{ds} {label}"
            g = paired_effect(part[part[name] == label].set_index("seed")["later"], one_epoch)
            if b["untestable"]:
                parts.append(untestable(text, f"learns fails: {b['untestable']}", r["drop"] if keep else g))
                continue
            verdicts, bits, effect = [], [], None
            if keep:
                why = precondition(baseline_drop=b["drop_verdict"])
                if why:
                    parts.append(untestable(text, f"baseline-drops fails: {why}", r["drop"]))
                    continue
                p = drop_part(r, text, keep)
                verdicts.append(p.verdict)
                bits.append(p.text)
                effect = r["drop"]
            if gain:
                verdicts.append(at_most(g.ci, rules.NO_EFFECT_MARGIN))
                bits.append(f"{text}: best later epoch end minus one-epoch training {g.text()} "
                            f"(best evaluation within epoch 1 for {r['peaks_in_epoch1']} of {r['n_seeds']} seeds)")
                effect = effect or g
            parts.append(Part(text, all_of(verdicts), effect, "; ".join(bits)))
    return parts


def record_leaderboard(frame: pd.DataFrame, chapter: str, name: str = "remedy", baseline: str = "baseline") -> dict:
    """C2 on remedies: does any setting trained beyond epoch 1 beat one-epoch training (rule 'C2-gain')?"""
    parts = remedy_parts(frame, name, baseline)
    return record_parts("C2", parts, chapter, "C2-gain", "Remedies' runs, end-of-epoch test AUC.", pick="max",
                        what="largest gain over one-epoch training among the settings")


def record_lazy_adam(frame: pd.DataFrame, chapter: str, name: str = "remedy", lazy: str = "lazy Adam (embeddings)",
                     baseline: str = "baseline") -> dict:
    """C7b: lazy Adam on the embeddings still drops, where dense Adam (the baseline) drops."""
    parts = remedy_parts(frame, name, baseline, keep="drop", gain=False, labels=[lazy])
    return record_parts("C7b", parts, chapter, "keeps-drop", what="drop with lazy Adam")


def record_embedding_regularisation(frame: pd.DataFrame, chapter: str, name: str = "remedy",
                                    prefixes=("embedding L2", "frequency decay"), baseline: str = "baseline") -> dict:
    """C8b: every embedding-regularisation setting keeps the drop and does not beat one epoch."""
    labels = [x for x in frame[name].astype(str).unique() if x.startswith(tuple(prefixes))]
    parts = remedy_parts(frame, name, baseline, keep="drop", labels=labels)
    return record_parts("C8b", parts, chapter, "no-help", pick="min", what="smallest drop among the settings")


def record_phase_sparsity(frame: pd.DataFrame, realistic, low, chapter: str, x: str = "syn_zipf",
                          label: str = "Zipf exponent") -> dict:
    """C10b at one learning rate: a drop at the `realistic` values of `x`, none at the `low`-sparsity ones."""
    table = setting_effects(per_run(frame, [x]), [x])
    parts = []
    for _, r in table.iterrows():
        value = r[x]
        text = f"{label} {value:g}"
        if value in realistic:
            parts.append(drop_part(r, text + " (realistic sparsity)", "drop"))
        elif value in low:
            parts.append(drop_part(r, text + " (low sparsity)", "no-drop"))
    return record_parts("C10b", parts, chapter, "every-setting", "Synthetic data, the phase diagram's default "
                        "learning rate; seeds vary training only (the generated data set is fixed).",
                        what="drop of the first deciding setting")


def record_phase_learning_rate(frame: pd.DataFrame, realistic, chapter: str, x: str = "syn_zipf") -> dict:
    """C7 on synthetic data at realistic sparsity (Adam only): the 'optimizers' rule per Zipf exponent."""
    part = frame[frame[x].isin(list(realistic))].assign(optimizer="adam")
    part = part.assign(dataset=[f"synthetic {x}={v:g}" for v in part[x]])
    smallest = float(part["lr"].min())
    return record_optimizers(part, chapter, tiny=smallest, evidence=f"Synthetic data, Adam only; the grid's smallest "
                             f"learning rate ({smallest:g}) stands for the paper's tiny one.")


def record_data_size(frame: pd.DataFrame, chapter: str, series: str = "catalogue", size: str = "samples") -> dict:
    """C2 on synthetic data by [series, size], rule 'C2-gain'."""
    table = setting_effects(per_run(frame, [series, size]), [series, size])
    parts = []
    for _, r in table.iterrows():
        text = f"{r[series]}, {int(r[size]):,} samples"
        parts.append(untestable(text, f"learns fails: {r['untestable']}", r["gain"]) if r["untestable"] else
                     Part(text, r["gain_verdict"], r["gain"], f"{text}: later epochs minus epoch 1 {r['gain'].text()}; "
                          f"best evaluation within epoch 1 for {r['peaks_in_epoch1']} of {r['n_seeds']} seeds"))
    return record_parts("C2", parts, chapter, "C2-gain", "Synthetic data, default learning rate, several data sizes; "
                        "seeds vary training only.", pick="max", what="largest later-epoch gain among the sizes")


__all__ = ["drop_text", "record_data_size", "record_embedding_regularisation", "record_lazy_adam",
           "record_leaderboard", "record_phase_learning_rate", "record_phase_sparsity", "remedy_parts"]
