"""Every decision bound and margin behind the ledger's verdicts, in one place.

They were fixed before the results they judge were read (issue 12), and a
change to one is a change of rule: the chapter that uses it must say so.
`RULES` names each rule (the short id a ledger row carries) and states it in
words; `onepoch.analysis.stats` holds the arithmetic and the decisions.
"""
from __future__ import annotations

CONFIDENCE = 0.95  # every interval in the book is a 95% interval

# A model "has learned" when its seed-mean test AUC at the end of epoch 1 is at least this: below it (Yelp
# reaches ~0.52), claims about its training dynamics are not testable rather than refuted.
AUC_FLOOR = 0.55

# The smallest change of test AUC that matters, in AUC points: a drop (or a gain of later epochs) must exceed it
# with 95% confidence to count, and a claim that there is none must bound it below this.
MIN_EFFECT = 0.002
# "Does not drop" / "does not beat one epoch": the interval's upper end must lie below this margin. It equals
# MIN_EFFECT on purpose, so "drops" and "does not drop" are exact complements with one inconclusive zone.
NO_EFFECT_MARGIN = MIN_EFFECT
# Two-sided "no effect" (equivalence, TOST with the 95% interval): the interval must lie inside +-this.
EQUIVALENCE_MARGIN = 0.005

# Sharpness: the drop over the first evaluation interval after a boundary, as a z-score against the same run's
# evaluation-to-evaluation drops inside epochs (placebo boundaries); "sharp" when the seed-level interval of
# the z-score lies above this.
SHARP_Z = 2.0
# Placebo intervals are taken inside epochs, leaving out this share of epoch 1 (the steep initial learning).
PLACEBO_SKIP = 0.5

# A-distance (0..2) of EMB(x)|y=0 vs |y=1: a jump at the boundary counts above this (its step-0 noise floor is
# shown in the chapter); "flat" means its interval lies below it.
A_DISTANCE_JUMP = 0.02
# The same for the probe of `onepoch.analysis.causes` (issue 13: the A-distance of the batches about to be
# trained, measured by a fresh classifier per evaluation, whose noise is larger): a jump counts above this.
CAUSES_A_JUMP = 0.05
# Per-step parameter update, first steps of epoch 2 over last steps of epoch 1: a "jump" is a ratio whose
# interval lies above this (a rise of at least 20%); "no jump", below it.
UPDATE_RATIO = 1.2
# The rarest 50% of IDs must carry under this share of occurrences (within 2x of the paper's 2.5%).
LONG_TAIL_SHARE = 0.05

# Descriptive columns of the drop tables (`summary.drop_table`'s "sharp drop": mean > 3 seed std and 0.002).
# They describe; no verdict reads them any more (issue 12: verdicts use the rules below).
SEED_SHARP = 3.0
SEED_MIN_DROP = 0.002

BOOTSTRAP_SAMPLES = 2000  # resamples of a bootstrap over seeds and test users

