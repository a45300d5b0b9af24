"""The intro's "Findings at a glance": the few sentences a reader came for, computed from the claims
ledger of this build (`ledger_page.reconcile`), each linked to its evidence (the chapter's figure or
table, see `ledger_page.evidence_href`).

The intro declares ``metadata.onepoch.reads_ledger`` so the book runs it after the chapters that write
rows (onepoch.book.toc.chapters); run alone before any chapter, it finds no rows and says so.
"""
from __future__ import annotations

import html

from onepoch.analysis import ledger, ledger_page, rules
from onepoch.analysis.claim_texts import CLAIMS
from onepoch.analysis.ledger_page import NOT_TESTED, effect_text, evidence_href

# The questions the book is read for, with the claim that answers each.
HEADLINES = (  # claim, question, what its rule's effect is (rules.RULES: 'drop+sharp', 'C2-gain')
    ("C1", "Does test AUC fall sharply at the start of epoch 2?", "the fall in test AUC; positive: it fell"),
    ("C2", "Is one epoch the best?", "the best later epoch minus epoch 1; positive: more epochs help"),
)
NO_LEARNING = "does not learn"  # the ledger's wording when a setting's model stays near AUC 0.5


def _link(text: str, row) -> str:
    href = evidence_href(row["chapter"], row.get("evidence", ""))
    return f'<a href="{html.escape(href)}">{html.escape(text)}</a>' if href else html.escape(text)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun if n == 1 else noun + 's'}"


def _claim_line(row) -> str:
    text = html.escape(CLAIMS.get(row["claim"], "").rstrip("."))
    # a claim text that opens with its source, "(Extends Fig. 9) ...", is not wrapped in parentheses again
    said = f"{row['claim']} {text}" if text.startswith("(") else f"{row['claim']} ({text})"
    return f"{said}: " + _link(f"{row['chapter']}, effect {effect_text(row)}", row)


def findings(frame=None, quick: bool = False) -> str:
    """HTML (links to the evidence): the findings of this build's ledger, or a plain note that no chapter
    has recorded any yet."""
    frame = ledger.table() if frame is None else frame
    if frame.empty:
        return ("<p><strong>Findings at a glance.</strong> No chapter of this build has recorded a result yet, "
                "so there is nothing to report here: build the book (<code>onepoch build</code>, or <code>onepoch "
                "build --quick</code>), which runs this page after the chapters, and this section will state what "
                "they found.</p>")
    summary = ledger_page.reconcile(frame)
    rows = {r["claim"]: r for r in summary.to_dict("records")}
    tested = summary[summary["verdict"] != NOT_TESTED]
    counts = tested["verdict"].value_counts()
    verdicts = ", ".join(f"{int(counts[v])} <em>{v}</em>" for v in ledger.VERDICTS if counts.get(v, 0))
    mode = (" This is the <strong>quick</strong> build (few data, epochs and seeds): read its verdicts as a "
            "smoke test, not as the book's results." if quick else "")
    head = (f"<p><strong>Findings at a glance</strong> (computed from this build's "
            f'<a href="ledger.html">claims ledger</a>, {_count(len(frame), "chapter row")}).{mode}</p>')
    lines = []
    lines.append(f"- {len(tested)} of the {_count(len(summary), 'claim')} in the ledger "
                 f"{'was' if len(tested) == 1 else 'were'} tested in this build: {verdicts}.")
    for claim, question, what in HEADLINES:
        row = rows.get(claim)
        if row is None or row["verdict"] == NOT_TESTED:
            lines.append(f"- <strong>{question}</strong> ({claim}) Not tested in this build.")
        else:
            lines.append(f"- <strong>{question}</strong> ({claim}) The paper says yes; this build's verdict: "
                         f"<em>{row['verdict']}</em> "
                         f"(" + _link(f"{row['chapter']}, effect {effect_text(row)}", row) + f"; {what}).")
    for verdict, heading in (("disagrees", "Where the book disagrees with the paper"),
                             ("agrees", "Where it agrees")):
        picked = [rows[c] for c in tested[tested["verdict"] == verdict]["claim"] if c not in {h[0] for h in HEADLINES}]
        if picked:
            lines.append(f"- <strong>{heading}:</strong> " + "; ".join(_claim_line(r) for r in picked) + ".")
    untestable = frame[frame["verdict"] == "not testable"]
    if len(untestable):
        idle = int(untestable["measured"].str.contains(NO_LEARNING).sum())
        lines.append(f"- {_count(len(untestable), 'chapter row')} of {len(frame)} could not be tested"
                     + (f"; in {idle} of them the model does not learn (test AUC at the end of epoch 1 "
                        f"below {rules.AUC_FLOOR}, too close to 0.5 for a drop to mean anything)" if idle else "") + ".")
    return head + "<ul>" + "".join(f"<li>{line[2:]}</li>" for line in lines) + "</ul>"


def show(frame=None, quick: bool = False):
    """`findings` as the HTML output of a notebook cell."""
    from IPython.display import HTML

    return HTML(f'<div class="onepoch-findings">{findings(frame, quick)}</div>')
