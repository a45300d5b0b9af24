"""Assembling the book from executed chapters: the stage Jupyter Book reads (with a local MathJax
and a generated execution page), ``jupyter-book build``, the swap of the HTML, and pruning what
belongs to chapters no longer in _toc.yml. Jupyter Book itself checks links and fails on a missing
page; what remains ours is the stage (executed notebooks, not sources) and the whole-or-nothing swap."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from onepoch.book import processes
from onepoch.book.paths import BOOK_DIR, EXECUTION_PAGE, BookError, Layout, say
from onepoch.book.stamps import folder_hash_all
from onepoch.book.toc import toc_files

MATHJAX_FILE = "tex-svg.js"  # MathJax 3, self-contained (SVG output needs no font files)


def _params_text(params) -> str:
    if isinstance(params, str):  # records written before parameters were JSON
        return "defaults" if params in ("{}", "{'quick': True}") else f"`{params}`"
    params = params or {}
    rest = {k: v for k, v in params.items() if k != "quick"}
    mode = "quick mode" if params.get("quick") else ""
    given = f"`{json.dumps(rest)}`" if rest else ""
    return " + ".join(p for p in (mode, given) if p) or "defaults"


def _effective_lines(records: list[dict]) -> list[str]:
    """A folded list of every chapter's effective parameters (from its run record), or nothing."""
    lines = []
    for rec in records:
        entries = rec.get("effective")
        if rec.get("not_executed") or not entries:
            continue
        marks = {"given": " (given)", "quick": " (quick)"}
        values = " · ".join(f"`{e['name']} = {' '.join(str(e['value']).split())}`{marks.get(e['from'], '')}"
                            for e in entries if e.get("name") != "quick")
        lines.append(f"- {{doc}}`{rec['chapter']}`: {values or 'no parameter besides quick'}")
    if not lines:
        return []
    return [":::{dropdown} Effective parameters of each chapter",
            "The values each chapter ran with (*quick*: set by its `if quick:` block; *given*: set with `-p`; "
            "others: the defaults of its parameters cell). Each chapter's page shows them beneath its "
            "parameters cell.", "", *lines, ":::", ""]


