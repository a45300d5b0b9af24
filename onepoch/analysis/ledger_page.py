"""The ledger page: one reconciled verdict per claim, the chapters' rows beneath.

Reads the rows `onepoch.analysis.ledger` stores; knows the claims' texts
(`claim_texts`) and how verdicts combine (`stats.all_of`). A claim's
reconciled verdict: 'disagrees' if any chapter's testable row disagrees,
'agrees' if all testable rows agree, 'not testable' if no row is testable,
else 'inconclusive'. Its effect and interval are those of the first chapter
row (book order) whose verdict is the reconciled one; each chapter's row
already pools its data sets.
"""
from __future__ import annotations

import html
import math

from onepoch.analysis import ledger
from onepoch.analysis.claim_texts import CLAIMS
from onepoch.analysis.stats import all_of

NOT_TESTED = "not tested"  # a claim no chapter has a row for (not a verdict a rule returns)


def _fmt(x, digits: int = 4) -> str:
    return f"{x:.{digits}f}" if isinstance(x, (int, float)) and x is not None and math.isfinite(x) else "n/a"


def effect_text(row) -> str:
    """'0.0123 [0.0101, 0.0145], 5 seeds' from a ledger row (dict or namedtuple)."""
    get = row.get if isinstance(row, dict) else (lambda k, d=None: getattr(row, k, d))
    effect, ci, n = get("effect"), get("ci"), get("n_seeds")
    if effect is None or (isinstance(effect, float) and not math.isfinite(effect)):
        return "n/a"
    interval = f" [{_fmt(ci[0])}, {_fmt(ci[1])}]" if isinstance(ci, (list, tuple)) and len(ci) == 2 else ""
    seeds = f", {int(n)} seeds" if n is not None and n == n and n > 0 else ""
    return f"{_fmt(effect)}{interval}{seeds}"


def reconcile(frame=None):
    """One row per claim (every claim of `CLAIMS`, and any other recorded): verdict, effect, ci, n_seeds,
    rule, chapter (the deciding row's), rows (how many chapter rows)."""
    import pandas as pd

    frame = ledger.table() if frame is None else frame
    ids = sorted(set(CLAIMS) | set(frame["claim"]), key=ledger.claim_key)
    out = []
    for claim in ids:
        rows = frame[frame["claim"] == claim]
        if rows.empty:
            out.append(dict(claim=claim, verdict=NOT_TESTED, effect=None, ci=None, n_seeds=None, rule="",
                            chapter="", rows=0))
            continue
        verdict = str(all_of(v for v in rows["verdict"]))
        decide = rows[rows["verdict"] == verdict]
        r = (decide if len(decide) else rows).iloc[0]
        out.append(dict(claim=claim, verdict=verdict, effect=r["effect"], ci=r["ci"], n_seeds=r["n_seeds"],
                        rule=r["rule"], chapter=r["chapter"], rows=len(rows)))
    return pd.DataFrame(out)


def _badge(verdict: str) -> str:
    verdict = html.escape(str(verdict))
    return f'<span class="verdict verdict-{verdict.replace(" ", "-")}">{verdict}</span>'


def _chapter_link(chapter: str) -> str:
    chapter = html.escape(str(chapter))
    return f'<a href="{chapter}.html">{chapter}</a>' if chapter else ""


def _measured(row) -> str:
    parts = [html.escape(p) for p in str(row.measured).split("; ") if p]
    out = parts[0] if len(parts) == 1 else "<ul>" + "".join(f"<li>{p}</li>" for p in parts) + "</ul>"
    if row.evidence:
        out += f'<p class="ledger-evidence"><small>{html.escape(str(row.evidence))}</small></p>'
    return out


def to_html(frame=None) -> str:
    """Every chapter row as a plain HTML table (no index): claim, what the paper says, what was measured (with
    evidence and rule beneath in small type), effect [95% interval], verdict, chapter."""
    frame = ledger.table() if frame is None else frame
    heads = ("Claim", "The paper says", "We measured", "Effect [95% interval]", "Verdict", "Chapter")
    out = ['<table class="onepoch-ledger table">', "<thead><tr>"]
    out += [f"<th>{h}</th>" for h in heads]
    out.append("</tr></thead><tbody>")
    for row in frame.itertuples(index=False):
        cells = [html.escape(str(row.claim)), html.escape(str(row.paper_says)), _measured(row),
                 html.escape(effect_text(row)) + (f"<br><small>rule: {html.escape(str(row.rule))}</small>"
                                                  if row.rule else ""),
                 _badge(row.verdict), _chapter_link(row.chapter)]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def overview_html(frame=None) -> str:
    """One row per claim: its text, the reconciled verdict with effect and interval, and the chapters' rows
    folded beneath it (a <details> block)."""
    frame = ledger.table() if frame is None else frame
    summary = reconcile(frame)
    out = ['<table class="onepoch-ledger table">', "<thead><tr><th>Claim</th><th>The paper says</th>"
           "<th>Verdict</th><th>Effect [95% interval]</th><th>Chapters</th></tr></thead><tbody>"]
    for s in summary.itertuples(index=False):
        rows = frame[frame["claim"] == s.claim]
        says = CLAIMS.get(s.claim) or (rows["paper_says"].iloc[0] if len(rows) else "")
        effect = html.escape(effect_text(s)) + (f"<br><small>rule {html.escape(s.rule)}, from "
                                                f"{_chapter_link(s.chapter)}</small>" if s.rule else "")
        folded = "".join(f"<li>{_badge(r.verdict)} {_chapter_link(r.chapter)}: {html.escape(effect_text(r))}</li>"
                         for r in rows.itertuples(index=False))
        chapters = (f"<details><summary>{len(rows)} row{'s' if len(rows) != 1 else ''}</summary><ul>{folded}</ul>"
                    "</details>") if len(rows) else ""
        out.append(f"<tr><td>{html.escape(s.claim)}</td><td>{html.escape(str(says))}</td><td>{_badge(s.verdict)}</td>"
                   f"<td>{effect}</td><td>{chapters}</td></tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def show_overview(frame=None):
    """The ledger at a glance: one reconciled row per claim."""
    from IPython.display import HTML

    return HTML(overview_html(frame))


def show(frame=None):
    """Every chapter row as HTML, or a note when there are none."""
    from IPython.display import HTML, Markdown

    frame = ledger.table() if frame is None else frame
    if frame.empty:
        return Markdown(
            "*No claims recorded yet.* Rows appear here once the chapters that test "
            "the paper's claims have been executed (`onepoch build`)."
        )
    return HTML(to_html(frame))


def summary(frame=None) -> str:
    """One line counting the reconciled verdicts, e.g. '15 claims: 3 *agrees*, 2 *disagrees*, ...'."""
    frame = ledger.table() if frame is None else frame
    if frame.empty:
        return "No claim has been tested yet."
    counts = reconcile(frame)["verdict"].value_counts()
    parts = [f"{counts[v]} *{v}*" for v in (*ledger.VERDICTS, NOT_TESTED) if counts.get(v, 0)]
    n = int(counts.sum())
    return f"{n} claim{'s' if n != 1 else ''}: " + ", ".join(parts) + f" ({len(frame)} chapter rows)."
