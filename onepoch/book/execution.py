"""Executing one chapter: a child process runs papermill into a private folder; only a successful
execution replaces the chapter's executed notebook and ledger rows (so a failed or stopped one
leaves the book as it was), and a run record notes its time, parameters, stamp and runs used.

A chapter's kernel gets ``cwd`` = the repository root and ``ONEPOCH_LEDGER`` (a private copy of
the ledger), ``ONEPOCH_CHAPTER``, ``ONEPOCH_RUN_LOG``, ``ONEPOCH_PROGRESS=0`` and absolute
``ONEPOCH_DATA`` / ``ONEPOCH_CACHE``. It is skipped when its stamp (see stamps.py) and its
executed notebook are unchanged since its last successful execution.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from onepoch import atomic, run_log, settings
from onepoch.book import effective, processes, stamps, toc
from onepoch.book.paths import KERNEL, LEDGER_CHAPTER, BookError, Layout, say

RUN_LOG_ENV = settings.RUN_LOG  # onepoch.runs.runner notes there each run a chapter uses


def chapter_env(lay: Layout) -> dict:
    """Environment of a chapter's kernel (also what nbval needs to re-run it)."""
    env = dict(os.environ)
    env[settings.LEDGER] = str(lay.ledger)
    env.pop(settings.CHAPTER, None)
    env[settings.PROGRESS] = "0"
    data = settings.data_folder()
    if data is None:
        shared = lay.root.parent / "shared" / "data"
        if shared.is_dir():
            env[settings.DATA] = str(shared)
    else:
        env[settings.DATA] = str(data.resolve())
    env[settings.CACHE] = str(settings.cache_folder(base=lay.root).resolve())
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def book_cache(root=None):
    """The run cache the book's chapters use (ONEPOCH_CACHE, else .onepoch-cache in the repository)."""
    from onepoch.book.paths import root_of
    from onepoch.runs.cache import ResultCache

    return ResultCache(settings.cache_folder(base=root_of(root)).resolve() / "runs")


