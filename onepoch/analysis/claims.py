"""The paper's claims (C1-C15) and computed verdicts for the ledger.

Chapters measure; these functions turn a measurement table into one ledger
row each: what the paper says, what we measured (with the seed spread), and
a verdict decided by a stated rule -- never typed in by hand.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from onepoch.analysis import ledger
from onepoch.analysis.claim_texts import CLAIMS
from onepoch.analysis.multi_epoch import BEATS_RULE, LATER_RULE
from onepoch.analysis.summary import MIN_DROP, SHARP, pm


SHARP_RULE = (f"a drop is 'sharp' when its mean over seeds exceeds {SHARP:g} x its seed standard "
              f"deviation and {MIN_DROP} AUC (a run with a single seed has no spread: only the {MIN_DROP} applies)")


def all_some_none(flags) -> str:
    """'agrees' if every case supports the claim, 'partly agrees' if some do, else 'disagrees'."""
    flags = list(flags)
    if flags and all(flags):
        return "agrees"
    return "inconclusive" if any(flags) else "disagrees"  # replaced by onepoch.analysis.stats rules


def _drop_text(row, label: str) -> str:
    return (f"{label}: {pm(row.end_epoch1_mean, row.end_epoch1_std)} at the end of epoch 1 -> "
            f"{pm(row.first_epoch2_mean, row.first_epoch2_std)} at the first evaluation of epoch 2 "
            f"(drop {pm(row.drop_mean, row.drop_std)}, {'sharp' if row.sharp_drop else 'not sharp'})")


def record_sharp_drop(claim: str, table: pd.DataFrame, chapter: str, label: str = "dataset",
                      expect_drop: bool = True, evidence: str = "") -> dict:
    """A claim that a drop occurs (expect_drop) or does not, judged per row of a drop table."""
    flags = [bool(s) == expect_drop for s in table["sharp_drop"]]
    measured = "; ".join(_drop_text(r, str(getattr(r, label))) for r in table.itertuples())
    verdict = all_some_none(flags)
    row = dict(claim=claim, paper_says=CLAIMS[claim], measured=measured, verdict=verdict,
               chapter=chapter, evidence=(evidence + " " if evidence else "") + f"Rule: {SHARP_RULE}.")
    ledger.record(**row)
    return row


def record_peak_after_one_epoch(table: pd.DataFrame, peaks: pd.DataFrame, chapter: str,
                                label: str = "dataset", evidence: str = "") -> dict:
    """C2 from `summary.peak_epochs` (where the seed-mean test AUC peaks) and a drop table."""
    merged = peaks.merge(table, on=[c for c in peaks.columns if c in table.columns and c not in
                                    ("peak_epoch", "peak_value", "peak_in_epoch1")])
    parts = [f"{getattr(r, label)}: peak {r.peak_value:.4f} at epoch {r.peak_epoch:.2f} "
             f"(best of any seed-run {pm(r.best_mean, r.best_std)} at epoch {pm(r.best_epoch_mean, r.best_epoch_std, 2)})"
             for r in merged.itertuples()]
    row = dict(claim="C2", paper_says=CLAIMS["C2"], measured="; ".join(parts),
               verdict=all_some_none(merged["peak_in_epoch1"]), chapter=chapter,
               evidence=(evidence + " " if evidence else "") +
               "Rule: agrees when the seed-mean test AUC curve peaks within epoch 1 for every case.")
    ledger.record(**row)
    return row


def record_checks(claim: str, checks: list[tuple[bool, str]], chapter: str, rule: str, evidence: str = "") -> dict:
    """A ledger row from named checks: each (holds?, what was measured)."""
    measured = "; ".join(f"{text} [{'supports' if ok else 'contradicts'}]" for ok, text in checks)
    row = dict(claim=claim, paper_says=CLAIMS[claim], measured=measured,
               verdict=all_some_none(ok for ok, _ in checks), chapter=chapter,
               evidence=(evidence + " " if evidence else "") + "Rule: " + rule)
    ledger.record(**row)
    return row


def _jump(r) -> str:
    return f"{pm(r.end_epoch1_mean, r.end_epoch1_std, 3)} -> {pm(r.first_epoch2_mean, r.first_epoch2_std, 3)}"


def record_a_distance(train: pd.DataFrame, test: pd.DataFrame, fields: pd.DataFrame, quiet: pd.DataFrame,
                      chapter: str, label: str = "dataset", setting: str = "setting") -> dict:
    """C12 from `summary.boundary_jumps` tables of the A-distance."""
    checks = []
    for r in train.itertuples():
        checks.append((bool(r.sharp_jump), f"{getattr(r, label)} train {_jump(r)} (jump {'sharp' if r.sharp_jump else 'not sharp'})"))
    for r in test.itertuples():
        checks.append((not r.sharp_jump, f"{getattr(r, label)} test {_jump(r)} ({'jumps' if r.sharp_jump else 'flat'})"))
    fine_names, coarse_names = ("item_id", "hist_item_ids"), ("cat_id", "hist_cat_ids")
    for ds, part in fields.groupby(label, sort=False):
        fine = part[part.field.isin(fine_names)].jump_mean.max()
        coarse = part[part.field.isin(coarse_names)].jump_mean.max()
        checks.append((bool(fine > coarse), f"{ds} largest train jump of item-ID fields {fine:.3f} vs category fields {coarse:.3f}"))
    for r in quiet.itertuples():
        checks.append((not r.sharp_jump, f"{getattr(r, label)} {getattr(r, setting)} (no phenomenon expected): train {_jump(r)}"))
    rule = (f"each check must hold: a sharp train jump at the epoch-2 boundary, a test curve without a sharp jump, "
            f"a larger jump for item-ID fields than for category fields, no sharp jump where the phenomenon is "
            f"absent; {SHARP_RULE.replace('drop', 'jump')}, applied to the A-distance.")
    return record_checks("C12", checks, chapter, rule, "A-distance of pooled embeddings, logistic-regression probe.")


def record_update_jumps(jumps: pd.DataFrame, chapter: str, label: str = "dataset") -> dict:
    """C13 from `summary.update_jumps`: every FC layer jumps, the embedding (batch rows) does not."""
    checks = []
    for ds, part in jumps.groupby(label, sort=False):
        for r in part.itertuples():
            if r.part.startswith("fc"):
                ok = bool(r.jumps)
            elif r.part == "embedding (batch rows)":
                ok = not r.jumps
            else:
                continue  # the whole-table number is shown in the chapter, not judged
            checks.append((ok, f"{ds} {r.part}: update x{r.ratio_mean:.2f} ± {r.ratio_std:.2f} after the boundary"))
    rule = ("every fully connected layer's mean per-step update over the first steps of epoch 2 must exceed that "
            "of the last steps of epoch 1 by more than 3 seed standard deviations (ratio - 3 std > 1) and by at "
            "least 20%, and the embedding's (rows in the batch, as the paper measured) must not.")
    return record_checks("C13", checks, chapter, rule)


def record_finetune(table: pd.DataFrame, chapter: str, label: str = "dataset") -> dict:
    """C14 from a drop table by [label, finetune]."""
    checks = []
    for r in table.itertuples():
        if r.finetune == "mlp":
            checks.append((bool(r.sharp_drop), f"{getattr(r, label)} only MLP trained: drop {pm(r.drop_mean, r.drop_std)}"))
        elif r.finetune == "embedding":
            checks.append((not r.sharp_drop, f"{getattr(r, label)} only embedding trained: drop {pm(r.drop_mean, r.drop_std)}"))
    rule = f"training only the MLP after epoch 1 must give a sharp drop and training only the embeddings must not; {SHARP_RULE}."
    return record_checks("C14", checks, chapter, rule)


def record_each_epoch(table: pd.DataFrame, chapter: str, label: str = "dataset") -> dict:
    """C15 from `summary.each_epoch_drops`: a sharp drop at every boundary."""
    checks = [(bool(r.sharp_drop), f"{getattr(r, label)} epoch {r.boundary}->{r.boundary + 1}: drop {pm(r.drop_mean, r.drop_std)}")
              for r in table.itertuples()]
    return record_checks("C15", checks, chapter, f"every boundary must show a sharp drop; {SHARP_RULE}.")


def _drop_check(r, name: str, expect: bool) -> tuple[bool, str]:
    said = "sharp drop" if r.sharp_drop else "no sharp drop"
    return (bool(r.sharp_drop) == expect, f"{r.dataset} {name}={getattr(r, name)}: {said} ({pm(r.drop_mean, r.drop_std)})")


def record_drops(claim: str, tables: list[tuple[str, pd.DataFrame]], chapter: str, expect: bool = True,
                 note: str = "") -> dict:
    """A claim that every setting of some factors drops sharply (expect=True) or none does."""
    checks = [_drop_check(r, name, expect) for name, table in tables for r in table.itertuples()]
    want = "a sharp drop" if expect else "no sharp drop"
    return record_checks(claim, checks, chapter, f"every setting must show {want}; {SHARP_RULE}. {note}".strip())


def record_no_help(claim: str, tables: list[tuple[str, pd.DataFrame, str]], chapter: str) -> dict:
    """C8: settings that neither remove the drop nor raise the best AUC above the baseline's.

    `tables` holds (factor name, factor_table, baseline label)."""
    checks = []
    for name, table, baseline in tables:
        for ds, part in table.groupby("dataset", sort=False):
            base = part[part[name] == baseline].iloc[0]
            for r in part[part[name] != baseline].itertuples():
                checks.append(_drop_check(r, name, True))
                helps = r.best_mean > base.best_mean + 2 * max(base.best_std, r.best_std)
                checks.append((not helps, f"{ds} {name}={getattr(r, name)}: best {pm(r.best_mean, r.best_std)} vs "
                                          f"{pm(base.best_mean, base.best_std)} without it"))
    rule = (f"each setting must still drop sharply ({SHARP_RULE}) and its best test AUC must not exceed the "
            "baseline's by more than 2 seed standard deviations.")
    return record_checks(claim, checks, chapter, rule)


def record_optimizers(table: pd.DataFrame, chapter: str) -> dict:
    """C7 from a drop table by [dataset, optimizer, lr]."""
    checks = []
    for ds, part in table.groupby("dataset", sort=False):
        ref = part[(part.optimizer == "adam") & (part.lr == 1e-3)]
        ref_best = float(ref.best_mean.iloc[0]) if len(ref) else float("nan")
        for r in part.itertuples():
            label = f"{ds} {r.optimizer} lr={r.lr:g}"
            text = f"{label}: {'sharp drop' if r.sharp_drop else 'no sharp drop'} ({pm(r.drop_mean, r.drop_std)}), best {pm(r.best_mean, r.best_std)}"
            if r.optimizer in ("adam", "rmsprop") and r.lr >= 1e-3:
                checks.append((bool(r.sharp_drop), text))
            elif r.optimizer == "sgd" or r.lr <= 1e-6:
                checks.append((not r.sharp_drop and r.best_mean < ref_best, text + f" vs Adam 1e-3 best {ref_best:.4f}"))
    rule = ("Adam and RMSprop at learning rates >= 1e-3 must drop sharply; SGD at any learning rate and any optimizer "
            f"at <= 1e-6 must not, and must reach a lower best test AUC than Adam at 1e-3; {SHARP_RULE}. "
            "Settings between (Adam 1e-4, 1e-5) are shown but not judged.")
    return record_checks("C7", checks, chapter, rule)


def record_long_tail(shares: pd.DataFrame, chapter: str, limit: float = 0.05) -> dict:
    """C9 from a table with columns dataset, bottom_share (share of occurrences of the rarest 50% of IDs)."""
    checks = [(bool(r.bottom_share < limit), f"{r.dataset}: {100 * r.bottom_share:.1f}% of occurrences")
              for r in shares.itertuples()]
    return record_checks("C9", checks, chapter,
                         f"the rarest 50% of IDs (all fields together, training samples) must carry under "
                         f"{100 * limit:.0f}% of occurrences, i.e. within 2x of the paper's 2.5%.")


def record_sparsity(table: pd.DataFrame, name: str, baseline: str, chapter: str) -> dict:
    """C10 from a factor_table whose settings are '<kind> m=<m>' labels plus a baseline label.

    Every m of every transform is judged against the untransformed model: its
    drop at the epoch-2 boundary must be smaller and its best test AUC lower."""
    checks = []
    for ds, part in table.groupby("dataset", sort=False):
        base = part[part[name] == baseline].iloc[0]
        for r in part[part[name] != baseline].itertuples():
            label = getattr(r, name)
            checks.append((r.drop_mean < base.drop_mean,
                           f"{ds} {label}: drop {pm(r.drop_mean, r.drop_std)} vs {pm(base.drop_mean, base.drop_std)}"))
            checks.append((r.best_mean < base.best_mean,
                           f"{ds} {label}: best {pm(r.best_mean, r.best_std)} vs {pm(base.best_mean, base.best_std)}"))
    rule = ("at every m, for filter and hash, the drop at the epoch-2 boundary must be smaller than without the "
            "transform and the best test AUC must be lower (means over seeds).")
    return record_checks("C10", checks, chapter, rule)


def record_fields(table: pd.DataFrame, name: str, baseline: str, without: str, chapter: str) -> dict:
    """C11 from a factor_table with a baseline setting and a setting without the fine-grained fields."""
    checks = []
    for ds, part in table.groupby("dataset", sort=False):
        base = part[part[name] == baseline].iloc[0]
        r = part[part[name] == without].iloc[0]
        checks.append((not r.sharp_drop, f"{ds} without item-ID fields: drop {pm(r.drop_mean, r.drop_std)}"))
        checks.append((r.best_mean < base.best_mean, f"{ds}: best {pm(r.best_mean, r.best_std)} without vs "
                                                      f"{pm(base.best_mean, base.best_std)} with them"))
    return record_checks("C11", checks, chapter,
                         f"without item ID and history item IDs there must be no sharp drop ({SHARP_RULE}) and a "
                         "lower best test AUC than with all fields.")


# -- beyond one epoch (chapters beyond_one_epoch and phase_diagram) ----------------------

def record_leaderboard(board: pd.DataFrame, chapter: str, name: str = "remedy", baseline: str = "baseline") -> dict:
    """C2 from `multi_epoch.leaderboard`: does any setting trained beyond epoch 1 beat one-epoch training?"""
    checks = []
    for r in board.itertuples():
        label = getattr(r, name)
        text = (f"{r.dataset} {label}: best end-of-epoch AUC {pm(r.best_end_mean, r.best_end_std)} (epoch "
                f"{int(r.best_end_epoch)}) vs one epoch {pm(r.one_epoch_mean, r.one_epoch_std)}")
        checks.append((not r.beats_one_epoch, text))
    return record_checks("C2", checks, chapter, BEATS_RULE + "; the claim holds for a setting that does not beat one "
                         "epoch (the baseline itself is trained on: its later epochs are a setting too).",
                         "Leaderboard: test AUC at the end of each epoch, seeds as stated.")


def record_lazy_adam(board: pd.DataFrame, chapter: str, name: str = "remedy", lazy: str = "lazy Adam (embeddings)",
                     baseline: str = "baseline") -> dict:
    """C7b: lazy Adam on the embeddings still drops sharply at the epoch-2 boundary."""
    checks = []
    for ds, part in board.groupby("dataset", sort=False):
        base, r = part[part[name] == baseline].iloc[0], part[part[name] == lazy].iloc[0]
        checks.append((bool(r.sharp_drop), f"{ds}: drop {pm(r.drop_mean, r.drop_std)} with lazy Adam vs "
                                            f"{pm(base.drop_mean, base.drop_std)} with dense Adam"))
    return record_checks("C7b", checks, chapter, f"lazy Adam must still show a sharp drop on every data set; {SHARP_RULE}.")


def record_embedding_regularisation(board: pd.DataFrame, chapter: str, name: str = "remedy",
                                    prefixes=("embedding L2", "frequency decay")) -> dict:
    """C8b: every embedding-regularisation setting still drops sharply and does not beat one epoch."""
    checks = []
    rows = board[board[name].astype(str).str.startswith(tuple(prefixes))]
    for r in rows.itertuples():
        label = f"{r.dataset} {getattr(r, name)}"
        checks.append((bool(r.sharp_drop), f"{label}: drop {pm(r.drop_mean, r.drop_std)}"))
        checks.append((not r.beats_one_epoch, f"{label}: best end-of-epoch {pm(r.best_end_mean, r.best_end_std)} vs "
                                              f"one epoch {pm(r.one_epoch_mean, r.one_epoch_std)}"))
    return record_checks("C8b", checks, chapter, f"each setting must still drop sharply ({SHARP_RULE}) and must not beat "
                         f"one epoch ({BEATS_RULE}).")


def record_phase_sparsity(table: pd.DataFrame, realistic, low, chapter: str, x: str = "syn_zipf",
                          label: str = "Zipf exponent") -> dict:
    """C10b from `multi_epoch.phase_table` at one learning rate: a sharp drop at the `realistic`
    values of `x`, none at the `low`-sparsity values."""
    checks = []
    for r in table.itertuples():
        value = getattr(r, x)
        text = f"{label} {value:g}: drop {pm(r.drop_mean, r.drop_std)}"
        if value in realistic:
            checks.append((bool(r.sharp_drop), text + " (realistic sparsity)"))
        elif value in low:
            checks.append((not r.sharp_drop, text + " (low sparsity)"))
    return record_checks("C10b", checks, chapter, f"a sharp drop at every realistic-sparsity setting and none at the "
                         f"low-sparsity settings; {SHARP_RULE}.", "Synthetic data, the phase diagram's default learning rate.")


def record_phase_learning_rate(table: pd.DataFrame, realistic, chapter: str, x: str = "syn_zipf",
                               label: str = "Zipf exponent") -> dict:
    """C7 on synthetic data: at realistic sparsity, Adam at lr >= 1e-3 drops sharply and the
    smallest learning rate of the grid does not, with a lower best AUC than at 1e-3."""
    checks = []
    smallest = table["lr"].min()
    for value in realistic:
        part = table[table[x] == value]
        ref = part[np.isclose(part["lr"], 1e-3)]
        ref_best = float(ref.best_mean.iloc[0]) if len(ref) else float("nan")
        for r in part.itertuples():
            text = (f"{label} {value:g}, Adam lr={r.lr:g}: {'sharp drop' if r.sharp_drop else 'no sharp drop'} "
                    f"({pm(r.drop_mean, r.drop_std)}), best {pm(r.best_mean, r.best_std)}")
            if r.lr >= 1e-3:
                checks.append((bool(r.sharp_drop), text))
            elif r.lr == smallest:
                checks.append((not r.sharp_drop and r.best_mean < ref_best, text + f" vs lr=1e-3 best {ref_best:.4f}"))
    rule = (f"at realistic sparsity, Adam at lr >= 1e-3 must drop sharply, and the grid's smallest learning rate "
            f"must not and must reach a lower best test AUC than lr=1e-3; {SHARP_RULE}. Rates between are shown, "
            "not judged.")
    return record_checks("C7", checks, chapter, rule, "Synthetic data (SGD not run here).")


def record_data_size(table: pd.DataFrame, chapter: str, series: str = "catalogue", size: str = "samples") -> dict:
    """C2 on synthetic data from a phase table by [series, size]: no later epoch beats epoch 1 beyond seed
    noise (the rule of `multi_epoch.LATER_RULE`, as the remedies' leaderboard judges C2)."""
    checks = [(not bool(r.later_beats),
               f"{getattr(r, series)}, {int(getattr(r, size)):,} samples: later epochs "
               f"{pm(r.later_gain_mean, r.later_gain_std)} vs epoch 1 (seed-mean curve peaks at epoch {r.peak_epoch:.2f})")
              for r in table.itertuples()]
    return record_checks("C2", checks, chapter, f"agrees when at no data size a later epoch beats epoch 1, where "
                         f"{LATER_RULE}.", "Synthetic data, default learning rate, several data sizes.")
