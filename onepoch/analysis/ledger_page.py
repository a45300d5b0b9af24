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
import re

from onepoch.analysis import ledger
from onepoch.analysis.claim_texts import CLAIMS
from onepoch.analysis.stats import all_of
from onepoch.tables import number

NOT_TESTED = "not tested"  # a claim no chapter has a row for (not a verdict a rule returns)
_ANCHOR = re.compile(r"\b((?:fig|tab)-[a-z0-9][a-z0-9-]*[a-z0-9])\b")


def _fmt(x, digits: int = 4) -> str:
    """A number with a true minus sign, never "-0.0000"; "n/a" when missing."""
    return number(x, digits)


def effect_text(row) -> str:
    """'0.0123 [0.0101, 0.0145], 5 seeds' from a ledger row (dict or namedtuple)."""
    get = row.get if isinstance(row, dict) else (lambda k, d=None: getattr(row, k, d))
    effect, ci, n = get("effect"), get("ci"), get("n_seeds")
    if effect is None or (isinstance(effect, float) and not math.isfinite(effect)):
        return "n/a"
    interval = (f" [{_fmt(ci[0])}, {_fmt(ci[1])}]" if isinstance(ci, (list, tuple)) and len(ci) == 2
                and any(_fmt(c) != "n/a" for c in ci) else "")
    seeds = f", {int(n)} seed{'s' if int(n) != 1 else ''}" if n is not None and n == n and n > 0 else ""
    return f"{_fmt(effect)}{interval}{seeds}"


def anchor(evidence) -> str:
    """The figure or table a row's evidence names (``fig-...`` / ``tab-...``, the `plots.figure` name), or ''."""
    m = _ANCHOR.search(str(evidence or ""))
    return m.group(1) if m else ""


def evidence_href(chapter: str, evidence="") -> str:
    """Where a row's evidence is: the chapter's page, at the named figure or table when there is one."""
    if not chapter:
        return ""
    target = anchor(evidence)
    return f"{chapter}.html" + (f"#{target}" if target else "")


def reconcile(frame=None):
    """One row per claim (every claim of `CLAIMS`, and any other recorded): verdict, effect, ci, n_seeds,
    rule, chapter (of the deciding row with the most seeds), rows (how many chapter rows)."""
    import pandas as pd

    frame = ledger.table() if frame is None else frame
    ids = sorted(set(CLAIMS) | set(frame["claim"]), key=ledger.claim_key)
    out = []
    for claim in ids:
        rows = frame[frame["claim"] == claim]
        if rows.empty:
            out.append(dict(claim=claim, verdict=NOT_TESTED, effect=None, ci=None, n_seeds=None, rule="",
                            chapter="", rows=0, evidence=""))
            continue
        verdict = str(all_of(v for v in rows["verdict"]))
        decide = rows[rows["verdict"] == verdict]
        decide = decide if len(decide) else rows
        # Of the rows that decide, the one resting on the most seeds (the headline chapter's) shows its
        # effect; the verdict does not depend on this choice.
        seeds = decide["n_seeds"].fillna(0).astype(float)
        r = decide.loc[seeds.idxmax()] if seeds.notna().any() else decide.iloc[0]
        out.append(dict(claim=claim, verdict=verdict, effect=r["effect"], ci=r["ci"], n_seeds=r["n_seeds"],
                        rule=r["rule"], chapter=r["chapter"], rows=len(rows), evidence=r["evidence"]))
    return pd.DataFrame(out)


def _badge(verdict: str) -> str:
    verdict = html.escape(str(verdict))
    return f'<span class="verdict verdict-{verdict.replace(" ", "-")}">{verdict}</span>'


def _chapter_link(chapter: str, evidence="") -> str:
    """The chapter's name linked to its evidence (the figure or table it names, else the page)."""
    if not chapter:
        return ""
    where = anchor(evidence)
    label = html.escape(str(chapter)) + (f" ({'figure' if where.startswith('fig') else 'table'})" if where else "")
    return f'<a href="{html.escape(evidence_href(chapter, evidence))}">{label}</a>'


def _measured(row) -> str:
    parts = [html.escape(p) for p in str(row.measured).split("; ") if p]
    out = "<ul>" + "".join(f"<li>{p}</li>" for p in parts) + "</ul>" if parts else ""
    if row.evidence:
        text = html.escape(str(row.evidence))
        where = anchor(row.evidence)
        if where:  # the named figure or table becomes a link to it
            text = text.replace(where, f'<a href="{html.escape(evidence_href(row.chapter, row.evidence))}">'
                                       f"{'figure' if where.startswith('fig') else 'table'}</a>", 1)
        out += f'<p class="ledger-evidence"><small>{text}</small></p>'
    return out


