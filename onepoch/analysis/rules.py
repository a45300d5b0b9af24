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
    "checks": "named checks, each with its own rule, combined as 'every-setting'",
}

PRECONDITIONS = {
    "learns": f"the model learns: seed-mean test AUC at the end of epoch 1 >= {AUC_FLOOR}",
    "baseline-drops": "the setting's baseline shows a drop (its 'drop' verdict agrees)",
}