def execution_page(records: list[dict], lay: Layout) -> str:
    lines = [
        "# Execution times",
        "",
        "Every chapter is a notebook executed by `onepoch build` (papermill) before "
        "the book is assembled; a chapter whose notebook, parameters and research code "
        "did not change since its last execution is not executed again. "
        + ("This is the **quick** build: chapters ran with `quick=True` (fewer data, "
           "epochs and seeds); run `make book` for the full results." if lay.mode == "quick"
           else "This is the **full** build."),
        "",
        "| Chapter | Run time | Runs (trained in this execution) | Training time of its runs | Executed | Parameters |",
        "|---|---:|---:|---:|---|---|",
    ]
    total = train_total = 0.0
    runs_total = 0
    failures = []
    for rec in records:
        if rec.get("last_failure"):
            failures.append(rec)
        if rec.get("not_executed"):
            lines.append(f"| {{doc}}`{rec['chapter']}` | not executed | | | | |")
            continue
        seconds = float(rec.get("seconds", 0.0))
        total += seconds
        if "runs" in rec:  # records from before run logs existed have no counts
            runs_total += rec["runs"]
            train_total += rec["run_seconds"]
            runs = f"{rec['runs']} ({rec['trained']})" if rec["runs"] else "-"
            train = duration(rec["run_seconds"]) if rec["runs"] else "-"
        else:
            runs = train = "?"
        lines.append(f"| {{doc}}`{rec['chapter']}` | {duration(seconds)} | {runs} | {train} | "
                     f"{rec.get('finished', '')} | {_params_text(rec.get('parameters', {}))} |")
    lines.append(f"| **Total** | **{duration(total)}** | **{runs_total}** | **{duration(train_total)}** | | |")
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
    lines += _effective_lines(records)
    for rec in failures:
        fail = rec["last_failure"]
        lines += [f"```{{warning}}\nThe last execution of {{doc}}`{rec['chapter']}` ({fail.get('finished', '')}, "
                  f"parameters {_params_text(fail.get('parameters', {}))}) **failed**: "
                  f"{str(fail.get('reason', '')).replace('`', chr(39))}. "
                  "The page shows its last successful execution.\n```", ""]
    return "\n".join(lines)


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds >= 3600:
        hours, rest = divmod(round(seconds), 3600)
        return f"{hours} h {rest // 60:02d} min"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s"


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
        shutil.copytree(src_book, lay.stage / BOOK_DIR, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__", "_static"))
        if (src_book / "_static").is_dir():  # Jupyter Book serves (and links every .css/.js in) <root>/_static
            shutil.copytree(src_book / "_static", lay.stage / "_static")
    # MathJax from a local copy (_config.yml: mathjax_path), so math shows offline
    (lay.stage / "_static" / "mathjax").mkdir(parents=True, exist_ok=True)
    shutil.copy2(mathjax_file(), lay.stage / "_static" / "mathjax" / MATHJAX_FILE)
    for rec in records:
        name = rec["chapter"]
        src = lay.root / BOOK_DIR / f"{name}.ipynb" if rec.get("not_executed") else lay.executed / f"{name}.ipynb"
        shutil.copy2(src, lay.stage / BOOK_DIR / f"{name}.ipynb")
    (lay.stage / BOOK_DIR / f"{EXECUTION_PAGE}.md").write_text(execution_page(records, lay), encoding="utf-8")
    missing = [f for f in toc_files(lay.stage)
               if not any((lay.stage / f).with_suffix(s).is_file() for s in (".ipynb", ".md"))]
    if missing:
        raise BookError("_toc.yml lists pages that do not exist: " + ", ".join(missing)
                        + " (a chapter needs book/<name>.ipynb; other pages book/<name>.md)")
    return lay.stage


def build_html(lay: Layout, strict: bool = True, quiet: bool = False, force: bool = False) -> Path:
    """Run ``jupyter-book build`` on the stage; the HTML replaces ``<build>/html``.
    Skipped when the stage is identical to the one the current HTML was built from."""
    stamp = folder_hash_all(lay.stage) + (" strict" if strict else "")
    marker = lay.build / "html.stage-hash"
    if not force and (lay.html / "index.html").is_file() and marker.is_file() and marker.read_text() == stamp:
        say(f"[{lay.mode}] HTML up to date", quiet)
        return lay.html / "index.html"
    out = lay.jupyter_book_output
    cmd = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
           "build", str(lay.stage), "--all", "--path-output", str(out)]
    if strict:
        cmd += ["-W", "--keep-going"]
    if quiet:
        cmd += ["-q"]
    say(f"[{lay.mode}] building HTML with Jupyter Book", quiet)
    log = lay.build / "jupyter-book.log"
    with open(log, "w", encoding="utf-8") as fh:
        code = processes.run(cmd, cwd=lay.root, stdout=fh, stderr=processes.subprocess.STDOUT)
    if code != 0:
        text = log.read_text(encoding="utf-8", errors="replace")
        problems = [ln for ln in text.splitlines() if "WARNING" in ln or "ERROR" in ln]
        for line in problems[-20:]:
            print(line, file=sys.stderr)
        raise BookError(f"jupyter-book build failed with {len(problems)} warning(s)/error(s)"
                        f"{' (warnings count as errors)' if strict else ''}; full log: {log}")
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
    for folder, patterns in ((lay.executed, ("*.ipynb", "*.run.json")), (lay.failed, ("*.ipynb", "*.json")),
                             (lay.ledger, ("*.json", "*.json.lock"))):
        if not folder.is_dir():
            continue
        for pattern in patterns:
            for path in folder.glob(pattern):
                if _chapter_of(path.name) not in keep:
                    path.unlink(missing_ok=True)
                    removed.append(path)
    return removed