RULES = {
    "drop": ("the per-seed drop of test AUC at the boundary (end of epoch 1 minus first evaluation of epoch 2): "
             f"agrees when its 95% interval lies above {MIN_EFFECT} AUC, disagrees when below, else inconclusive"),
    "sharp": ("the same drop as a z-score against the run's own drops between evaluations inside epochs "
              f"(placebo boundaries, first {PLACEBO_SKIP:.0%} of epoch 1 left out): sharp when the seed-level 95% "
              f"interval of the z-score lies above {SHARP_Z:g}"),
    "drop+sharp": "agrees when both 'drop' and 'sharp' agree, disagrees when either disagrees, else inconclusive",
    "no-drop": (f"a claim that there is no drop: agrees when the drop's 95% interval lies below {NO_EFFECT_MARGIN} "
                f"AUC (non-inferiority margin), disagrees when it lies above, else inconclusive"),
    "C2-gain": ("per seed, the best end-of-epoch test AUC of epochs >= 2 minus the end-of-epoch-1 test AUC "
                "(paired; for a remedy, minus the baseline's end of epoch 1 with the same seed): the claim that "
                f"more epochs do not beat one agrees when the 95% interval lies below {NO_EFFECT_MARGIN} AUC, "
                "disagrees when above, else inconclusive; the number of seeds whose best evaluation lies in "
                "epoch 1 is stated beside it"),
    "every-setting": ("a claim about every setting: disagrees when any testable setting disagrees, agrees when "
                      "all agree, else inconclusive (intersection-union: no multiplicity correction needed)"),
    "keeps-drop": ("a factor that does not remove the drop: not testable where the baseline of that data set "
                   "shows no drop (its 'drop' verdict is not agrees); else 'drop' for every setting"),
    "equivalence": (f"no effect: agrees when the 95% interval lies inside +-{EQUIVALENCE_MARGIN} AUC, disagrees "
                    "when it lies wholly outside, else inconclusive"),
    "lower": (f"a setting lowers test AUC: agrees when the 95% interval of (setting - baseline) lies below "
              f"-{MIN_EFFECT} AUC, disagrees when above, else inconclusive"),
    "optimizers": ("Adam and RMSprop at learning rates >= 1e-3 must drop ('drop'); SGD at any learning rate and "
                   "any optimizer at <= 1e-6 must not ('no-drop') and must reach a lower best test AUC than Adam at "
                   f"1e-3 (paired by seed: interval below -{MIN_EFFECT}); settings between are shown, not judged; "
                   "combined as 'every-setting'"),
    "no-help": (f"every setting keeps the drop ('keeps-drop') and its best test AUC does not exceed the baseline's "
                f"(paired by seed) by {NO_EFFECT_MARGIN} AUC or more (interval below the margin)"),
    "weakens+lowers": ("at every m, the drop is smaller than without the transform (paired by seed: interval of the "
                       f"difference above {MIN_EFFECT}) and the best test AUC lower (interval below -{MIN_EFFECT}); "
                       "not testable where the untransformed model shows no drop"),
    "removes+lowers": (f"without the fields there is no drop (interval below {NO_EFFECT_MARGIN}) and the best test "
                       f"AUC is lower (paired by seed, interval below -{MIN_EFFECT}); not testable where the model "
                       "with every field shows no drop"),
    "a-distance": (f"the train A-distance jumps at the boundary (interval above {A_DISTANCE_JUMP}), the test one "
                   f"does not (interval below {A_DISTANCE_JUMP}), item-ID fields jump more than category fields "
                   f"(paired by seed, interval above 0) and settings without the phenomenon do not jump"),
    "update-ratio": (f"every fully connected layer's per-step update rises at the boundary (ratio interval above "
                     f"{UPDATE_RATIO}), the embedding's (rows in the batch) does not (interval below {UPDATE_RATIO})"),
    "finetune": ("training only the MLP after epoch 1 drops ('drop') and training only the embeddings does not "
                 "('no-drop'); not testable where fine-tuning everything shows no drop"),
    "each-epoch": ("every later boundary shows a drop ('drop' at boundary k); not testable where the epoch-2 "
                   "boundary shows none"),
    "causes-a-jump": (f"the A-distance of the batches about to be trained jumps at the epoch-2 boundary (every data "
                      f"set's 95% interval of the per-seed jump above {CAUSES_A_JUMP}) and the test set's does not "
                      f"(interval below {CAUSES_A_JUMP})"),
    "causes-update-ratio": (f"the mean absolute per-step update, first steps of epoch 2 over the last of epoch 1: "
                            f"every fully connected layer's ratio interval lies above {UPDATE_RATIO}, the embedding's "
                            f"(rows in the batch) below it"),
    "fresh-pass": (f"a second pass over the same samples drops (interval above {MIN_EFFECT}) and one over fresh "
                   f"samples does not (interval below {NO_EFFECT_MARGIN}); not testable where the repeated pass "
                   "shows no drop; combined as 'every-setting'"),
    "structural": ("per data set where some model with an MLP drops (its 'drop' verdict agrees; else not testable), "
                   "every model without an MLP (fm, lr) must not drop ('no-drop': the 95% interval of its drop lies "
                   f"below the {NO_EFFECT_MARGIN} AUC margin, fixed before the runs); combined as 'every-setting'"),
    "no-influence": ("a factor with no influence on the phenomenon, two-sided: every setting keeps the drop "
                     "('keeps-drop') and its drop equals the baseline's (paired by seed: the 95% interval of the "
                     f"difference lies inside +-{EQUIVALENCE_MARGIN} AUC, 'equivalence'); not testable where the "
                     "baseline shows no drop"),
    "long-tail": (f"the rarest 50% of IDs (all fields, training samples) carry under {LONG_TAIL_SHARE:.0%} of "
                  "occurrences: the upper end of the share's 95% interval (a bootstrap over users) below that "
                  "bound; until December 2026 the rule read the share alone, without an interval"),
}

