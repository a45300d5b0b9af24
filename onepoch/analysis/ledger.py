"""Claims ledger storage: one row per paper claim tested by a chapter.

A chapter states what it measured against one of the paper's claims::

    from onepoch.analysis import ledger
    ledger.record("C1", paper_says="AUC drops at the start of epoch 2",
                  measured="test AUC 0.712 -> 0.694", verdict="agrees",
                  chapter="one_epoch", evidence="Figure: test AUC per step",
                  effect=0.018, ci=(0.012, 0.024), n_seeds=5, rule="drop+sharp")

(`onepoch.analysis.claims` writes these rows from measurements; the chapters
rarely call `record` themselves.) A row carries its numbers: the effect, its
95% interval, the number of seeds and the id of the rule that decided the
verdict (`onepoch.analysis.rules.RULES`), so a reader can sort and plot them.

Rows live in ``$ONEPOCH_LEDGER/<chapter>.json`` (default ``_build/ledger``
under the working directory); ``record`` replaces the row with the same claim
id and chapter, so re-running a chapter never duplicates rows. ``table()``
reads every chapter's rows; `onepoch.analysis.ledger_page` shows them.
"""

from __future__ import annotations

import math
import json
import os
import re
from contextlib import contextmanager
from pathlib import Path

from onepoch import atomic
from onepoch.errors import OnepochError

VERDICTS = ("agrees", "disagrees", "inconclusive", "not testable")  # onepoch.analysis.stats.Verdict
COLUMNS = ("claim", "paper_says", "measured", "verdict", "chapter", "evidence", "effect", "ci", "n_seeds", "rule")
TEXT = ("claim", "paper_says", "measured", "verdict", "chapter", "evidence", "rule")
DEFAULT_FOLDER = Path("_build") / "ledger"
_CLAIM = re.compile(r"^C(\d+)([A-Za-z0-9_.-]*)$")
_CHAPTER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class LedgerError(OnepochError, ValueError):
    """A ledger row that cannot be recorded as given."""


def folder() -> Path:
    """The ledger folder: ``$ONEPOCH_LEDGER``, else ``_build/ledger``."""
    env = os.environ.get("ONEPOCH_LEDGER")
    return Path(env) if env else DEFAULT_FOLDER


def claim_key(claim: str) -> tuple:
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
    running = os.environ.get("ONEPOCH_CHAPTER")  # set by onepoch.book while it executes a chapter
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


def _number(value) -> float | None:
    """A float for JSON, None for a missing or non-finite one (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def record(claim: str, paper_says, measured, verdict: str, chapter: str, evidence="", effect=None, ci=None,
           n_seeds=None, rule: str = "") -> None:
    """Add or replace the row (claim, chapter). Returns None, so a call that ends
    a notebook cell prints nothing.

    ``verdict`` is one of :data:`VERDICTS`. ``paper_says``, ``measured`` and
    ``evidence`` are shown as text (floats with 4 significant digits).
    ``effect`` (float), ``ci`` ((low, high)), ``n_seeds`` and ``rule`` (a
    short id) are stored as numbers; a missing or non-finite one as null.
    The file is rewritten atomically (temp file, then ``os.replace``).
    """
    verdict = str(verdict)
    _check(claim, verdict, chapter)
    if ci is not None and len(ci) != 2:
        raise LedgerError(f"ci must be (low, high), got {ci!r}")
    row = {
        "claim": claim,
        "paper_says": _text(paper_says),
        "measured": _text(measured),
        "verdict": verdict,
        "chapter": chapter,
        "evidence": _text(evidence),
        "effect": _number(effect),
        "ci": None if ci is None else [_number(ci[0]), _number(ci[1])],
        "n_seeds": None if n_seeds is None else int(n_seeds),
        "rule": str(rule),
    }
    dest = folder()
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{chapter}.json"
    with _locked(path):
        rows = [r for r in _read(path) if r.get("claim") != claim]
        rows.append(row)
        rows.sort(key=lambda r: claim_key(r["claim"]))
        atomic.write_text(path, json.dumps(rows, indent=1, ensure_ascii=False) + "\n")


def clear(chapter: str) -> None:
    """Remove every row of ``chapter`` (done before a chapter is re-executed)."""
    (folder() / f"{chapter}.json").unlink(missing_ok=True)


def table():
    """All rows of all chapters as a DataFrame sorted by claim id (C1, C2, ..., C15).

    Columns: `COLUMNS` (rows written before the numbers existed get None). Empty
    (with these columns) when no chapter has recorded a row yet.
    """
    import pandas as pd

    rows = []
    src = folder()
    if src.is_dir():
        for path in sorted(src.glob("*.json")):
            rows.extend(r for r in _read(path) if isinstance(r, dict) and "claim" in r)
    rows.sort(key=lambda r: (claim_key(r["claim"]), r.get("chapter", "")))
    frame = pd.DataFrame([{c: r.get(c, "" if c in TEXT else None) for c in COLUMNS} for r in rows],
                         columns=list(COLUMNS))
    return frame.reset_index(drop=True)
