"""The sentences a chapter's computed Summary is made of: each reads correctly whatever the numbers are.

    rows = chapter_summary.recorded("model_factors")      # the ledger rows this chapter wrote in this run
    chapter_summary.bullets([chapter_summary.tally(rows), *chapter_summary.verdict_lines(rows)])

- `recorded(chapter)`: the chapter's ledger rows as written (a later record of a claim replaced an
  earlier one), each with `effect_of`, what its effect measures;
- `tally(rows)`: "Of the 3 claims this chapter tests, 2 agree with the paper and 1 is not testable.";
- `verdict_lines(rows)`: one sentence per verdict, naming each claim with its effect and 95% interval;
- `change(drop)`: a drop (end of epoch 1 minus first evaluation of epoch 2) as "falls by", "rises by"
  or "changes by ..., an interval that includes 0", chosen from its interval;
- `names(items)`: "a", "a and b", "a, b and c"; `bullets(lines)`: a Markdown list for the page.
"""
from __future__ import annotations

import math
import re

from onepoch.analysis import ledger
from onepoch.analysis.claim_texts import CLAIMS
from onepoch.tables import count, number, signed

VERDICT_ORDER = ("agrees", "disagrees", "inconclusive", "not testable")
# What the effect measures for rows recorded by a chapter itself (no "Effect shown:" in their evidence).
RULE_EFFECT = {
    "causes-a-jump": "jump of the incoming batches' A-distance at the epoch-2 boundary",
    "causes-update-ratio": "ratio of the last FC layer's mean update, epoch 2 over epoch 1",
    "keeps-drop": "drop at the epoch-2 boundary",
}
_SHOWN = re.compile(r"Effect shown: (.*?)\.(?:\s|$)")
_REFERENCE = re.compile(r"\s*\((?:Figs?\.|Sec\.|Implied|Extends|Fig\. \d+, on)[^)]*\)")


def recorded(chapter: str) -> list[dict]:
    """The rows `chapter` recorded in the ledger (this run's: a chapter's rows are cleared before it runs),
    sorted by claim, each with `effect_of` read from its evidence (or from `RULE_EFFECT`)."""
    frame = ledger.table()
    rows = frame[frame["chapter"] == chapter].to_dict("records")
    for r in rows:
        shown = _SHOWN.search(r.get("evidence") or "")
        r["effect_of"] = shown.group(1) if shown else RULE_EFFECT.get(r.get("rule", ""), "")
    return rows


def names(items) -> str:
    """'a', 'a and b', 'a, b and c'; 'none' for no item."""
    items = [str(x) for x in items]
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _verb(verdict: str, n: int) -> str:
    one = {"agrees": "agrees", "disagrees": "disagrees", "inconclusive": "is inconclusive",
           "not testable": "is not testable"}
    many = {"agrees": "agree", "disagrees": "disagree", "inconclusive": "are inconclusive",
            "not testable": "are not testable"}
    return (one if n == 1 else many).get(verdict, f"{'reads' if n == 1 else 'read'} {verdict!r}")


def tally(rows: list[dict]) -> str:
    """'Of the 3 claims this chapter tests, 2 agree with the paper and 1 is not testable.'"""
    if not rows:
        return "This chapter recorded no ledger row in this run."
    counts = [(v, sum(r["verdict"] == v for r in rows)) for v in VERDICT_ORDER]
    parts, said_paper = [], False
    for v, n in counts:
        if n:
            paper = v in ("agrees", "disagrees") and not said_paper
            said_paper = said_paper or paper
            parts.append(f"{n} {_verb(v, n)}{' with the paper' if paper else ''}")
    if len(rows) == 1:
        r = rows[0]
        return (f"The one claim this chapter tests ({r['claim']}) {_verb(r['verdict'], 1)}"
                f"{' with the paper' if r['verdict'] in ('agrees', 'disagrees') else ''}.")
    if len(parts) == 1:
        parts = [("both" if len(rows) == 2 else "all " + str(len(rows))) + " " + parts[0].split(" ", 1)[1]]
    return f"Of the {len(rows)} claims this chapter tests, {names(parts)}."


