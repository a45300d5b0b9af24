"""Claims ledger: one row per paper claim tested by a chapter.

A chapter states what it measured against one of the paper's claims::

    from onepoch import ledger
    ledger.record("C1", paper_says="AUC drops at the start of epoch 2",
                  measured="test AUC 0.712 -> 0.694", verdict="agrees",
                  chapter="one_epoch", evidence="Figure: test AUC per step")

Rows live in ``$ONEPOCH_LEDGER/<chapter>.json`` (default ``_build/ledger``
under the working directory); ``record`` replaces the row with the same claim
id and chapter, so re-running a chapter never duplicates rows. ``table()``
reads every chapter's rows for the ledger page.
"""

from __future__ import annotations

import html
import json
import os
import re
from contextlib import contextmanager
from pathlib import Path

from onepoch import atomic
from onepoch.errors import OnepochError

VERDICTS = ("agrees", "partly agrees", "disagrees", "not tested")
COLUMNS = ("claim", "paper_says", "measured", "verdict", "chapter", "evidence")
DEFAULT_FOLDER = Path("_build") / "ledger"
_CLAIM = re.compile(r"^C(\d+)([A-Za-z0-9_.-]*)$")
_CHAPTER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class LedgerError(OnepochError, ValueError):
    """A ledger row that cannot be recorded as given."""


def folder() -> Path:
    """The ledger folder: ``$ONEPOCH_LEDGER``, else ``_build/ledger``."""
    from onepoch import settings

    return settings.ledger_folder()


def _claim_key(claim: str) -> tuple:
    m = _CLAIM.match(claim)
    return (int(m.group(1)), m.group(2)) if m else (10**9, claim)


def _check(claim, verdict, chapter) -> None:
    if not isinstance(claim, str) or not _CLAIM.match(claim):
        raise LedgerError(
            f"claim id {claim!r} is not valid: use 'C' and the claim's number, e.g. 'C1' or 'C12'"
        )
    if verdict not in VERDICTS:
        raise LedgerError(
            f"verdict {verdict!r} is not valid: use one of " + ", ".join(repr(v) for v in VERDICTS)
        )
    if not isinstance(chapter, str) or not _CHAPTER.match(chapter):
        raise LedgerError(
            f"chapter {chapter!r} is not valid: use the chapter's notebook name, e.g. 'one_epoch'"
        )
    from onepoch import settings

    running = settings.chapter()  # set by onepoch.book while it executes a chapter
    if running and chapter != running:
        raise LedgerError(
            f"chapter {chapter!r} does not match the notebook being executed: use chapter={running!r}"
        )


def _text(value) -> str:
    if isinstance(value, float):
        return format(value, ".4g")
    return str(value)


