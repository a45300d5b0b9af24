"""Where a build lives, and the one lock that serialises builds of a folder.

Layout of a build (``out_root`` defaults to ``<repo>/_build``; quick mode adds ``/quick``)::

    <build>/executed/<name>.ipynb      executed chapter (what the book shows)
    <build>/executed/<name>.run.json   its wall time, date, parameters, stamp, runs used
    <build>/failed/<name>.ipynb        the partial notebook of the last failed execution
    <build>/failed/<name>.json         why it failed (the book's execution page shows it)
    <build>/ledger/<chapter>.json      claims ledger rows written by the chapters
    <build>/tmp/<name>.<id>/           one execution in progress (moved into place on success)
    <build>/stage/                     _config.yml, _toc.yml, book/ as Jupyter Book reads it
    <build>/html/                      the built book (open html/index.html)
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from onepoch import locks
from onepoch.errors import OnepochError

ROOT = Path(__file__).resolve().parents[2]  # the repository: _config.yml, _toc.yml, book/
MODES = ("full", "quick")
KERNEL = "python3"
EXECUTION_PAGE = "execution"  # generated at build time; listed in _toc.yml as book/execution
LEDGER_CHAPTER = "ledger"  # executed last: it reads the rows the other chapters wrote
BOOK_DIR = "book"


class BookError(OnepochError):
    """A chapter or book build that cannot run as asked."""


@dataclass(frozen=True)
class Layout:
    """Where one mode's build lives."""

    root: Path  # repository root (holds _config.yml, _toc.yml, book/)
    mode: str
    build: Path  # _build or _build/quick

    executed = property(lambda self: self.build / "executed")
    failed = property(lambda self: self.build / "failed")
    ledger = property(lambda self: self.build / "ledger")
    stage = property(lambda self: self.build / "stage")
    html = property(lambda self: self.build / "html")
    tmp = property(lambda self: self.build / "tmp")
    jupyter_book_output = property(lambda self: self.build / "jb")

    def record(self, name: str) -> Path:
        return self.executed / f"{name}.run.json"


def root_of(root=None) -> Path:
    return Path(root).resolve() if root is not None else ROOT


def layout(mode: str = "full", out_root=None, root=None) -> Layout:
    if mode not in MODES:
        raise BookError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    root = root_of(root)
    out = Path(out_root).resolve() if out_root is not None else root / "_build"
    return Layout(root=root, mode=mode, build=out / "quick" if mode == "quick" else out)


def build_lock(lay: Layout, quiet: bool = False):
    """One build (or chapter execution) per build folder at a time: a second one waits, then finds
    its chapters up to date. Taken once, by the outermost caller (build or execute_chapter)."""
    return locks.exclusive(lay.build / ".lock", f"[{lay.mode}] another build", quiet)


def say(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)