def claim_short(claim: str) -> str:
    """The paper's claim without its figure or section reference."""
    return _REFERENCE.sub("", CLAIMS.get(claim, claim)).strip().rstrip(".")


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def effect_text(row: dict) -> str:
    """'test AUC change at the epoch-2 boundary, beauty: −0.0123 [−0.0145, −0.0101] (5 seeds)', or that no
    effect was estimated. A drop (positive: AUC fell) reads as the signed change it is, as in the tables
    ('smallest drop' is the 'largest change'). (A ledger table holds a missing number as None or NaN.)"""
    from onepoch.tables import signed

    if not _finite(row.get("effect")):
        return "no effect could be estimated"
    what, effect = row.get("effect_of") or "effect", float(row["effect"])
    ci = row.get("ci")
    ci = list(ci) if ci is not None and not isinstance(ci, float) else [None, None]
    has_ci = all(_finite(x) for x in ci)
    if "drop" in what:
        what = what.replace("smallest drop", "largest change").replace("drop", "change")
        value = signed(-effect)
        interval = f" [{signed(-ci[1])}, {signed(-ci[0])}]" if has_ci else ""
    else:
        value = number(effect)
        interval = f" [{number(ci[0])}, {number(ci[1])}]" if has_ci else ""
    if not has_ci and "interval" not in what:
        interval = " (no interval)"
    seeds = f" ({count(int(row['n_seeds']), 'seeds')})" if _finite(row.get("n_seeds")) and row["n_seeds"] > 0 else ""
    return f"{what}: {value}{interval}{seeds}"


def verdict_lines(rows: list[dict], with_claim: bool = True) -> list[str]:
    """One sentence per verdict present: '**Agrees**: C3 “Logistic regression ...” — test AUC change ...:
    −0.0012 [...] (2 seeds); C5 “...” — ...'. The claim is quoted, not bracketed: its text has brackets."""
    lines = []
    for verdict in VERDICT_ORDER:
        picked = [r for r in rows if r["verdict"] == verdict]
        if picked:
            head = {r["claim"]: f"{r['claim']} “{claim_short(r['claim'])}” —" if with_claim else f"{r['claim']}:"
                    for r in picked}
            items = [f"{head[r['claim']]} {effect_text(r)}" for r in picked]
            lines.append(f"**{verdict.capitalize()}**: " + "; ".join(items) + ".")
    return lines


def compare(effect, more: str, less: str, neutral: str = "changes", digits: int = 4) -> str:
    """An effect with its 95% interval, the verb chosen from the interval: '<more> by 0.0030 [0.0010, 0.0050]'
    when it lies above 0, '<less> by ...' (magnitudes) when below, else '<neutral> by +0.0010 [−0.0020, +0.0040],
    an interval that includes 0'."""
    if not math.isfinite(effect.estimate):
        return "could not be measured"
    low, high = effect.low, effect.high
    if math.isfinite(low) and low > 0:
        return f"{more} by {number(effect.estimate, digits)} [{number(low, digits)}, {number(high, digits)}]"
    if math.isfinite(high) and high < 0:
        return f"{less} by {number(-effect.estimate, digits)} [{number(-high, digits)}, {number(-low, digits)}]"
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{neutral} by {signed(effect.estimate, digits)} (one seed: no interval)"
    return (f"{neutral} by {signed(effect.estimate, digits)} [{signed(low, digits)}, {signed(high, digits)}], "
            "an interval that includes 0")


def change(drop, what: str = "test AUC") -> str:
    """A drop `stats.Effect` (positive: the metric fell) as 'test AUC falls by 0.0032 [0.0010, 0.0054]',
    '... rises by ...', or '... changes by −0.0003 [−0.0020, +0.0014], an interval that includes 0'."""
    from onepoch.analysis.stats import Effect

    if not math.isfinite(drop.estimate):
        return f"the change in {what} could not be measured"
    as_change = Effect(-drop.estimate, -drop.high, -drop.low, drop.n_seeds, drop.method)
    return f"{what} " + compare(as_change, "rises", "falls")


def bullets(lines):
    """The lines as a Markdown bullet list (a notebook cell's output)."""
    from IPython.display import Markdown

    return Markdown("\n".join(f"- {line}" for line in lines if line))
