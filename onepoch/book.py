"""Execute the chapters with papermill and assemble the book with Jupyter Book 1.

Layout of a build (``out_root`` defaults to ``<repo>/_build``; quick mode adds
``/quick``)::

    <build>/executed/<name>.ipynb      executed chapter (what the book shows)
    <build>/executed/<name>.run.json   its wall time, date, parameters, input hash
    <build>/failed/<name>.ipynb        the partial notebook of a failed execution
    <build>/ledger/<chapter>.json      claims ledger rows written by the chapters
    <build>/stage/                     _config.yml, _toc.yml, book/ as Jupyter Book reads it
    <build>/html/                      the built book (open html/index.html)

A chapter is executed in a fresh process with ``cwd`` = the repository root and
``ONEPOCH_LEDGER``, ``ONEPOCH_PROGRESS=0``, ``ONEPOCH_DATA`` and
``ONEPOCH_CACHE`` set (absolute paths). It is skipped when its source
notebook, its parameters, the mode and the package's source are unchanged
since its last successful execution.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as _dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from onepoch import atomic
from onepoch.errors import OnepochError

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(__file__).resolve().parent
MODES = ("full", "quick")
KERNEL = "python3"
EXECUTION_PAGE = "execution"  # generated at build time; listed in _toc.yml as book/execution
LEDGER_CHAPTER = "ledger"  # executed last: it reads the rows the other chapters wrote
BOOK_DIR = "book"


class BookError(OnepochError):
    """A chapter or book build that cannot run as asked."""


# ----------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    """Where one mode's build lives."""

    root: Path  # repository root (holds _config.yml, _toc.yml, book/)
    mode: str
    build: Path  # _build or _build/quick

    @property
    def executed(self) -> Path:
        return self.build / "executed"

    @property
    def failed(self) -> Path:
        return self.build / "failed"

    @property
    def ledger(self) -> Path:
        return self.build / "ledger"

    @property
    def stage(self) -> Path:
        return self.build / "stage"

    @property
    def html(self) -> Path:
        return self.build / "html"

    @property
    def tmp(self) -> Path:
        return self.build / "tmp"

    @property
    def jupyter_book_output(self) -> Path:
        return self.build / "jb"


def layout(mode: str = "full", out_root=None, root=None) -> Layout:
    if mode not in MODES:
        raise BookError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    root = Path(root).resolve() if root is not None else ROOT
    out = Path(out_root).resolve() if out_root is not None else root / "_build"
    return Layout(root=root, mode=mode, build=out / "quick" if mode == "quick" else out)


# ----------------------------------------------------------------- chapters


def _toc_files(root: Path) -> list[str]:
    """Every ``file:`` / ``root:`` entry of _toc.yml, in order, without extension."""
    import yaml

    toc = root / "_toc.yml"
    if not toc.is_file():
        raise BookError(f"no _toc.yml in {root}")
    data = yaml.safe_load(toc.read_text(encoding="utf-8")) or {}
    files: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    files.append(os.path.splitext(node[key])[0])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(data)
    return files


def chapters(root=None) -> list[str]:
    """Chapter names (notebooks ``book/<name>.ipynb`` listed in _toc.yml), in
    execution order: _toc order with the ledger chapter last."""
    root = Path(root).resolve() if root is not None else ROOT
    names = []
    for entry in _toc_files(root):
        parent, name = os.path.split(entry)
        if parent == BOOK_DIR and (root / BOOK_DIR / f"{name}.ipynb").is_file():
            names.append(name)
    if LEDGER_CHAPTER in names:
        names.remove(LEDGER_CHAPTER)
        names.append(LEDGER_CHAPTER)
    return names


def _source(name: str, root: Path) -> Path:
    names = chapters(root)
    if name not in names:
        listed = ", ".join(names) if names else "(none: no notebook listed in _toc.yml exists)"
        raise BookError(f"unknown chapter {name!r}; chapters: {listed}")
    return root / BOOK_DIR / f"{name}.ipynb"


def parameters(name: str, root=None) -> dict[str, dict]:
    """The parameters of a chapter's ``parameters`` cell:
    ``{name: {"name", "inferred_type_name", "default", "help"}}`` (default as source text)."""
    import papermill

    root = Path(root).resolve() if root is not None else ROOT
    return papermill.inspect_notebook(str(_source(name, root)))