@contextmanager
def _locked(path: Path):
    """Hold an exclusive lock beside ``path`` (POSIX); a no-op elsewhere."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read(path: Path) -> list[dict]:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except json.JSONDecodeError as exc:
        raise LedgerError(f"ledger file {path} is not valid JSON ({exc}); delete it and re-run its chapter") from None
    return rows if isinstance(rows, list) else []


def record(claim: str, paper_says, measured, verdict: str, chapter: str, evidence="") -> None:
    """Add or replace the row (claim, chapter). Returns None, so a call that ends
    a notebook cell prints nothing.

    ``verdict`` is one of :data:`VERDICTS`. ``paper_says``, ``measured`` and
    ``evidence`` are shown as text (floats with 4 significant digits).
    The file is rewritten atomically (temp file, then ``os.replace``).
    """
    _check(claim, verdict, chapter)
    row = {
        "claim": claim,
        "paper_says": _text(paper_says),
        "measured": _text(measured),
        "verdict": verdict,
        "chapter": chapter,
        "evidence": _text(evidence),
    }
    dest = folder()
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{chapter}.json"
    with _locked(path):
        rows = [r for r in _read(path) if r.get("claim") != claim]
        rows.append(row)
        rows.sort(key=lambda r: _claim_key(r["claim"]))
        atomic.write_text(path, json.dumps(rows, indent=1, ensure_ascii=False) + "\n")


def clear(chapter: str) -> None:
    """Remove every row of ``chapter`` (done before a chapter is re-executed)."""
    (folder() / f"{chapter}.json").unlink(missing_ok=True)


def table():
    """All rows of all chapters as a DataFrame sorted by claim id (C1, C2, ..., C15).

    Columns: claim, paper_says, measured, verdict, chapter, evidence. Empty
    (with these columns) when no chapter has recorded a row yet.
    """
    import pandas as pd

    rows = []
    src = folder()
    if src.is_dir():
        for path in sorted(src.glob("*.json")):
            rows.extend(r for r in _read(path) if isinstance(r, dict) and "claim" in r)
    rows.sort(key=lambda r: (_claim_key(r["claim"]), r.get("chapter", "")))
    frame = pd.DataFrame([{c: r.get(c, "") for c in COLUMNS} for r in rows], columns=list(COLUMNS))
    return frame.reset_index(drop=True)


def to_html(frame=None) -> str:
    """The ledger as a plain HTML table (no index), chapter names linked to their pages.

    The measurement is a list of its parts (rows record them joined by '; '),
    with the evidence and the verdict's rule beneath in small type, so the
    table stays five columns wide."""
    frame = table() if frame is None else frame
    heads = ("Claim", "The paper says", "We measured", "Verdict", "Chapter")
    out = ['<table class="onepoch-ledger table">', "<thead><tr>"]
    out += [f"<th>{h}</th>" for h in heads]
    out.append("</tr></thead><tbody>")
    for row in frame.itertuples(index=False):
        parts = [html.escape(p) for p in str(row.measured).split("; ") if p]
        measured = parts[0] if len(parts) == 1 else "<ul>" + "".join(f"<li>{p}</li>" for p in parts) + "</ul>"
        if row.evidence:
            measured += f'<p class="ledger-evidence"><small>{html.escape(str(row.evidence))}</small></p>'
        cells = [html.escape(str(row.claim)), html.escape(str(row.paper_says)), measured,
                 _badge(row.verdict), _chapter_link(row.chapter)]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _badge(verdict: str) -> str:
    verdict = html.escape(str(verdict))
    return f'<span class="verdict verdict-{verdict.replace(" ", "-")}">{verdict}</span>'


def _chapter_link(chapter: str) -> str:
    chapter = html.escape(str(chapter))
    return f'<a href="{chapter}.html">{chapter}</a>' if chapter else ""


def overview_html(frame=None, claims: dict | None = None) -> str:
    """One row per claim of the paper, in order: its text and every chapter's verdict on it, linked.
    Claims that no chapter has tested yet are listed too, as not tested."""
    if claims is None:
        from onepoch.claims import CLAIMS as claims
    frame = table() if frame is None else frame
    ids = sorted(set(claims) | set(frame["claim"]), key=_claim_key)
    out = ['<table class="onepoch-ledger table">', "<thead><tr><th>Claim</th><th>The paper says</th>"
           "<th>Verdicts (chapter)</th></tr></thead><tbody>"]
    for claim in ids:
        rows = frame[frame["claim"] == claim]
        says = claims.get(claim) or (rows["paper_says"].iloc[0] if len(rows) else "")
        verdicts = "<br>".join(f"{_badge(r.verdict)} {_chapter_link(r.chapter)}" for r in rows.itertuples(index=False))
        out.append(f"<tr><td>{html.escape(claim)}</td><td>{html.escape(str(says))}</td>"
                   f"<td>{verdicts or _badge('not tested')}</td></tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def show_overview(frame=None):
    """The ledger at a glance: one row per claim with each chapter's verdict."""
    from IPython.display import HTML

    return HTML(overview_html(frame))


def show(frame=None):
    """What the ledger page displays: the table as HTML, or a note when it is empty."""
    from IPython.display import HTML, Markdown

    frame = table() if frame is None else frame
    if frame.empty:
        return Markdown(
            "*No claims recorded yet.* Rows appear here once the chapters that test "
            "the paper's claims have been executed (`onepoch build`)."
        )
    return HTML(to_html(frame))


def summary(frame=None) -> str:
    """One line counting the verdicts, e.g. '5 rows: 3 *agrees*, 2 *disagrees*.'."""
    frame = table() if frame is None else frame
    if frame.empty:
        return "No claim has been tested yet."
    counts = frame["verdict"].value_counts()
    parts = [f"{counts[v]} *{v}*" for v in VERDICTS if counts.get(v, 0)]
    n = len(frame)
    return f"{n} row{'s' if n != 1 else ''}: " + ", ".join(parts) + "."
