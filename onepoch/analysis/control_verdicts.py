"""The causal controls' ledger rows (C16a-d) and the sentences the chapter `causal_controls` shows.

The tables come from `causes.control_effects` (one row per data set x control, with the drop at the
boundary, its difference from the plain run and the verdicts `drops` / `no_drop`) and from
`causes.versus_reference` (the activations against Dice). The rules:

- 'keeps-drop' (C16a, b, d): per data set, `causes.keeps_drop` of the control against the plain run;
  the claim's verdict is `stats.all_of` the data sets'.
- 'fresh-pass' (C16c): per data set, `causes.removes_drop` of the fresh second pass against "repeat";
  combined the same way.
"""
from __future__ import annotations

import pandas as pd

from onepoch.analysis import ledger
from onepoch.analysis.causes import keeps_drop, removes_drop
from onepoch.analysis.claim_texts import CLAIMS
from onepoch.analysis.stats import Verdict, all_of
from onepoch.analysis.summary import change_text

FRESH_PASS_EVIDENCE = ("agrees when 'repeat' drops (95% interval above the minimum effect) and 'fresh' does not "
                       "(interval below the no-effect margin); not testable when 'repeat' does not drop.")


def _row(table: pd.DataFrame, column: str, value, dataset) -> pd.Series:
    """The row of `table` for (`column` == value, data set)."""
    return table[(table[column] == value) & (table.dataset == dataset)].iloc[0]


def record_controls(table: pd.DataFrame, claims: dict, chapter: str, column: str = "control",
                    plain: str = "plain") -> list[str]:
    """Record one 'keeps-drop' row per control (`claims`: control name -> claim id) from the
    `control_effects` table (by data set); the row's effect is the drop of its first data set. Returns one
    sentence per control, '<control>: <verdict> (change at epoch 2: <data set> <change>, ...)'."""
    sentences = []
    for name, claim in claims.items():
        part = table[table[column] == name]
        verdict = all_of([keeps_drop(r, _row(table, column, plain, r["dataset"])) for _, r in part.iterrows()])
        first = part.iloc[0]
        ledger.record(claim, CLAIMS[claim],
                      measured="; ".join(f"{r.dataset}: change {change_text(r.drop)}, minus {plain}'s "
                                         f"{change_text(r.vs_plain)}" for r in part.itertuples()),
                      verdict=verdict, chapter=chapter, effect=first["drop"].estimate, ci=first["drop"].ci,
                      n_seeds=int(first.n_seeds), rule="keeps-drop")
        changes = ", ".join(f"{r.dataset} {change_text(r.drop)}" for r in part.itertuples())
        sentences.append(f"{name}: {verdict} (change at epoch 2: {changes})")
    return sentences


def record_fresh_pass(table: pd.DataFrame, chapter: str, column: str = "second_pass", claim: str = "C16c") -> str:
    """Record the 'fresh-pass' row from the `control_effects` table of the second passes ("repeat" the
    plain run); its effect is the first data set's fresh-minus-repeat change. Returns the sentence
    'fresh second pass removes the drop: <verdict> (<data set> <pass> <change>, ...)'."""
    verdict = all_of([removes_drop(_row(table, column, "fresh", d), _row(table, column, "repeat", d))
                      for d in table.dataset.unique()])
    fresh = table[table[column] == "fresh"]
    ledger.record(claim, CLAIMS[claim],
                  measured="; ".join(f"{r.dataset} {getattr(r, column)}: change {change_text(r.drop)}"
                                     for r in table.itertuples()),
                  verdict=verdict, chapter=chapter, effect=fresh.vs_plain.iloc[0].estimate, ci=fresh.vs_plain.iloc[0].ci,
                  n_seeds=int(fresh.n_seeds.iloc[0]), rule="fresh-pass", evidence=FRESH_PASS_EVIDENCE)
    changes = ", ".join(f"{r.dataset} {getattr(r, column)} {change_text(r.drop)}" for r in table.itertuples())
    return f"fresh second pass removes the drop: {verdict} ({changes})"


def activation_gap_text(table: pd.DataFrame) -> str:
    """The sentence under the activation table (`causes.versus_reference` against "dice"): the largest gap
    to Dice at the end of epoch 1, and how many settings drop at the boundary."""
    worst = table.loc[table.vs_dice.map(lambda e: abs(e.estimate)).idxmax()]
    dropping = sum(str(v) == Verdict.AGREES.value for v in table.drops)
    return (f"*Figure and table:* at the end of epoch 1 the activations lie within "
            f"{abs(worst.vs_dice.estimate):.4f} AUC of Dice (largest gap: {worst.activation} on {worst.dataset}, "
            f"{worst.vs_dice.text()}); {dropping} of {len(table)} activation x data set settings drop at the boundary.")
