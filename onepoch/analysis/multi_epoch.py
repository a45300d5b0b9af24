"""Training beyond one epoch: the remedies' leaderboard and the phase diagram's tables.

Remedies (see `onepoch.train.remedies`) are named settings of a RunConfig,
like the factors of `onepoch.analysis.factors`: `remedies(...)` lists them,
`leaderboard(...)` turns their curves into the numbers the chapter states:

- per run (setting, seed): test AUC at the end of each epoch, the best test
  AUC at any evaluation and where, and the drop at the epoch-2 boundary;
- per setting: mean and standard deviation over seeds, and the comparison
  with **one-epoch training**: the baseline's test AUC at the end of epoch 1
  (the first epoch of every baseline run is exactly a one-epoch run).

A setting "beats one epoch" by the book's one C2 rule (`rules.RULES["C2-gain"]`):
per seed, its best end-of-epoch test AUC over epochs k >= 2 minus the
baseline's end of epoch 1 with the same seed (paired: they share the data and,
for most remedies, epoch 1 itself); it beats one epoch when the 95% interval
of that gain lies above `rules.NO_EFFECT_MARGIN`.

For the synthetic phase diagram, `phase_table` gives per cell (sparsity x
learning rate, or data size) the drop at the epoch-2 boundary, where the
seed-mean test AUC curve peaks, how much the best later end of an epoch
adds to the end of epoch 1 (negative: best after one epoch), the best AUC
and the Bayes-optimal ceiling.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from onepoch.analysis import rules
from onepoch.analysis.stats import Verdict, directional, paired_effect, seed_effect
from onepoch.analysis.summary import drop_table, each_run, is_sharp, peak_epochs, pm

BASELINE = "baseline"


def remedies(emb_l2s=(1e-6, 1e-4, 1e-2), emb_decays=(10.0, 100.0), lr_decay: float = 0.1,
             emb_decay_alpha: float = 0.01) -> dict[str, dict]:
    """The remedies compared in the chapter: label -> RunConfig changes (the baseline first)."""
    out = {BASELINE: {}, "MEDA": {"meda": True}, "freeze MLP after epoch 1": {"finetune": "embedding"},
           f"LR x{lr_decay:g} per epoch": {"lr_decay": lr_decay}, "lazy Adam (embeddings)": {"emb_optimizer": "lazy"}}
    out.update({f"embedding L2 {x:g}": {"emb_l2": x} for x in emb_l2s})
    out.update({f"frequency decay {x:g}": {"emb_decay": x, "emb_decay_alpha": emb_decay_alpha} for x in emb_decays})
    return out


def run_settings(settings: dict, base, datasets, seeds, name: str = "remedy", **sweep_args) -> pd.DataFrame:
    """Curves of every named setting (label -> RunConfig changes) on every data set x seed, in ONE
    sweep (so all runs share the worker pool), labelled in column `name` in the given order."""
    from onepoch.runs import sweep

    pairs = [(label, base.replace(dataset=d, **changes)) for label, changes in settings.items() for d in datasets]
    frame = sweep([c for _, c in pairs], seeds=seeds, **sweep_args)
    keys = [k for k in dict.fromkeys(k for changes in settings.values() for k in changes) if k in frame.columns]
    keys = ["dataset", *keys]

    def value(v):
        return str(v) if isinstance(v, tuple) else v

    label_of = {tuple(value(getattr(c, k)) for k in keys): label for label, c in pairs}
    if len(label_of) != len(pairs):
        raise ValueError("two settings make the same configuration; give each a distinct change")
    rows = list(frame[keys].itertuples(index=False, name=None))
    frame[name] = pd.Categorical([label_of[r] for r in rows], categories=list(settings), ordered=True)
    return frame


# -- per run ----------------------------------------------------------------------

def epoch_ends(frame: pd.DataFrame, by: list[str], metric: str = "auc", split: str = "test") -> pd.DataFrame:
    """One row per run: `end_<k>` = metric at the end of epoch k, `best` over all evaluations and `best_epoch`."""
    out = []
    for row, e, v in each_run(frame, by, metric, split):
        for k in range(1, int(np.floor(e.max() + 1e-9)) + 1):
            at = np.isclose(e, k)
            row[f"end_{k}"] = v[at][-1] if at.any() else np.nan
        i = int(np.nanargmax(v))
        row.update(best=v[i], best_epoch=e[i])
        out.append(row)
    return pd.DataFrame(out)


def epochs_in(table: pd.DataFrame) -> list[int]:
    return sorted(int(c.split("_")[1]) for c in table.columns if c.startswith("end_") and c.endswith("_mean"))


# -- the leaderboard ----------------------------------------------------------------

def leaderboard(frame: pd.DataFrame, name: str = "remedy", baseline: str = BASELINE) -> pd.DataFrame:
    """Per data set and setting: end-of-epoch and best test AUC (mean, std over seeds), the drop
    at the epoch-2 boundary, and the comparison with one-epoch training (see the module docstring)."""
    by = ["dataset", name]
    frame = frame.assign(**{name: frame[name].astype(str)})
    per_run = epoch_ends(frame, by)
    cols = [c for c in per_run.columns if c.startswith("end_")] + ["best", "best_epoch"]
    agg = per_run.groupby(by, sort=False)[cols].agg(["mean", "std"])
    agg.columns = [f"{c}_{s}" for c, s in agg.columns]
    agg["seeds"] = per_run.groupby(by, sort=False)["seed"].nunique()
    table = agg.reset_index()
    drops = drop_table(frame, by)[[*by, "drop_mean", "drop_std", "sharp_drop"]]
    table = table.merge(drops, on=by, how="left")
    epochs = epochs_in(table)
    later = [k for k in epochs if k >= 2]
    per_run["later"] = per_run[[f"end_{k}" for k in later]].max(axis=1) if later else np.nan
    out = []
    for ds, part in table.groupby("dataset", sort=False):
        base = part[part[name] == baseline]
        if base.empty:
            raise ValueError(f"no {baseline!r} rows for data set {ds!r}: the leaderboard compares with it")
        one_mean, one_std = float(base["end_1_mean"].iloc[0]), float(base["end_1_std"].iloc[0])
        runs = per_run[per_run["dataset"] == ds]
        one_epoch = runs[runs[name] == baseline].set_index("seed")["end_1"]
        for _, r in part.iterrows():
            r = r.copy()
            r["one_epoch_mean"], r["one_epoch_std"] = one_mean, one_std
            if later:
                k = max(later, key=lambda j: r[f"end_{j}_mean"])
                r["best_end_epoch"] = k
                r["best_end_mean"], r["best_end_std"] = r[f"end_{k}_mean"], r[f"end_{k}_std"]
                r["gain"] = r["best_end_mean"] - one_mean
                r["gain_over_own_epoch1"] = r["best_end_mean"] - r["end_1_mean"]
                paired = paired_effect(runs[runs[name] == r[name]].set_index("seed")["later"], one_epoch)
                r["paired_gain"], r["paired_gain_low"], r["paired_gain_high"] = paired.estimate, paired.low, paired.high
                r["c2_verdict"] = str(directional(paired.ci, rules.NO_EFFECT_MARGIN))  # 'agrees': beats one epoch
                r["beats_one_epoch"] = r["c2_verdict"] == Verdict.AGREES.value
            out.append(r)
    return pd.DataFrame(out).reset_index(drop=True)


def _gain_text(estimate: float, low: float, high: float) -> str:
    if not np.isfinite(low):
        return f"{estimate:+.4f} [n/a]"
    return f"{estimate:+.4f} [{low:+.4f}, {high:+.4f}]"


def _beats_word(verdict: str) -> str:
    return {"agrees": "yes", "disagrees": "no"}.get(verdict, "inconclusive")


LATER_RULE = ("a later epoch beats epoch 1 when the 95% interval over seeds of the runs' gain (best end of a "
              f"later epoch minus their end of epoch 1) lies above {rules.NO_EFFECT_MARGIN} AUC (rule C2-gain)")
BEATS_RULE = ("a setting beats one epoch when the 95% interval over seeds of its gain (per seed: its best end of "
              "an epoch k >= 2 minus the baseline's end of epoch 1 with the same seed) lies above "
              f"{rules.NO_EFFECT_MARGIN} AUC (rule C2-gain); 'no' when it lies below, else inconclusive")


def readable_leaderboard(table: pd.DataFrame, name: str = "remedy") -> pd.DataFrame:
    """The leaderboard as strings, best setting first within each data set."""
    epochs = epochs_in(table)
    order = table.sort_values(["dataset", "best_end_mean"], ascending=[True, False], kind="stable")
    show = pd.DataFrame({"dataset": order["dataset"], name: order[name]})
    # Two epoch columns, not one per epoch: the table must fit the page at 10 epochs; every epoch's end is
    # in the chapter's per-epoch table. No mean peak position either: the seeds' peaks are bimodal.
    show["end of epoch 1"] = [pm(m, s) for m, s in zip(order["end_1_mean"], order["end_1_std"])]
    if len(epochs) > 1:
        show["best end of an epoch"] = [f"{pm(m, s)} (epoch {int(k)})" for m, s, k in
                                        zip(order["best_end_mean"], order["best_end_std"], order["best_end_epoch"])]
    show["drop at epoch 2"] = [f"{pm(m, s)}{' (sharp)' if x else ''}" for m, s, x in
                               zip(order["drop_mean"], order["drop_std"], order["sharp_drop"])]
    show["later epochs - one epoch [95% CI]"] = [_gain_text(g, lo, hi) for g, lo, hi in
                                                  zip(order["paired_gain"], order["paired_gain_low"],
                                                      order["paired_gain_high"])]
    show["beats one epoch"] = [_beats_word(v) for v in order["c2_verdict"]]
    return show.reset_index(drop=True)


def at_epoch_ends(frame: pd.DataFrame, by: list[str], metric: str, split: str = "train") -> pd.DataFrame:
    """Mean and std over seeds of `metric` at the start (epoch 0) and the end of each epoch, long format."""
    rows = frame[(frame["metric"] == metric) & (frame["split"] == split)]
    rows = rows[np.isclose(rows["epoch"], np.round(rows["epoch"]))].assign(epoch=lambda d: d["epoch"].round().astype(int))
    agg = rows.groupby([*by, "epoch"], sort=False, observed=True)["value"].agg(["mean", "std"]).reset_index()
    return agg


# -- the phase diagram ---------------------------------------------------------------

def phase_table(frame: pd.DataFrame, by: list[str], ceilings: dict | None = None) -> pd.DataFrame:
    """Per cell (the `by` columns): the epoch-2 drop (mean, std, sharp), where the seed-mean test AUC
    curve peaks, the best AUC (mean, std over seeds), and the Bayes-optimal AUC when `ceilings`
    maps a cell (tuple of its `by` values) to it."""
    table = drop_table(frame, by)
    peaks = peak_epochs(frame, by)
    table = table.merge(peaks, on=by)
    ends = epoch_ends(frame, by)
    ks = sorted(int(c[4:]) for c in ends.columns if c.startswith("end_"))
    if len(ks) > 1:  # how much the best later epoch end adds to the end of epoch 1, per run
        ends["later_gain"] = ends[[f"end_{k}" for k in ks[1:]]].max(axis=1) - ends["end_1"]
        gain = ends.groupby(by, sort=False)["later_gain"].agg(["mean", "std"])
        gain.columns = ["later_gain_mean", "later_gain_std"]
        # each run's own gain (paired), judged by rule C2-gain on its 95% interval over seeds
        effects = ends.groupby(by, sort=False)["later_gain"].apply(seed_effect)
        gain["later_gain_low"] = [e.low for e in effects]
        gain["later_gain_high"] = [e.high for e in effects]
        gain["later_verdict"] = [str(directional(e.ci, rules.NO_EFFECT_MARGIN)) for e in effects]
        gain["later_beats"] = gain["later_verdict"] == Verdict.AGREES.value
        table = table.merge(gain.reset_index(), on=by)
    if ceilings is not None:
        table["bayes_auc"] = [ceilings[tuple(r[c] for c in by)] for _, r in table.iterrows()]
        table["gap_to_bayes"] = table["bayes_auc"] - table["best_mean"]
    return table


def readable_phase(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    show = pd.DataFrame({c: table[c] for c in by})
    show["drop at epoch 2"] = [pm(m, s) for m, s in zip(table["drop_mean"], table["drop_std"])]
    show["sharp"] = ["yes" if x else "no" for x in table["sharp_drop"]]
    show["peak epoch (mean curve)"] = [f"{x:.2f}" for x in table["peak_epoch"]]
    if "later_gain_mean" in table:
        # later-epoch gain: best end of a later epoch minus the end of epoch 1; "wins" by LATER_RULE
        show["later-epoch gain [95% CI]"] = [_gain_text(m, lo, hi) for m, lo, hi in
                                             zip(table["later_gain_mean"], table["later_gain_low"], table["later_gain_high"])]
        show["later epoch wins"] = [_beats_word(v) for v in table["later_verdict"]]
    show["best test AUC"] = [pm(m, s) for m, s in zip(table["best_mean"], table["best_std"])]
    if "bayes_auc" in table:
        show["Bayes-optimal AUC"] = [f"{x:.4f}" for x in table["bayes_auc"]]
    return show


def eval_every_for(train_samples: int, batch_size: int = 128, per_epoch: int = 10) -> int:
    """Steps between evaluations for `per_epoch` evaluations per epoch, whatever the data size: the
    drop at the epoch-2 boundary (first evaluation of epoch 2) is then measured the same share
    of an epoch in, on a small or a large data set."""
    return max(1, (train_samples // batch_size) // per_epoch)


__all__ = ["BASELINE", "BEATS_RULE", "LATER_RULE", "at_epoch_ends", "epoch_ends", "eval_every_for", "is_sharp",
           "leaderboard", "phase_table", "readable_leaderboard", "readable_phase", "remedies", "run_settings"]
