"""The run log: which runs a chapter's execution used, one JSON line per use.

`onepoch run` / `onepoch build` give each execution a file in $ONEPOCH_RUN_LOG; every run the chapter
uses (trained now or from the cache) appends a line to it (`note_use`), and both the build's execution
record and the chapter's run-cost sentence read it back (`read`). No torch here: the book builder
reads it too.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from onepoch import settings


def note_use(key: str, seconds: float, trained: bool) -> None:
    """Append one line to the file in $ONEPOCH_RUN_LOG, if set: a run the chapter used, the seconds its
    training took when it was trained, and whether it was trained now (or came from the cache).
    One short write with O_APPEND, so parallel workers' lines never mix."""
    path = settings.run_log()
    if not path:
        return
    line = json.dumps({"key": key, "seconds": round(float(seconds), 3), "trained": bool(trained)}) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError:  # a worker on another machine (Dask, Ray) has no such folder: the counts are informational
        return
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read(path: str | Path) -> dict[str, dict]:
    """Each distinct run of the log: {key: {"seconds": training seconds, "trained": trained by this
    execution (any of its lines)}}; empty when there is no such file."""
    runs: dict[str, dict] = {}
    path = Path(path)
    if not path.is_file():
        return runs
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:  # a line cut short by a killed worker: skip it
            continue
        seen = runs.setdefault(entry["key"], {"seconds": 0.0, "trained": False})
        seen["seconds"] = float(entry["seconds"])
        seen["trained"] = seen["trained"] or bool(entry.get("trained"))
    return runs