def to_html(frame=None) -> str:
    """Every chapter row, folded per claim: one ``<details>`` line per claim (its rows' verdicts and
    chapters), opening onto each row's measurement, evidence and rule."""
    frame = ledger.table() if frame is None else frame
    out = ['<div class="onepoch-ledger-rows">']
    for claim in sorted(set(frame["claim"]), key=ledger.claim_key):
        rows = frame[frame["claim"] == claim]
        heads = ", ".join(f"{html.escape(str(r.chapter))} {_badge(r.verdict)}" for r in rows.itertuples(index=False))
        body = "".join(
            f'<div class="ledger-row"><p>{_badge(r.verdict)} {_chapter_link(r.chapter, r.evidence)}: '
            f"{html.escape(effect_text(r))}" + (f" <small>(rule {html.escape(str(r.rule))})</small>" if r.rule else "")
            + f"</p>{_measured(r)}</div>" for r in rows.itertuples(index=False))
        says = f'<p class="ledger-says"><em>The paper says:</em> {html.escape(str(rows["paper_says"].iloc[0]))}</p>'
        out.append(f"<details><summary><strong>{html.escape(claim)}</strong>: {heads}</summary>{says}{body}"
                   "</details>")
    out.append("</div>")
    return "\n".join(out)


def _effect_cell(row) -> str:
    """The effect on one line, its interval and seeds beneath in small type (a narrow column)."""
    text = effect_text(row)
    value, _, rest = text.partition(" ")
    interval, _, seeds = rest.rpartition("], ") if "], " in rest else (rest, "", "")
    interval = interval + "]" if seeds else interval
    # one line on a wide screen (class nowrap); the stylesheet lets it break after the comma on a phone
    lines = [html.escape(x) for x in (interval, seeds) if x]
    return f"<strong>{html.escape(value)}</strong>" + "".join(f'<br><small class="nowrap">{x}</small>' for x in lines)


def overview_frame(frame=None):
    """The overview as a table of HTML cells: verdict; claim (id and text, a link to the deciding chapter's
    figure or table beneath, the chapters' rows folded under it); effect [95% interval]."""
    import pandas as pd

    frame = ledger.table() if frame is None else frame
    out = []
    for s in reconcile(frame).itertuples(index=False):
        rows = frame[frame["claim"] == s.claim]
        says = CLAIMS.get(s.claim) or (rows["paper_says"].iloc[0] if len(rows) else "")
        folded = "".join(f"<li>{_badge(r.verdict)} {_chapter_link(r.chapter, r.evidence)}: "
                         f"{html.escape(effect_text(r))}</li>" for r in rows.itertuples(index=False))
        others = (f"<details><summary>{len(rows)} chapter row{'s' if len(rows) != 1 else ''}</summary>"
                  f"<ul>{folded}</ul></details>") if len(rows) > 1 else ""
        evidence = _chapter_link(s.chapter, s.evidence)
        out.append({"verdict": _badge(s.verdict),
                    "claim (evidence beneath)": f"<strong>{html.escape(s.claim)}</strong> {html.escape(str(says))}"
                    + (f'<br><small>evidence: {evidence}</small>' if evidence else "") + others,
                    "effect [95% interval]": _effect_cell(s)})
    return pd.DataFrame(out, columns=["verdict", "claim (evidence beneath)", "effect [95% interval]"])


def overview_html(frame=None) -> str:
    """One row per claim: the reconciled verdict first, the claim, its effect and interval, a link to the
    evidence, the chapters' rows folded beneath (a <details> block)."""
    from onepoch import tables

    return tables.to_html(overview_frame(frame), first="verdict", escape=False, stack=False)


def show_overview(frame=None):
    """The ledger at a glance: one reconciled row per claim."""
    from IPython.display import HTML

    return HTML(overview_html(frame))


def show(frame=None):
    """Every chapter row, folded per claim, or a note when there are none."""
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


def summary_html(frame=None, rules: dict | None = None) -> str:
    """`summary` as HTML, with the rules (id: wording) folded beneath it."""
    line = html.escape(summary(frame))
    line = re.sub(r"\*([^*]+)\*", r"<em>\1</em>", line)
    if not rules:
        return f"<p>{line}</p>"
    items = "".join(f"<li><strong>{html.escape(k)}</strong>: {html.escape(v)}</li>" for k, v in rules.items())
    return f"<p>{line}</p><details><summary>The rules behind the verdicts ({len(rules)})</summary><ul>{items}</ul></details>"


def show_summary(frame=None, rules: dict | None = None):
    """`summary_html` as the HTML output of a cell."""
    from IPython.display import HTML

    return HTML(summary_html(frame, rules))