def read_record(lay: Layout, name: str) -> dict | None:
    try:
        record = json.loads(lay.record(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def last_run(name: str, mode: str = "full", out_root=None, root=None) -> dict | None:
    """The record of a chapter's last successful execution, or None."""
    from onepoch.book.paths import layout

    return read_record(layout(mode, out_root, root), name)


def last_failure(lay: Layout, name: str) -> dict | None:
    """Why the chapter's last execution failed, when it failed after its last success."""
    try:
        return json.loads((lay.failed / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_usage(log: Path) -> dict:
    """What a chapter's execution noted in its run log: runs used (distinct), how many were trained
    by this execution, and the training seconds of all of them (as recorded when each was trained)."""
    runs = run_log.read(log)
    return {"runs": len(runs), "trained": sum(r["trained"] for r in runs.values()),
            "run_seconds": round(sum(r["seconds"] for r in runs.values()), 1), "keys": sorted(runs)}


def _tag_injected(path: Path, entries: list[dict] | None = None, mode: str = "full") -> None:
    """Tag papermill's injected-parameters cell ``remove-cell`` (hidden in the book) and, given the
    effective parameters (`effective.effective`), put their badge beneath the parameters cell."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    if entries is not None:
        effective.insert_badge(nb, entries, mode)
    nbformat.write(nb, path)


def child_command(spec: dict) -> list[str]:
    """The command that executes a chapter (tests swap in a stand-in)."""
    return [sys.executable, "-m", "onepoch.book.child", json.dumps(spec)]


# Fixes for failures a chapter's cell reports in one line (the reason is "cell [n]: Name: message").
_FIXES = (
    ("PermissionError", "give yourself access to that path (chmod / chown), or point ONEPOCH_DATA / ONEPOCH_CACHE "
                        "at folders you can use"),
    ("No space left on device", "free some disk space, or set ONEPOCH_CACHE to a folder on another disk"),
    ("MemoryError", "the chapter needs more memory than this machine has: use smaller settings (-p) or --quick"),
)


def _fix_for(reason: str) -> str:
    for needle, fix in _FIXES:
        if needle in reason:
            return f" (fix: {fix})"
    return ""


def _now() -> str:
    return _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()


def _sha_file(path: Path) -> str | None:
    try:
        return stamps.sha(path.read_bytes())
    except OSError:
        return None


def execute(name: str, src: Path, given: dict, lay: Layout, force: bool, quiet: bool) -> dict:
    """Execute a checked chapter (see toc.checked_parameters); the caller holds the build lock."""
    mode = lay.mode
    env = chapter_env(lay)
    stamp = stamps.stamp(name, src, given, lay, env, stamps.research_hash())
    dest = lay.executed / f"{name}.ipynb"
    previous = read_record(lay, name)
    if (not force and previous and previous.get("stamp") == stamp
            and previous.get("notebook_sha256") == _sha_file(dest)):
        say(f"[{mode}] {name}: up to date (executed {previous.get('finished', '?')})", quiet)
        return {**previous, "skipped": True}

    for folder in (lay.executed, lay.tmp, lay.ledger, lay.failed):
        folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=lay.tmp, prefix=f"{name}."))
    try:
        return _execute_in(work, name, src, given, lay, env, stamp, quiet)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _execute_in(work: Path, name: str, src: Path, given: dict, lay: Layout, env: dict, stamp: str,
                quiet: bool) -> dict:
    mode = lay.mode
    ledger = work / "ledger"  # the chapter writes its rows here; they replace the old ones on success
    shutil.copytree(lay.ledger, ledger, ignore=shutil.ignore_patterns("*.lock", f"{name}.json"))
    env.update({settings.LEDGER: str(ledger), settings.CHAPTER: name, RUN_LOG_ENV: str(work / "runs.jsonl")})
    out, error = work / f"{name}.ipynb", work / "error.txt"
    spec = {"result": str(error), "source": str(src), "output": str(out), "parameters": given,
            "cwd": str(lay.root), "kernel": KERNEL}
    say(f"[{mode}] {name}: executing" + (f" with {json.dumps(given)}" if given else ""), quiet)
    start = time.perf_counter()
    code = processes.run(child_command(spec), env=env, cwd=lay.root, stdin=processes.subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    usage = run_usage(work / "runs.jsonl")
    if code != 0:
        failed = lay.failed / f"{name}.ipynb"
        where = ""
        if out.is_file() and out.stat().st_size:
            os.replace(out, failed)
            where = f"; the executed notebook with the traceback: {failed}"
        reason = error.read_text(encoding="utf-8").strip() if error.is_file() else ""
        reason = (reason or f"exit code {code}") + _fix_for(reason)
        atomic.write_text(lay.failed / f"{name}.json", json.dumps(
            {"chapter": name, "mode": mode, "parameters": given, "reason": reason, "finished": _now()}) + "\n")
        kept = " (its previous results stay in the book until it succeeds)" if lay.record(name).is_file() else ""
        raise BookError(f"chapter {name!r} ({mode}) failed: {reason}{where}{kept}")

    entries = effective.effective(src, given, toc.parameters(name, lay.root), mode)
    _tag_injected(out, entries, mode)
    atomic.make_readable(out)
    record = {"chapter": name, "mode": mode, "parameters": given, "seconds": round(seconds, 2), **usage,
              "effective": entries,
              "finished": _now(), "stamp": stamp, "notebook_sha256": _sha_file(out)}
    # Swap in: first mark the old record stale, so a crash midway re-executes rather than mixes.
    if lay.record(name).is_file():
        atomic.write_text(lay.record(name), json.dumps({**(read_record(lay, name) or {}), "stamp": None}) + "\n")
    if name != LEDGER_CHAPTER:
        rows = ledger / f"{name}.json"
        if rows.is_file():
            os.replace(rows, lay.ledger / f"{name}.json")
        else:
            (lay.ledger / f"{name}.json").unlink(missing_ok=True)
    os.replace(out, lay.executed / f"{name}.ipynb")
    atomic.write_text(lay.record(name), json.dumps(record, indent=1) + "\n")
    (lay.failed / f"{name}.ipynb").unlink(missing_ok=True)
    (lay.failed / f"{name}.json").unlink(missing_ok=True)
    say(f"[{mode}] {name}: done in {seconds:.1f} s"
        + (f" ({usage['runs']} runs, {usage['trained']} trained now)" if usage["runs"] else ""), quiet)
    return {**record, "skipped": False}
