"""Execute the chapters with papermill and assemble the book with Jupyter Book 1.

One concept per module: ``paths`` (where a build lives, its lock), ``toc`` (the chapters and their
parameters), ``stamps`` (when a chapter is out of date), ``execution`` (running one chapter),
``processes`` (children that never outlive the command), ``child`` (the papermill process),
``assembly`` (stage, HTML, pruning). Here: :func:`build` and :func:`run_chapter`, the one path from
``onepoch build`` / ``onepoch run`` to executed chapters and HTML.
"""
from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor

from onepoch.book import processes
from onepoch.book.assembly import MATHJAX_FILE, build_html, execution_page, mathjax_file, prune, stage
from onepoch.book.execution import (RUN_LOG_ENV, chapter_env, execute, last_failure, last_run, read_record,
                                    run_usage)
from onepoch.book.paths import (BOOK_DIR, EXECUTION_PAGE, KERNEL, LEDGER_CHAPTER, MODES, BookError, Layout,
                                build_lock, layout, say)
from onepoch.book.stamps import folder_hash_all, research_hash
from onepoch.book.toc import (chapters, checked_parameters, declared_inputs, parameters, quick_overrides,
                              reads_ledger)

__all__ = [
    "BOOK_DIR", "EXECUTION_PAGE", "KERNEL", "LEDGER_CHAPTER", "MATHJAX_FILE", "MODES", "RUN_LOG_ENV", "BookError",
    "Layout", "build", "build_html", "build_lock", "chapter_env", "chapters", "declared_inputs",
    "execute_chapter", "execution_page", "folder_hash_all", "last_failure", "last_run", "layout",
    "mathjax_file", "parameters", "prune", "quick_overrides", "read_record", "reads_ledger", "research_hash",
    "run_chapter",
    "run_usage", "stage",
]


def execute_chapter(name: str, mode: str = "full", parameters: dict | None = None, out_root=None, *,
                    root=None, force: bool = False, quiet: bool = False) -> dict:
    """Execute ``book/<name>.ipynb`` into ``<build>/executed/<name>.ipynb`` (alone: no ledger page,
    no HTML). ``parameters`` override the notebook's parameters cell (quick mode adds ``quick=True``);
    bad ones raise :class:`BookError` before anything runs. Returns the run record (``seconds``,
    ``finished``, ``skipped``, ...); skipped when nothing it depends on changed, unless ``force``."""
    lay = layout(mode, out_root, root)
    src, given = checked_parameters(name, mode, parameters, lay.root)
    with build_lock(lay, quiet):
        processes.allow_starts()
        try:
            return execute(name, src, given, lay, force, quiet)
        except BaseException:
            processes.stop_all()  # every child ends before the lock goes
            raise


def build(mode: str = "full", jobs: int = 1, *, out_root=None, root=None, strict: bool = True,
          force: bool = False, overrides: dict[str, dict] | None = None, only: list[str] | None = None,
          quiet: bool = False):
    """Execute every chapter (ledger last), stage and build the HTML; returns ``index.html``.

    ``overrides`` maps a chapter to parameters for this build: such a chapter is always executed
    (``onepoch run``); the others run with their defaults. With ``only``, just those chapters (and
    the ledger and the chapters that read it, see ``toc.reads_ledger``) are executed; the others
    enter the book as last executed, or unexecuted if they
    never were. Two builds of one folder wait for each other (see :func:`build_lock`).
    """
    lay = layout(mode, out_root, root)
    names = chapters(lay.root)
    overrides = overrides or {}
    readers = {n for n in names if n == LEDGER_CHAPTER or reads_ledger(lay.root / BOOK_DIR / f"{n}.ipynb")}
    checked = {name: checked_parameters(name, mode, overrides.get(name), lay.root)
               for name in names if only is None or name in only or name in readers}
    started = time.perf_counter()
    with build_lock(lay, quiet):
        processes.allow_starts()
        try:
            records = _execute_all(lay, names, checked, jobs, force, overrides, quiet)
        except BaseException:
            processes.stop_all()  # a stop (Ctrl-C, SIGTERM, SIGHUP) ends every child before the lock goes
            raise
        for rec in records:
            rec["last_failure"] = last_failure(lay, rec["chapter"])
        stage(lay, records)
        index = build_html(lay, strict=strict, quiet=quiet, force=force)
    say(f"[{mode}] book built in {time.perf_counter() - started:.1f} s: {index}", quiet)
    return index


def _execute_all(lay: Layout, names: list[str], checked: dict, jobs: int, force: bool, overrides: dict,
                 quiet: bool) -> list[dict]:
    def run(name: str) -> dict:
        if name not in checked:
            previous = read_record(lay, name)
            if previous and (lay.executed / f"{name}.ipynb").is_file():
                return {**previous, "skipped": True}
            say(f"[{lay.mode}] {name}: not executed (shown without outputs; run `onepoch build`)", quiet)
            return {"chapter": name, "mode": lay.mode, "not_executed": True}
        src, given = checked[name]
        return execute(name, src, given, lay, force or name in overrides, quiet)

    prune(lay, names)
    shutil.rmtree(lay.tmp, ignore_errors=True)  # leftovers of an execution killed outright
    # Chapters that read the ledger (and the ledger chapter) run after all the others, one by one, in
    # `chapters` order (the ledger last): they read the rows this build wrote.
    later = [n for n in names if n == LEDGER_CHAPTER or reads_ledger(lay.root / BOOK_DIR / f"{n}.ipynb")]
    first = [n for n in names if n not in later]
    records: dict[str, dict] = {}
    if jobs > 1 and len(first) > 1:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            try:
                records.update(zip(first, pool.map(run, first)))
            except BaseException:  # stop the other workers' chapters now, not after they finish
                processes.stop_all()
                pool.shutdown(cancel_futures=True)
                raise
    else:
        for name in first:
            records[name] = run(name)
    for name in later:
        records[name] = run(name)
    return [records[n] for n in names]


def run_chapter(name: str, parameters: dict | None = None, mode: str = "full", *, out_root=None, root=None,
                quiet: bool = False):
    """Execute one chapter with ``parameters`` (always), then the ledger, and rebuild the HTML; the
    other chapters are shown as last executed (not re-executed). One execution, through :func:`build`."""
    lay = layout(mode, out_root, root)
    checked_parameters(name, mode, parameters, lay.root)  # an unknown chapter or bad value: before the lock
    return build(mode, out_root=out_root, root=lay.root, overrides={name: parameters or {}}, only=[name],
                 quiet=quiet)
