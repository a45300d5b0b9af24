"""Shared fixtures. ``tiny_book`` makes a throwaway book (its own _toc.yml,
_config.yml and small chapters) in a temporary folder, so the book and CLI
tests never depend on the real chapters."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def notebook(cells: list[tuple[str, str, list[str]]]) -> str:
    """A minimal nbformat-4 notebook: cells given as (kind, source, tags)."""
    out = []
    for i, (kind, source, tags) in enumerate(cells):
        cell = {"cell_type": kind, "id": f"c{i}", "metadata": {"tags": tags} if tags else {}, "source": source}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        out.append(cell)
    nb = {
        "cells": out,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, indent=1)


ALPHA = notebook([
    ("markdown", "# Alpha\n\nA tiny chapter with math: $x^2$.", []),
    ("code", "quick = False\nn = 2\nfail = False", ["parameters"]),
    ("code", "import os\nprint(n * 10, quick)\nif fail:\n    raise ValueError('boom at n=%d' % n)", []),
    ("code", "from onepoch.analysis import ledger\nledger.record('C3', 'x', n, 'agrees', 'alpha')", []),
])

BETA = notebook([
    ("markdown", "# Beta", []),
    ("code", "quick = False", ["parameters"]),
    ("code", "print('beta')", []),
])

LEDGER = notebook([
    ("markdown", "# Ledger", []),
    ("code", "quick = False", ["parameters", "remove-cell"]),
    ("code", "from onepoch.analysis import ledger\nprint(len(ledger.table()))", []),
])

TOC = """format: jb-book
root: book/alpha
chapters:
  - file: book/ledger
  - file: book/beta
  - file: book/notes
  - file: book/execution
"""


@pytest.fixture
def tiny_book(tmp_path: Path, monkeypatch) -> Path:
    """A throwaway book root: chapters alpha, beta, ledger and a markdown page."""
    root = tmp_path / "repo"
    (root / "book").mkdir(parents=True)
    (root / "_toc.yml").write_text(TOC)
    (root / "_config.yml").write_text((REPO / "_config.yml").read_text())  # the real configuration
    (root / "book" / "alpha.ipynb").write_text(ALPHA)
    (root / "book" / "beta.ipynb").write_text(BETA)
    (root / "book" / "ledger.ipynb").write_text(LEDGER)
    (root / "book" / "notes.md").write_text("# Notes\n\nA plain page.\n")
    for var in ("ONEPOCH_LEDGER", "ONEPOCH_CACHE", "ONEPOCH_DATA"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ONEPOCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ONEPOCH_DATA", str(tmp_path / "data"))
    return root


@pytest.fixture
def tiny_source(tmp_path, monkeypatch):
    """A registered data set 'tiny' whose files are served from a local origin folder by file:// URLs."""
    from onepoch.data.sources import DATASETS, DataFile, DatasetSource

    origin = tmp_path / "origin"
    origin.mkdir()
    contents = {"sequences": b"1 1 2 3\n2 2 3 4\n", "attributes": b'{"1": [5], "2": [5, 6]}'}
    files = []
    for role, data in contents.items():
        (origin / f"tiny.{role}").write_bytes(data)
        files.append(DataFile(role, f"tiny/tiny.{role}", hashlib.sha256(data).hexdigest(), (origin / f"tiny.{role}").as_uri()))
    monkeypatch.setitem(DATASETS, "tiny", DatasetSource("tiny", "s3rec", tuple(files)))
    return tmp_path / "data", contents


@pytest.fixture
def isolated_data_cache(tmp_path, monkeypatch):
    """An empty ONEPOCH_CACHE, no progress bars, and no in-process data copies before or after the test.
    Data modules use it for every test: `pytestmark = pytest.mark.usefixtures("isolated_data_cache")`."""
    from onepoch.data import dataset

    monkeypatch.setenv("ONEPOCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ONEPOCH_PROGRESS", "0")
    dataset.clear_memory_cache()
    yield
    dataset.clear_memory_cache()


@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    """An empty ONEPOCH_DATA folder (user data sets are added to it by the test)."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("ONEPOCH_DATA", str(data))
    return data