# Which claims use which kind of rule. A claim that something does *not* happen in one direction ("does not
# drop", "does not help", "does not beat one epoch", "flat", "does not jump") is judged one-sided:
# non-inferiority, the interval below a margin (NO_EFFECT_MARGIN for AUC; the jump bounds for the probes). A
# claim of *no effect* either way ("no clear effect", "almost no influence") is judged two-sided: equivalence,
# the interval inside +-EQUIVALENCE_MARGIN. A claim that something happens ("drops", "drops too", "it stays",
# "jumps", "lower") is directional: the interval above (below) a bound, whatever its size.
# C9 ("under 5% of occurrences") is judged the same way: the interval of the share below the bound.
NON_INFERIORITY = ("C2", "C3", "C9", "C3b", "C7", "C8", "C8b", "C10b", "C11", "C12", "C13", "C14", "C16c")  # (in part)
EQUIVALENCE = ("C4", "C5")  # judged in model_factors only (causal_controls checks the fixed model, no C5 row)
DIRECTIONAL_ONLY = ("C1", "C6", "C7b", "C10", "C15", "C16a", "C16b", "C16d")  # C9 is a count, no interval
# The rule `claims.record_keeps_drop` applies per claim: C4 ("no clear effect") and C5 ("almost no influence")
# say the factor changes nothing, so the drop must stay *and* stay the same size; C6 ("does not help") only
# that it stays.
FACTOR_RULE = {"C4": "no-influence", "C5": "no-influence", "C6": "keeps-drop"}

PRECONDITIONS = {
    "learns": f"the model learns: seed-mean test AUC at the end of epoch 1 >= {AUC_FLOOR}",
    "baseline-drops": "the setting's baseline shows a drop (its 'drop' verdict agrees)",
}

# What changed from the rules of the book's first version (before issue 12), per claim: chapters print these
# beside their verdicts, so a changed verdict can be traced to a changed rule rather than a changed result.
ALL_CLAIMS_CHANGE = ("Every verdict now rests on an effect with a 95% interval, seeds draw their own user split "
                     "and negatives (data seed = seed), 'partly agrees' is gone (a claim about every case "
                     "disagrees if one case does, and is inconclusive if an interval straddles its bound), and a "
                     "claim is 'not testable' where its precondition fails.")
CHANGES = {
    "C1": "was: mean drop > 3 seed std and 0.002 on every data set, Yelp counted; now: drop interval above "
          f"{MIN_EFFECT} and placebo z interval above {SHARP_Z:g}, Yelp-like non-learners not testable, pooled effect",
    "C2": "was: three rules (the seed-mean curve's peak position in one_epoch, an unpaired 2-std gain in "
          "beyond_one_epoch, a paired 2-std gain in phase_diagram); now one rule everywhere: the paired per-seed "
          f"gain of later epochs, interval below {NO_EFFECT_MARGIN}",
    "C3": f"was: 'no sharp drop' (a failed test counted as agreement); now: drop interval below {NO_EFFECT_MARGIN}",
    "C4": f"was: a sharp drop in every setting; now: drop interval above {MIN_EFFECT} per setting, not testable "
          "where the baseline setting shows no drop",
    "C7": "was: sharp / not sharp and a lower seed-mean best AUC; now: drop intervals, and the AUC cost paired by seed",
    "C8": "was: best AUC within 2 seed std of the baseline; now: paired difference below the margin, and the drop kept",
    "C9": f"was: the share alone, under {LONG_TAIL_SHARE:.0%} (no interval); now, changed after the shares were "
          "seen (4-5% on the Amazon sets): the upper end of its 95% interval, a bootstrap over users, under "
          f"{LONG_TAIL_SHARE:.0%}; the bound is unchanged",
    "C10": "was: smaller seed-mean drop and lower seed-mean best AUC; now: paired intervals, not testable without a "
           "baseline drop",
    "C11": "was: no sharp drop and a lower mean AUC; now: drop below the margin and a paired lower AUC",
    "C12": f"was: sharp jumps (3 seed std); now: jump intervals against {A_DISTANCE_JUMP} A-distance",
    "C13": f"was: ratio - 3 std > 1 and ratio > {UPDATE_RATIO}; now: ratio interval against {UPDATE_RATIO}",
    "C14": "was: sharp / not sharp; now: drop / no-drop intervals, not testable where fine-tuning everything "
           "shows no drop",
    "C15": "was: a sharp drop at every boundary; now: a drop interval above the bound at every later boundary, not "
           "testable where the epoch-2 boundary shows none",
}
for _same, _as in (("C5", "C4"), ("C6", "C4"), ("C7b", "C4"), ("C8b", "C8"), ("C10b", "C3")):
    CHANGES[_same] = CHANGES[_as]
# Follow-up to issue 12: "no clear effect" (C4) and "almost no influence" (C5) are two-sided claims.
for _two_sided in EQUIVALENCE:
    CHANGES[_two_sided] += ("; since the follow-up, judged two-sided as the claim says: each setting's drop must "
                            f"also equal the baseline's within +-{EQUIVALENCE_MARGIN} AUC (paired by seed, "
                            "equivalence, the margin unchanged), rule 'no-influence'")


def changes(claims) -> str:
    """Markdown: how the rules of `claims` changed from the book's first version."""
    lines = [f"- **{c}**: {CHANGES[c]}." for c in claims if c in CHANGES]
    return "**Rules changed in this version** (issue 12). " + ALL_CLAIMS_CHANGE + "\n\n" + "\n".join(lines)