def _check_parameters(name: str, given: dict, valid: dict) -> None:
    unknown = sorted(set(given) - set(valid))
    if not valid and given:
        raise BookError(
            f"chapter {name!r} has no parameters cell (a code cell tagged 'parameters'), "
            f"so it takes no parameter; got: {', '.join(sorted(given))}"
        )
    if unknown:
        listed = ", ".join(f"{k}={v['default']}" for k, v in valid.items())
        raise BookError(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"for chapter {name!r}; valid parameters: {listed}"
        )


def quick_overrides(src: Path) -> set[str]:
    """Names a chapter assigns inside ``if quick:`` blocks (its quick mode's smaller settings)."""
    names: set[str] = set()
    nb = json.loads(src.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code" or "parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        source = "".join(cell.get("source", ""))
        try:
            tree = ast.parse(source)
        except SyntaxError:  # cell magics and the like: not Python, no quick block to read
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "quick" in {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}:
                for inner in (n for stmt in node.body for n in ast.walk(stmt)):
                    if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
                        names.add(inner.id)
    return names


def _check_quick_clash(name: str, src: Path, given: dict) -> None:
    """A parameter the user set that the chapter's quick mode replaces would be ignored without a word."""
    clash = sorted((set(given) - {"quick"}) & quick_overrides(src))
    if clash:
        raise BookError(
            f"parameter{'s' if len(clash) > 1 else ''} {', '.join(clash)} of chapter {name!r} "
            f"{'are' if len(clash) > 1 else 'is'} replaced by its quick mode (the `if quick:` block), so "
            f"the value given would be ignored: run without --quick to set {'them' if len(clash) > 1 else 'it'}"
        )


def _kind(value) -> str | None:
    """What a parameter's value is, for type checks against its default (None: anything goes)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "True or False"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a dict"
    return None


def _check_types(name: str, given: dict, valid: dict) -> None:
    """A value of another type than the parameter's default (a string for a list, ...) fails here,
    before the chapter runs; values themselves are checked by the chapter (RunConfig)."""
    for key, value in given.items():
        try:
            default = ast.literal_eval(valid[key]["default"])
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue  # an expression: nothing to compare with
        want, got = _kind(default), _kind(value)
        if want is None or got == want or (want == "a number" and got == "an integer"):
            continue
        example = f" (write -p {key}=['x'] for a list)" if want == "a list" and got == "a string" else ""
        raise BookError(
            f"parameter {key} of chapter {name!r} must be {want} like its default {valid[key]['default']}, "
            f"got {value!r}{example}"
        )


def _listify(value):
    """papermill writes lists, not tuples: turn tuples into lists (recursively)."""
    if isinstance(value, (list, tuple)):
        return [_listify(v) for v in value]
    if isinstance(value, dict):
        return {k: _listify(v) for k, v in value.items()}
    return value


# ----------------------------------------------------------------- hashing


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def package_hash(package: Path = PACKAGE) -> str:
    """Hash of the package's Python source (paths and contents)."""
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        h.update(path.relative_to(package).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _folder_hash(folder: Path, pattern: str = "*.json") -> str:
    h = hashlib.sha256()
    if folder.is_dir():
        for path in sorted(folder.glob(pattern)):
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _folder_hash_all(folder: Path) -> str:
    """Hash of every file under ``folder`` (relative paths and contents)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def declared_inputs(src: Path) -> list[str]:
    """Files a chapter reads besides the package and the data (``metadata.onepoch.inputs`` of its
    notebook: paths or folders relative to the book root, e.g. ``benchmarks/results``)."""
    try:
        meta = json.loads(src.read_text(encoding="utf-8")).get("metadata", {})
    except ValueError:
        return []  # not JSON: papermill reports the broken notebook when it executes it
    inputs = meta.get("onepoch", {}).get("inputs", [])
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise BookError(f"{src}: metadata.onepoch.inputs must be a list of paths, got {inputs!r}")
    return inputs


def _inputs_hash(root: Path, inputs: list[str]) -> str:
    h = hashlib.sha256()
    for rel in inputs:
        path = root / rel
        h.update(rel.encode() + b"\0")
        if path.is_dir():
            h.update(_folder_hash_all(path).encode())
        elif path.is_file():
            h.update(_sha(path.read_bytes()).encode())
        else:
            h.update(b"missing")
    return h.hexdigest()


def _stamp(name: str, src: Path, params: dict, lay: Layout, env: dict, pkg: str) -> str:
    parts = {
        "source": _sha(src.read_bytes()),
        "inputs": _inputs_hash(lay.root, declared_inputs(src)),
        "parameters": repr(sorted(params.items())),
        "mode": lay.mode,
        "package": pkg,
        "data": env.get("ONEPOCH_DATA", ""),
        "cache": env.get("ONEPOCH_CACHE", ""),
    }
    if name == LEDGER_CHAPTER:
        parts["ledger"] = _folder_hash(lay.ledger)
    return _sha(json.dumps(parts, sort_keys=True).encode())


# ----------------------------------------------------------------- lock

_HELD: dict[str, int] = {}  # lock file -> depth, in this process
_HELD_FILES: dict[str, object] = {}
_HELD_GUARD = threading.Lock()


@contextlib.contextmanager
def build_lock(lay: Layout, quiet: bool = False):
    """Hold ``<build>/.lock``: one build (or chapter execution) per build folder at a time.

    A second build on the same folder waits for the first and then finds its
    chapters up to date. Re-entrant within a process (a build executes its
    chapters under its own lock). The lock is an ``flock``, released by the
    system when its process ends, however it ends (SIGKILL included): a killed
    build never leaves a stale lock. A no-op where ``fcntl`` is missing.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    lay.build.mkdir(parents=True, exist_ok=True)
    path = str(lay.build / ".lock")
    with _HELD_GUARD:
        depth = _HELD.get(path, 0)
        if depth:
            _HELD[path] = depth + 1
    if not depth:
        fh = open(path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            _say(f"[{lay.mode}] another build is running in {lay.build} ({holder}); waiting for it to finish", quiet)
            try:
                fcntl.flock(fh, fcntl.LOCK_EX)
            except BaseException:
                fh.close()
                raise
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        with _HELD_GUARD:
            _HELD[path], _HELD_FILES[path] = 1, fh
    try:
        yield
    finally:
        with _HELD_GUARD:
            _HELD[path] -= 1
            last = _HELD[path] == 0
            if last:
                del _HELD[path]
                fh = _HELD_FILES.pop(path)
        if last:
            fh.close()  # releases the flock


# ----------------------------------------------------------------- execution


def chapter_env(lay: Layout) -> dict:
    """Environment of a chapter's kernel (also what nbval needs to re-run it)."""
    env = dict(os.environ)
    env["ONEPOCH_LEDGER"] = str(lay.ledger)
    env.pop("ONEPOCH_CHAPTER", None)
    env["ONEPOCH_PROGRESS"] = "0"
    if not env.get("ONEPOCH_DATA"):
        shared = lay.root.parent / "shared" / "data"
        if shared.is_dir():
            env["ONEPOCH_DATA"] = str(shared)
    else:
        env["ONEPOCH_DATA"] = str(Path(env["ONEPOCH_DATA"]).resolve())
    env["ONEPOCH_CACHE"] = str(
        Path(env["ONEPOCH_CACHE"]).resolve() if env.get("ONEPOCH_CACHE") else lay.root / ".onepoch-cache"
    )
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _record_path(lay: Layout, name: str) -> Path:
    return lay.executed / f"{name}.run.json"


def last_run(name: str, mode: str = "full", out_root=None, root=None) -> dict | None:
    """The record of a chapter's last successful execution, or None."""
    return _read_record(layout(mode, out_root, root), name)


def _read_record(lay: Layout, name: str) -> dict | None:
    path = _record_path(lay, name)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _tag_injected(path: Path) -> None:
    """Tag papermill's injected-parameters cell ``remove-cell`` (hidden in the book)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    nbformat.write(nb, path)


def _say(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def execute_chapter(
    name: str,
    mode: str = "full",
    parameters: dict | None = None,
    out_root=None,
    *,
    root=None,
    force: bool = False,
    quiet: bool = False,
) -> dict:
    """Execute ``book/<name>.ipynb`` into ``<build>/executed/<name>.ipynb``.

    ``parameters`` override the notebook's ``parameters`` cell (quick mode adds
    ``quick=True``); unknown names raise :class:`BookError`. Returns the run
    record (``seconds``, ``finished``, ``skipped``, ...). The chapter is not
    re-executed when nothing it depends on changed, unless ``force``.
    """
    lay = layout(mode, out_root, root)
    src = _source(name, lay.root)
    given = dict(parameters or {})
    if mode == "quick":
        given.setdefault("quick", True)
    valid = _inspect(src)
    if mode == "quick" and "quick" not in valid:
        raise BookError(
            f"chapter {name!r} has no 'quick' parameter: add `quick = False` to its parameters cell"
        )
    _check_parameters(name, given, valid)
    _check_types(name, given, valid)
    if mode == "quick":
        _check_quick_clash(name, src, given)
    given = {k: _listify(v) for k, v in given.items()}

    with build_lock(lay, quiet):
        return _execute(name, mode, src, given, lay, force, quiet)


RUN_LOG_ENV = "ONEPOCH_RUN_LOG"  # onepoch.runs.runner.RUN_LOG: each run a chapter uses is noted there


def run_usage(log: Path) -> dict:
    """What a chapter's execution noted in its run log: runs used (distinct), how many were trained
    by this execution, and the training seconds of all of them (as recorded when each was trained)."""
    seconds: dict[str, float] = {}
    trained: set[str] = set()
    if log.is_file():
        for line in log.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:  # a line cut short by a killed worker: skip it
                continue
            seconds[entry["key"]] = float(entry["seconds"])
            if entry.get("trained"):
                trained.add(entry["key"])
    return {"runs": len(seconds), "trained": len(trained), "run_seconds": round(sum(seconds.values()), 1)}


def _execute(name: str, mode: str, src: Path, given: dict, lay: Layout, force: bool, quiet: bool) -> dict:
    env = chapter_env(lay)
    env["ONEPOCH_CHAPTER"] = name  # ledger.record checks rows are filed under this chapter
    run_log = lay.tmp / f"{name}.runs.jsonl"
    env[RUN_LOG_ENV] = str(run_log)
    stamp = _stamp(name, src, given, lay, env, package_hash())
    dest = lay.executed / f"{name}.ipynb"
    previous = _read_record(lay, name)
    if not force and previous and previous.get("stamp") == stamp and dest.is_file():
        _say(f"[{mode}] {name}: up to date (executed {previous.get('finished', '?')})", quiet)
        return {**previous, "skipped": True}

    for folder in (lay.executed, lay.tmp, lay.ledger):
        folder.mkdir(parents=True, exist_ok=True)
    if previous:  # until this execution succeeds, the chapter is not up to date (its rows go next)
        atomic.write_text(_record_path(lay, name), json.dumps({**previous, "stamp": None}, indent=1) + "\n")
    # A chapter's ledger rows are rewritten by its execution: drop stale ones first.
    if name != LEDGER_CHAPTER:
        (lay.ledger / f"{name}.json").unlink(missing_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=lay.tmp, prefix=f"{name}.", suffix=".ipynb")
    os.close(fd)
    atomic.make_readable(tmp_name)
    tmp = Path(tmp_name)
    result = tmp.with_suffix(".error")
    spec = {
        "result": str(result),
        "source": str(src),
        "output": str(tmp),
        "parameters": repr(given) if given else "",
        "cwd": str(lay.root),
        "kernel": KERNEL,
    }
    _say(f"[{mode}] {name}: executing" + (f" with {given}" if given else ""), quiet)
    run_log.unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", "from onepoch.book import _child; _child()", json.dumps(spec)],
        env=env,
        cwd=lay.root,
        stdin=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    usage = run_usage(run_log)
    run_log.unlink(missing_ok=True)
    if proc.returncode != 0:
        lay.failed.mkdir(parents=True, exist_ok=True)
        failed = lay.failed / f"{name}.ipynb"
        if tmp.is_file() and tmp.stat().st_size:
            os.replace(tmp, failed)
            where = f"; the executed notebook with the traceback: {failed}"
        else:
            tmp.unlink(missing_ok=True)
            where = ""
        reason = result.read_text(encoding="utf-8").strip() if result.is_file() else ""
        result.unlink(missing_ok=True)
        reason = reason or f"exit code {proc.returncode}"
        raise BookError(f"chapter {name!r} ({mode}) failed: {reason}{where}")

    _tag_injected(tmp)
    os.replace(tmp, dest)
    (lay.failed / f"{name}.ipynb").unlink(missing_ok=True)
    record = {
        "chapter": name,
        "mode": mode,
        "parameters": repr(given),
        "seconds": round(seconds, 2),
        **usage,
        "finished": _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip(),
        "stamp": stamp,
    }
    atomic.write_text(_record_path(lay, name), json.dumps(record, indent=1) + "\n")
    _say(f"[{mode}] {name}: done in {seconds:.1f} s"
         + (f" ({usage['runs']} runs, {usage['trained']} trained now)" if usage["runs"] else ""), quiet)
    return {**record, "skipped": False}


def _inspect(src: Path) -> dict:
    import logging

    import papermill

    # papermill warns (to the root logger) when a notebook has no parameters cell
    logging.getLogger("papermill").setLevel(logging.ERROR)
    return papermill.inspect_notebook(str(src))


def _child() -> None:
    """Runs in a fresh process (see execute_chapter): papermill, nothing else.

    On error, writes one line describing it to ``spec["result"]`` and exits 1.
    """
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    spec = json.loads(sys.argv[1])
    import papermill
    from papermill.exceptions import PapermillExecutionError

    params = ast.literal_eval(spec["parameters"]) if spec["parameters"] else None
    try:
        papermill.execute_notebook(
            spec["source"],
            spec["output"],
            parameters=params,
            kernel_name=spec["kernel"],
            cwd=spec["cwd"],
            progress_bar=False,
            log_output=False,
            # the kernel's own start-up chatter (not the notebook's output)
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    except PapermillExecutionError as exc:
        evalue = " ".join(str(exc.evalue).split())
        Path(spec["result"]).write_text(f"cell [{exc.exec_count}]: {exc.ename}: {evalue}", encoding="utf-8")
        sys.exit(1)
    except Exception as exc:  # kernel died, bad notebook, ...
        Path(spec["result"]).write_text(f"{type(exc).__name__}: {' '.join(str(exc).split())}", encoding="utf-8")
        sys.exit(1)


# ----------------------------------------------------------------- assembling


def _execution_page(records: list[dict], lay: Layout) -> str:
    lines = [
        "# Execution times",
        "",
        "Every chapter is a notebook executed by `onepoch build` (papermill) before "
        "the book is assembled; a chapter whose notebook, parameters and package source "
        "did not change since its last execution is not executed again. "
        + (
            "This is the **quick** build: chapters ran with `quick=True` (fewer data, "
            "epochs and seeds); run `make book` for the full results."
            if lay.mode == "quick"
            else "This is the **full** build."
        ),
        "",
        "| Chapter | Run time | Runs (trained in this execution) | Training time of its runs | Executed | Parameters |",
        "|---|---:|---:|---:|---|---|",
    ]
    total = train_total = 0.0
    runs_total = 0
    for rec in records:
        if rec.get("not_executed"):
            lines.append(f"| {{doc}}`{rec['chapter']}` | not executed | | | | |")
            continue
        seconds = float(rec.get("seconds", 0.0))
        total += seconds
        params = rec.get("parameters", "{}")
        params = "defaults" if params in ("{}", "{'quick': True}") else f"`{params}`"
        if "runs" in rec:  # records from before run logs existed have no counts
            runs_total += rec["runs"]
            train_total += rec["run_seconds"]
            runs = f"{rec['runs']} ({rec['trained']})" if rec["runs"] else "-"
            train = _duration(rec["run_seconds"]) if rec["runs"] else "-"
        else:
            runs = train = "?"
        lines.append(f"| {{doc}}`{rec['chapter']}` | {_duration(seconds)} | {runs} | {train} | "
                     f"{rec.get('finished', '')} | {params} |")
    lines.append(f"| **Total** | **{_duration(total)}** | **{runs_total}** | **{_duration(train_total)}** | | |")
    lines += [
        "",
        "*Run time* is the wall-clock time of the chapter's last execution on the machine that "
        "built this book. Runs are cached on disk by their full configuration, so an execution "
        "trains only the runs not in the cache; *training time of its runs* adds up, for every "
        "run the chapter used, the time its training took when it was trained (on one core; "
        "chapters train two runs at a time on two cores). It is about what executing the chapter "
        "from an empty cache costs.",
        "",
    ]
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds >= 3600:
        hours, rest = divmod(round(seconds), 3600)
        return f"{hours} h {rest // 60:02d} min"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s"


MATHJAX_FILE = "tex-svg.js"  # MathJax 3, self-contained (SVG output needs no font files)


def mathjax_file() -> Path:
    """MathJax 3's ``es5/tex-svg.js`` from the ``django-static-mathjax`` package."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        path = Path(distribution("django-static-mathjax").locate_file(f"mathjax/static/mathjax/es5/{MATHJAX_FILE}"))
    except PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise BookError("MathJax is missing: pip install django-static-mathjax (as `make venv` does)")
    return path


def stage(lay: Layout, records: list[dict]) -> Path:
    """Lay out what Jupyter Book reads: config, toc, executed chapters, other book files."""
    if lay.stage.exists():
        shutil.rmtree(lay.stage)
    (lay.stage / BOOK_DIR).mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(lay.root / name, lay.stage / name)
    src_book = lay.root / BOOK_DIR
    if src_book.is_dir():
        shutil.copytree(
            src_book,
            lay.stage / BOOK_DIR,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__", "_static"),
        )
        # Jupyter Book serves (and links every .css/.js in) <book root>/_static
        if (src_book / "_static").is_dir():
            shutil.copytree(src_book / "_static", lay.stage / "_static")
    # MathJax from a local copy (_config.yml: mathjax_path), so math shows offline
    (lay.stage / "_static" / "mathjax").mkdir(parents=True, exist_ok=True)
    shutil.copy2(mathjax_file(), lay.stage / "_static" / "mathjax" / MATHJAX_FILE)
    for rec in records:
        name = rec["chapter"]
        src = lay.root / BOOK_DIR / f"{name}.ipynb" if rec.get("not_executed") else lay.executed / f"{name}.ipynb"
        shutil.copy2(src, lay.stage / BOOK_DIR / f"{name}.ipynb")
    (lay.stage / BOOK_DIR / f"{EXECUTION_PAGE}.md").write_text(_execution_page(records, lay), encoding="utf-8")
    missing = [f for f in _toc_files(lay.stage) if not any((lay.stage / f).with_suffix(s).is_file() for s in (".ipynb", ".md"))]
    if missing:
        raise BookError(
            "_toc.yml lists pages that do not exist: " + ", ".join(missing)
            + " (a chapter needs book/<name>.ipynb; other pages book/<name>.md)"
        )
    return lay.stage


def build_html(lay: Layout, strict: bool = True, quiet: bool = False, force: bool = False) -> Path:
    """Run ``jupyter-book build`` on the stage; the HTML replaces ``<build>/html``.

    Skipped when the stage is identical to the one the current HTML was built from.
    """
    stamp = _folder_hash_all(lay.stage) + (" strict" if strict else "")
    marker = lay.build / "html.stage-hash"
    if not force and (lay.html / "index.html").is_file() and marker.is_file() and marker.read_text() == stamp:
        _say(f"[{lay.mode}] HTML up to date", quiet)
        return lay.html / "index.html"
    out = lay.jupyter_book_output
    cmd = [
        sys.executable,
        "-c",
        "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
        "build",
        str(lay.stage),
        "--all",
        "--path-output",
        str(out),
    ]
    if strict:
        cmd += ["-W", "--keep-going"]
    if quiet:
        cmd += ["-q"]
    _say(f"[{lay.mode}] building HTML with Jupyter Book", quiet)
    proc = subprocess.run(cmd, cwd=lay.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        log = lay.build / "jupyter-book.log"
        log.write_text(proc.stdout, encoding="utf-8")
        problems = [ln for ln in proc.stdout.splitlines() if "WARNING" in ln or "ERROR" in ln]
        for line in problems[-20:]:
            print(line, file=sys.stderr)
        raise BookError(
            f"jupyter-book build failed with {len(problems)} warning(s)/error(s)"
            f"{' (warnings count as errors)' if strict else ''}; full log: {log}"
        )
    built = out / "_build" / "html"
    old = lay.build / "html.old"
    if old.exists():
        shutil.rmtree(old)
    if lay.html.exists():
        os.replace(lay.html, old)
    os.replace(built, lay.html)
    shutil.rmtree(old, ignore_errors=True)
    marker.write_text(stamp)
    return lay.html / "index.html"


def _chapter_of(filename: str) -> str:
    for suffix in (".run.json", ".json.lock", ".ipynb", ".json"):
        if filename.endswith(suffix):
            return filename[: -len(suffix)]
    return filename


def prune(lay: Layout, names: list[str]) -> list[Path]:
    """Delete executed notebooks, run records and ledger rows of chapters no longer
    in _toc.yml (so neither the book, the ledger nor nbval sees them)."""
    removed = []
    keep = set(names)
    for folder, patterns in (
        (lay.executed, ("*.ipynb", "*.run.json")),
        (lay.failed, ("*.ipynb",)),
        (lay.ledger, ("*.json", "*.json.lock")),
    ):
        if not folder.is_dir():
            continue
        for pattern in patterns:
            for path in folder.glob(pattern):
                if _chapter_of(path.name) not in keep:
                    path.unlink(missing_ok=True)
                    removed.append(path)
    return removed


def build(
    mode: str = "full",
    jobs: int = 1,
    *,
    out_root=None,
    root=None,
    strict: bool = True,
    force: bool = False,
    overrides: dict[str, dict] | None = None,
    only: list[str] | None = None,
    quiet: bool = False,
) -> Path:
    """Execute every chapter (ledger last), stage and build the HTML.

    ``overrides`` maps a chapter name to parameters for this build (used by
    ``onepoch run``; other chapters run with their defaults). With ``only``,
    just those chapters (and the ledger) are executed; the others enter the book
    as last executed, or unexecuted if they never were. Returns the path of
    ``index.html``. Two builds of the same mode wait for each other (see :func:`build_lock`).
    """
    lay = layout(mode, out_root, root)
    with build_lock(lay, quiet):
        return _build(lay, jobs, out_root, strict, force, overrides, only, quiet)


def _build(lay: Layout, jobs: int, out_root, strict: bool, force: bool, overrides, only, quiet: bool) -> Path:
    mode = lay.mode
    names = chapters(lay.root)
    overrides = overrides or {}
    for name in overrides:
        _source(name, lay.root)
    started = time.perf_counter()

    def run(name: str) -> dict:
        if only is not None and name not in only and name != LEDGER_CHAPTER:
            previous = _read_record(lay, name)
            if previous and (lay.executed / f"{name}.ipynb").is_file():
                return {**previous, "skipped": True}
            _say(f"[{mode}] {name}: not executed (shown without outputs; run `onepoch build`)", quiet)
            return {"chapter": name, "mode": mode, "not_executed": True}
        return execute_chapter(
            name, mode, overrides.get(name), out_root=out_root, root=lay.root,
            force=force and name not in overrides, quiet=quiet,
        )

    prune(lay, names)
    shutil.rmtree(lay.tmp, ignore_errors=True)  # leftovers of an interrupted execution
    first = [n for n in names if n != LEDGER_CHAPTER]
    records: dict[str, dict] = {}
    if jobs > 1 and len(first) > 1:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for name, rec in zip(first, pool.map(run, first)):
                records[name] = rec
    else:
        for name in first:
            records[name] = run(name)
    if LEDGER_CHAPTER in names:
        records[LEDGER_CHAPTER] = run(LEDGER_CHAPTER)
    ordered = [records[n] for n in names]
    stage(lay, ordered)
    index = build_html(lay, strict=strict, quiet=quiet, force=force)
    _say(f"[{mode}] book built in {time.perf_counter() - started:.1f} s: {index}", quiet)
    return index


def run_chapter(name: str, parameters: dict | None = None, mode: str = "full", *, out_root=None, root=None,
                quiet: bool = False) -> Path:
    """Re-execute one chapter with ``parameters`` (always), then the ledger, and rebuild
    the HTML; the other chapters are shown as last executed (not re-executed)."""
    lay = layout(mode, out_root, root)
    execute_chapter(name, mode, parameters, out_root=out_root, root=lay.root, force=True, quiet=quiet)
    return build(mode, out_root=out_root, root=lay.root, overrides={name: parameters or {}}, only=[name],
                 quiet=quiet)
