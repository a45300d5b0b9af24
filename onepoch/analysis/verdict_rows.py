"""A claim's ledger row from its parts: one verdict and effect per data set or setting, combined.

A `Part` is what one case (a data set, a setting, a boundary) says about a
claim: its verdict under the claim's rule, the effect it rests on and a line
of text. `record_parts` combines them with `stats.all_of`, picks the effect
the row shows (pooled over the cases, or the case that decides the verdict)
and writes the row to the ledger with its numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from onepoch.analysis import ledger
from onepoch.analysis.claim_texts import CLAIMS
from onepoch.analysis.rules import PRECONDITIONS, RULES, changes
from onepoch.analysis.stats import Effect, Verdict, all_of, pooled
from onepoch.tables import count, number


@dataclass
class Part:
    label: str
    verdict: Verdict
    effect: Effect | None
    text: str


def untestable(label: str, why: str, effect: Effect | None = None) -> Part:
    return Part(label, Verdict.NOT_TESTABLE, effect, f"{label}: not testable, {why}")


def _deciding(parts: list[Part], verdict: Verdict, pick: str) -> Part | None:
    same = [p for p in parts if p.verdict is verdict and p.effect is not None and math.isfinite(p.effect.estimate)]
    if not same:
        same = [p for p in parts if p.effect is not None and math.isfinite(p.effect.estimate)]
    if not same:
        return None
    if pick == "max":
        return max(same, key=lambda p: p.effect.estimate)
    if pick == "min":
        return min(same, key=lambda p: p.effect.estimate)
    return same[0]


def _number(x) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None  # as the ledger stores it (JSON has no NaN)


def record_parts(claim: str, parts: list[Part], chapter: str, rule: str, evidence: str = "", pool: bool = False,
                 pick: str = "first", what: str = "") -> dict:
    """Write the row of `claim`: verdict `all_of` the parts; effect pooled over the testable parts (`pool`)
    or that of the part deciding the verdict (`pick`: 'first', 'max' or 'min' effect among the parts with
    the row's verdict). `what` names the effect (e.g. 'drop at the epoch-2 boundary, AUC')."""
    verdict = all_of(p.verdict for p in parts)
    testable = [p for p in parts if p.verdict != Verdict.NOT_TESTABLE and p.effect is not None]
    shown, whose = None, ""
    if pool and len(testable) > 1:
        shown, whose = pooled([p.effect for p in testable]), f"pooled over {len(testable)} testable cases"
    if shown is None or not math.isfinite(shown.estimate):
        part = _deciding(testable or parts, verdict, pick)
        shown, whose = (part.effect, part.label) if part else (None, "")
    measured = "; ".join(f"{p.text} [{p.verdict}]" for p in parts) or "nothing measured"
    note = f"Effect shown: {what + ', ' if what else ''}{whose}." if whose else ""
    conditions = " ".join(f"Not testable unless {text}." for key, text in PRECONDITIONS.items()
                          if any(key in p.text for p in parts))
    row = dict(claim=claim, paper_says=CLAIMS[claim], measured=measured, verdict=str(verdict), chapter=chapter,
               evidence=" ".join(x for x in (evidence, f"Rule {rule}: {RULES[rule]}.", note, conditions) if x),
               effect=None if shown is None else _number(shown.estimate),
               ci=None if shown is None else [_number(x) for x in shown.ci],
               n_seeds=None if shown is None else shown.n_seeds, rule=rule)
    ledger.record(**row)
    return {**row, "effect_of": note[len("Effect shown: "):].rstrip(".") if note else ""}


def headline(row: dict) -> str:
    """One computed sentence for a chapter: '**C1 (agrees)**: drop at ..., pooled over 3 testable cases:
    0.0123 [0.0101, 0.0145] (5 seeds; rule drop+sharp).'"""
    if row.get("effect") is None:
        return f"**{row['claim']} ({row['verdict']})**: no effect could be estimated (rule {row['rule']})."
    low, high = row["ci"]
    interval = f" [{number(low)}, {number(high)}]" if low is not None and high is not None else " [no interval]"
    return (f"**{row['claim']} ({row['verdict']})**: {row.get('effect_of') or 'effect'}: {number(row['effect'])}"
            f"{interval} ({count(row['n_seeds'], 'seeds')}; rule {row['rule']}).")


def measured_text(rows, changed, finding: str = "") -> str:
    """A chapter's computed summary paragraph, Markdown: '**Measured.** ', each ledger row's headline,
    an optional sentence of the chapter's own (`finding`), then how the rules of the claims `changed`
    differ from the book's first version."""
    return "**Measured.** " + " ".join([headline(r) for r in rows] + ([finding] if finding else [])) \
        + "\n\n" + changes(changed)


def rows_table(rows):
    """The rows a chapter recorded, as a table to show: claim, verdict, effect [95% interval], seeds, rule,
    what was measured."""
    import pandas as pd

    def interval(r):
        if r.get("effect") is None:
            return "n/a"
        low, high = r["ci"]
        return f"{number(r['effect'])} [{number(low)}, {number(high)}]"

    return pd.DataFrame({"claim": [r["claim"] for r in rows], "verdict": [r["verdict"] for r in rows],
                         "effect [95% CI]": [interval(r) for r in rows],
                         "effect of": [r.get("effect_of", "") for r in rows],
                         "seeds": [r["n_seeds"] for r in rows], "rule": [r["rule"] for r in rows],
                         "measured": [r["measured"] for r in rows]})


def show_rows(rows, cases_shown: int = 2):
    """`rows_table(rows)` as an HTML table whose "measured" cell lists its cases, folded beneath a summary
    line of its verdicts ("2 agrees, 7 inconclusive") when it has more than `cases_shown` parts: the table stays a few
    lines tall however many settings a claim covers."""
    import html

    from onepoch.tables import show

    def measured(row) -> str:
        cases = [html.escape(c) for c in str(row["measured"]).split("; ") if c]
        items = "<ul>" + "".join(f"<li>{c}</li>" for c in cases) + "</ul>"
        if len(cases) <= cases_shown:
            return items
        return f"<details><summary>{html.escape(verdict_counts(row))} (open for each)</summary>{items}</details>"

    frame = rows_table(rows)
    frame["measured"] = [measured(r) for r in rows]
    for column in ("claim", "verdict", "effect of", "rule"):  # escaped here, so the table keeps the HTML
        frame[column] = frame[column].map(lambda v: html.escape(str(v)))
    return show(frame, escape=False)


def verdict_counts(row: dict) -> str:
    """How the row's cases were judged, e.g. '4 agrees, 2 not testable' (from its measured text)."""
    from onepoch.analysis.stats import Verdict

    counts = [(v.value, row["measured"].count(f"[{v.value}]")) for v in Verdict]
    return ", ".join(f"{n} {v}" for v, n in counts if n) or "no case"
