"""The paper's tests of why the second epoch hurts (Sec. 5), as chapter `why_second_epoch` runs them.

- `quiet_configs` / `setting_labels`: the two settings where the paper saw no drop (Fig. 15): Adam with
  a tiny learning rate, and the filter transform keeping the top 1e-4 share of IDs;
- `finetune_configs` / `finetune_change_text`: fine-tuning everything, only the embeddings or only the
  MLP from epoch 2 on (Fig. 17), and the seed- and data-set-mean change of test AUC at the boundary;
- `windowed_updates`, `update_ratio_table`, `update_jump_sentence`: the per-step updates of
  `probes.ParamChangeProbe` averaged over windows of steps (Fig. 16), and the ratio at the boundary of
  the three update measures (`UPDATE_MEASURES`) with 95% intervals (`causes.update_ratios`);
- `record_incoming_a_distance` (C12, rule 'causes-a-jump') and `record_mean_update` (C13, rule
  'causes-update-ratio'): the two claims judged as the paper's code measured them, on the A-distance of
  the batches about to be trained and on the mean absolute update. Each writes its ledger row and
  returns its verdict;
- `summary_lines`: the chapter's computed summary, one sentence each on the A-distance jump of the
  incoming batches (`incoming_line`), the fine-tuning arms (`finetune_line`) and the later boundaries
  (`later_boundaries_line`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from onepoch.analysis import causes, ledger, measures, stats
from onepoch.analysis.chapter_summary import change, compare
from onepoch.analysis.claim_texts import CLAIMS
from onepoch.analysis.summary import drop_table
from onepoch.tables import signed

QUIET_SETTINGS = ({"lr": 1e-7}, {"sparsity": "filter", "sparsity_m": 1e-4})  # paper Fig. 15
FINETUNE_ARMS = ("all", "embedding", "mlp")  # what keeps training from epoch 2 on (paper Fig. 17)
# heading -> metric prefix written by ParamChangeProbe ("update:" is the largest |update|, l-inf)
UPDATE_MEASURES = {"mean |update|": "update_mean:", "l2": "update_l2:", "l-inf": "update:"}
MEAN_UPDATE = "mean |update|"
EMBEDDING_ROWS = "embedding (batch rows)"  # the embedding's update over the rows of the batch's IDs


def quiet_configs(base, datasets, **changes) -> list:
    """Per data set, `base` in each of `QUIET_SETTINGS`, with `changes` (epochs, max_users, ...)."""
    return [base.replace(dataset=d, **changes, **setting) for d in datasets for setting in QUIET_SETTINGS]


def setting_labels(frame: pd.DataFrame) -> list[str]:
    """A label per row of runs of `quiet_configs`: 'lr=1e-07' or 'filter m=0.0001'."""
    return [f"lr={lr:g}" if s == "none" else f"{s} m={m:g}"
            for lr, s, m in zip(frame["lr"], frame["sparsity"], frame["sparsity_m"])]


def finetune_configs(base, datasets, **changes) -> list:
    """Per data set, `base` fine-tuned from epoch 2 on each of `FINETUNE_ARMS`, with `changes`."""
    return [base.replace(dataset=d, finetune=arm, **changes) for d in datasets for arm in FINETUNE_ARMS]


def finetune_change_text(ft: pd.DataFrame) -> str:
    """'all -0.0021, embedding +0.0004, mlp -0.0030': per arm, the change of test AUC from the end of
    epoch 1 to the first evaluation of epoch 2, mean over seeds, then over data sets."""
    change = -drop_table(ft, ["dataset", "finetune"]).groupby("finetune", sort=False)["drop_mean"].mean()
    return ", ".join(f"{arm} {signed(v)}" for arm, v in change.items())


def windowed_updates(moves: pd.DataFrame, prefix: str, window: int, by=("dataset",)) -> pd.DataFrame:
    """The per-step updates of metric `prefix`<part>, averaged per run over windows of `window` steps,
    as curves for `plots.curves` (metric 'update', split 'train'); a window's epoch is where it ends."""
    rows = moves[moves.metric.str.startswith(prefix)].copy()
    rows["part"] = rows.metric.str[len(prefix):]
    steps_per_epoch = (rows.step / rows.epoch).max()
    rows = rows.assign(epoch=(rows.step // window * window + window) / steps_per_epoch)
    return rows.groupby([*by, "part", "seed", "epoch"], as_index=False)["value"].mean().assign(
        split="train", metric="update", step=0)


def update_ratio_table(moves: pd.DataFrame, by: list[str], window: int) -> pd.DataFrame:
    """`causes.update_ratios` for each of `UPDATE_MEASURES`, stacked, with the column `measure`."""
    return pd.concat([causes.update_ratios(moves, by, prefix=prefix, window=window).assign(measure=name)
                      for name, prefix in UPDATE_MEASURES.items()])


def _parts(rows: pd.DataFrame) -> str:
    return ", ".join(sorted(set(f"{r.part} ({r.dataset})" for r in rows.itertuples()))) or "no part"


def update_jump_sentence(ratios: pd.DataFrame) -> str:
    """Which parts' mean absolute update jumps at the boundary ('jumps' agrees) and which do not."""
    m = ratios[ratios.measure == MEAN_UPDATE]
    jumps = np.array([str(v) == stats.Verdict.AGREES.value for v in m.jumps], dtype=bool)
    return ("*Figure and table:* the mean absolute update jumps at the boundary for " + _parts(m[jumps])
            + "; it does not (or not clearly) for " + _parts(m[~jumps]) + ".")


def record_incoming_a_distance(jumps_ad: pd.DataFrame, chapter: str) -> stats.Verdict:
    """C12 on `causes.a_distance_jumps`: agrees when every incoming jump's interval lies above
    `causes.A_JUMP` and every test jump's below it; the effect is the incoming jump (pooled over data
    sets when there are several)."""
    inc = jumps_ad[jumps_ad.split == "incoming"]
    test = jumps_ad[jumps_ad.split == "test"]
    verdict = stats.all_of([*inc.jumps, *test.flat])
    effect = stats.pooled(list(inc.effect)) if len(inc) > 1 else inc.effect.iloc[0]
    ledger.record("C12", CLAIMS["C12"], measured="; ".join(
        [f"incoming batches, {r.dataset}: jump {r.effect.text(3)}" for r in inc.itertuples()]
        + [f"test, {r.dataset}: jump {r.effect.text(3)}" for r in test.itertuples()]),
        verdict=verdict, chapter=chapter, effect=effect.estimate, ci=effect.ci,
        n_seeds=int(inc.effect.iloc[0].n_seeds), rule="causes-a-jump",
        evidence="A-distance of the batches about to be trained (the paper's measurement) and of the test set "
                 "(fig-a-distance); agrees when every incoming jump's 95% interval lies above "
                 f"{causes.A_JUMP} and every test jump's below it.")
    return verdict


def _opposite(verdict) -> stats.Verdict:
    """The embedding must NOT jump: its 'jumps' verdict turned around (anything else: inconclusive)."""
    return {"disagrees": stats.Verdict.AGREES, "agrees": stats.Verdict.DISAGREES}.get(
        str(verdict), stats.Verdict.INCONCLUSIVE)


def record_mean_update(ratios: pd.DataFrame, window: int, chapter: str) -> stats.Verdict:
    """C13 on the mean absolute update of `update_ratio_table`: agrees when every FC layer's ratio
    interval lies above `causes.UPDATE_RATIO` and the embedding's (batch rows) below it; the effect is
    the last FC layer's ratio."""
    m = ratios[ratios.measure == MEAN_UPDATE]
    mlp = m[m.part.str.startswith("fc")]
    emb = m[m.part == EMBEDDING_ROWS]
    verdict = stats.all_of([*mlp.jumps, *[_opposite(v) for v in emb.jumps]])
    last = mlp[mlp.part == mlp.part.max()].effect.iloc[0]
    ledger.record("C13", CLAIMS["C13"], measured="; ".join(
        f"{r.part}, {r.dataset}: x{r.effect.text(2)}" for r in m.itertuples()),
        verdict=verdict, chapter=chapter, effect=last.estimate, ci=last.ci, n_seeds=int(last.n_seeds),
        rule="causes-update-ratio",
        evidence=f"mean absolute update, ratio first {window} steps of epoch 2 / last {window} of epoch 1; agrees "
                 f"when every FC layer's interval lies above {causes.UPDATE_RATIO} and the embedding's (batch "
                 "rows) below it.")
    return verdict


# How the summary names a fine-tuning arm (`FINETUNE_ARMS`).
FINETUNE_NAMES = {"all": "everything trained", "embedding": "only the embeddings trained",
                  "mlp": "only the MLP trained"}


def incoming_line(jumps_ad: pd.DataFrame) -> str:
    """'At the epoch-2 boundary, on beauty, the A-distance of the batches about to be trained jumps by ...
    and that of the test samples changes by ...': per data set, the jumps of `causes.a_distance_jumps`,
    the verb chosen from each 95% interval."""
    inc = jumps_ad[jumps_ad.split == "incoming"]
    test = jumps_ad[jumps_ad.split == "test"].set_index("dataset")

    def test_part(dataset) -> str:
        if dataset not in test.index:
            return ""
        return " and that of the test samples " + compare(test.loc[dataset, "effect"], "rises", "falls", "changes",
                                                          digits=3)

    return "At the epoch-2 boundary, " + "; ".join(
        f"on {r.dataset}, the A-distance of the batches about to be trained "
        + compare(r.effect, "jumps", "falls", "changes", digits=3) + test_part(r.dataset)
        for r in inc.itertuples()) + "."


def finetune_line(ft: pd.DataFrame) -> str:
    """'Fine-tuning one part from epoch 2 on, at its first evaluation: everything trained (beauty), test AUC
    falls by ...; ...': per data set and arm of `finetune_configs`, the change at the epoch-2 boundary."""
    arms = measures.effects(ft, ["dataset", "finetune"])
    return "Fine-tuning one part from epoch 2 on, at its first evaluation: " + "; ".join(
        f"{FINETUNE_NAMES.get(r.finetune, r.finetune)} ({r.dataset}), {change(r.drop)}"
        for r in arms.itertuples()) + "."


def _later_line(dataset, each_k) -> str:
    """The each-epoch question on one data set: at how many later boundaries test AUC falls, and the largest."""
    drops = [(k, e.loc[e.dataset == dataset, "drop"].iloc[0]) for k, e in each_k if (e.dataset == dataset).any()]
    falls = [k for k, drop in drops if drop.low > 0]
    k, top = max(drops, key=lambda kd: kd[1].estimate)
    return (f"On {dataset}, test AUC falls (95% interval above 0) at {len(falls)} of the "
            f"{len(drops)} later {'boundary' if len(drops) == 1 else 'boundaries'}"
            f"; the lowest seed-mean change comes at epoch {k} -> {k + 1}, where {change(top)}.")


def later_boundaries_line(runs: pd.DataFrame) -> str:
    """Per data set (in order of appearance), at how many boundaries after the first (epoch k -> k+1, k >= 2)
    test AUC falls, and where the seed-mean drop is largest; or that the runs have no such boundary."""
    later = range(2, int(runs.epoch.max() + 1e-9))
    each_k = [(k, measures.effects(runs, ["dataset"], boundary=k)) for k in later]
    if not each_k:
        return "The runs have no boundary after the first, so the each-epoch question is not asked here."
    return " ".join(_later_line(d, each_k) for d in dict.fromkeys(runs.dataset))


def summary_lines(jumps_ad: pd.DataFrame, ft: pd.DataFrame, runs: pd.DataFrame) -> list[str]:
    """The chapter's computed summary before its verdicts: `incoming_line`, `finetune_line` and
    `later_boundaries_line`."""
    return [incoming_line(jumps_ad), finetune_line(ft), later_boundaries_line(runs)]
