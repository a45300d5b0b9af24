"""When is a chapter's executed notebook out of date? Its stamp hashes what its results depend
on: the notebook, its parameters and mode, its declared input files, the data and cache folders,
and the research code. Not the book tooling: editing the CLI, the settings module or this package
changes no result, so it re-executes no chapter."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from onepoch.book.paths import LEDGER_CHAPTER, Layout
from onepoch.book.toc import declared_inputs, reads_ledger

PACKAGE = Path(__file__).resolve().parents[1]
# Tooling, relative to the package: how a book is built and started, never what a run computes.
TOOLING = ("book/", "cli.py", "settings.py", "locks.py", "runs/archive.py", "runs/migrate.py")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_tooling(relative: str) -> bool:
    return any(relative == t or (t.endswith("/") and relative.startswith(t)) for t in TOOLING)


def research_hash(package: Path | None = None) -> str:
    """Hash of the research code: the package's Python source (paths and contents) minus the tooling."""
    package = package or PACKAGE
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if "__pycache__" in path.parts or is_tooling(rel):
            continue
        h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def folder_hash(folder: Path, pattern: str = "*.json", skip: str = "") -> str:
    h = hashlib.sha256()
    if folder.is_dir():
        for path in sorted(p for p in folder.glob(pattern) if p.name != skip):
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def folder_hash_all(folder: Path) -> str:
    """Hash of every file under ``folder`` (relative paths and contents)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def inputs_hash(root: Path, inputs: list[str]) -> str:
    h = hashlib.sha256()
    for rel in inputs:
        path = root / rel
        h.update(rel.encode() + b"\0")
        if path.is_dir():
            h.update(folder_hash_all(path).encode())
        elif path.is_file():
            h.update(sha(path.read_bytes()).encode())
        else:
            h.update(b"missing")
    return h.hexdigest()


def stamp(name: str, src: Path, params: dict, lay: Layout, env: dict, research: str) -> str:
    parts = {
        "source": sha(src.read_bytes()),
        "inputs": inputs_hash(lay.root, declared_inputs(src)),
        "parameters": json.dumps(params, sort_keys=True),
        "mode": lay.mode,
        "package": research,
        "data": env.get("ONEPOCH_DATA", ""),
        "cache": env.get("ONEPOCH_CACHE", ""),
    }
    if name == LEDGER_CHAPTER or reads_ledger(src):  # what it reads: the other chapters' rows
        parts["ledger"] = folder_hash(lay.ledger, skip=f"{name}.json")
    return sha(json.dumps(parts, sort_keys=True).encode())
