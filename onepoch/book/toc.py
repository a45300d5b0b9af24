"""The chapters (from _toc.yml) and their parameters: what ``onepoch run -p`` may set, checked
before anything runs. Values cross to the chapter as JSON, so only JSON values pass."""
from __future__ import annotations

import ast
import json
import math
import os
from pathlib import Path

from onepoch.book.paths import BOOK_DIR, LEDGER_CHAPTER, BookError, root_of


def toc_files(root: Path) -> list[str]:
    """Every ``file:`` / ``root:`` entry of _toc.yml, in order, without extension."""
    import yaml

    toc = root / "_toc.yml"
    if not toc.is_file():
        raise BookError(f"no _toc.yml in {root}")
    try:
        data = yaml.safe_load(toc.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise BookError(f"{toc} is not valid YAML{line}: fix the file (git checkout _toc.yml restores it)") from None
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
    execution order: _toc order, except that chapters which read the ledger
    (:func:`reads_ledger`, e.g. the intro's findings) run after the others, and
    the ledger chapter last -- so what they read is this build's rows."""
    root = root_of(root)
    names = []
    for entry in toc_files(root):
        parent, name = os.path.split(entry)
        if parent == BOOK_DIR and (root / BOOK_DIR / f"{name}.ipynb").is_file():
            names.append(name)
    readers = [n for n in names if n != LEDGER_CHAPTER and reads_ledger(root / BOOK_DIR / f"{n}.ipynb")]
    last = [LEDGER_CHAPTER] if LEDGER_CHAPTER in names else []
    return [n for n in names if n not in readers and n not in last] + readers + last


def reads_ledger(src: Path) -> bool:
    """Whether a chapter reads other chapters' ledger rows (``metadata.onepoch.reads_ledger: true`` in its
    notebook): it then runs after the chapters that write them, and re-runs when they change."""
    flag = read_notebook(src).get("metadata", {}).get("onepoch", {}).get("reads_ledger", False)
    if not isinstance(flag, bool):
        raise BookError(f"{src}: metadata.onepoch.reads_ledger must be true or false, got {flag!r}")
    return flag


def source(name: str, root: Path) -> Path:
    names = chapters(root)
    if name not in names:
        listed = ", ".join(names) if names else "(none: no notebook listed in _toc.yml exists)"
        raise BookError(f"unknown chapter {name!r}; chapters: {listed}")
    return root / BOOK_DIR / f"{name}.ipynb"


def read_notebook(src: Path) -> dict:
    """A notebook's JSON, or one error naming the file (a truncated or hand-broken notebook)."""
    try:
        nb = json.loads(src.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BookError(f"{src} is not a valid notebook ({type(exc).__name__}: {exc}): "
                        f"restore it (git checkout {src.name}) or fix the JSON") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise BookError(f"{src} is not a notebook (no list of cells): restore it with git checkout")
    return nb


def parameters(name: str, root=None) -> dict[str, dict]:
    """The parameters of a chapter's ``parameters`` cell:
    ``{name: {"name", "inferred_type_name", "default", "help"}}`` (default as source text)."""
    import logging

    import papermill

    src = source(name, root_of(root))
    read_notebook(src)
    logging.getLogger("papermill").setLevel(logging.ERROR)  # it warns when there is no parameters cell
    return papermill.inspect_notebook(str(src))


def declared_inputs(src: Path) -> list[str]:
    """Files a chapter reads besides the package and the data (``metadata.onepoch.inputs`` of its
    notebook: paths or folders relative to the book root, e.g. ``benchmarks/results``)."""
    inputs = read_notebook(src).get("metadata", {}).get("onepoch", {}).get("inputs", [])
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise BookError(f"{src}: metadata.onepoch.inputs must be a list of paths, got {inputs!r}")
    return inputs


def quick_overrides(src: Path) -> set[str]:
    """Names a chapter assigns inside ``if quick:`` blocks (its quick mode's smaller settings)."""
    names: set[str] = set()
    for cell in read_notebook(src).get("cells", []):
        if cell.get("cell_type") != "code" or "parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        try:
            tree = ast.parse("".join(cell.get("source", "")))
        except SyntaxError:  # cell magics and the like: not Python, no quick block to read
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "quick" in {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}:
                for inner in (n for stmt in node.body for n in ast.walk(stmt)):
                    if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
                        names.add(inner.id)
    return names


def as_json(key: str, value):
    """``value`` as it will reach the chapter (tuples become lists), or one error: only finite
    numbers, strings, True/False/None, lists and dicts with string keys cross to the chapter."""
    if isinstance(value, float) and not math.isfinite(value):
        raise BookError(f"parameter {key}={value!r} is not a finite number: give a finite value, e.g. -p {key}=1e-3")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [as_json(key, v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: as_json(key, v) for k, v in value.items()}
    raise BookError(f"parameter {key}={value!r} is not a JSON value (number, string, True/False/None, "
                    f"list or dict with string keys): write it as one")


def _kind(value) -> str | None:
    """What a parameter's value is, for type checks against its default (None: anything goes)."""
    for types, kind in ((bool, "True or False"), (int, "an integer"), (float, "a number"), (str, "a string"),
                        ((list, tuple), "a list"), (dict, "a dict")):
        if value is not None and isinstance(value, types):
            return kind
    return None


def _default(info: dict):
    try:
        return ast.literal_eval(info["default"])
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None  # an expression: nothing to compare with


def check_types(name: str, given: dict, valid: dict) -> None:
    """A value of another type than the parameter's default (a string for a list, ...) fails here,
    before the chapter runs; values themselves are checked by the chapter (RunConfig)."""
    for key, value in given.items():
        default = _default(valid[key])
        want, got = _kind(default), _kind(value)
        if want == "a list" and got == "a list" and default and not value:
            raise BookError(f"parameter {key} of chapter {name!r} must not be empty: give at least one value, "
                            f"like its default {valid[key]['default']}")
        if want is None or got == want or (want == "a number" and got == "an integer"):
            continue
        example = f" (write -p {key}=['x'] for a list)" if want == "a list" and got == "a string" else ""
        raise BookError(
            f"parameter {key} of chapter {name!r} must be {want} like its default {valid[key]['default']}, "
            f"got {value!r}{example}"
        )


def checked_parameters(name: str, mode: str, given: dict | None, root: Path) -> tuple[Path, dict]:
    """The chapter's notebook and the parameters it will get (``quick`` set by the mode), checked:
    unknown names, types, values that cannot cross as JSON, values its quick mode would ignore."""
    src = source(name, root)
    given = dict(given or {})
    valid = parameters(name, root)
    if "quick" in given:
        raise BookError(f"quick is set by the mode, not by -p: drop -p quick={given['quick']!r} "
                        f"and run with --quick for the quick book, without it for the full one")
    if mode == "quick":
        if "quick" not in valid:
            raise BookError(f"chapter {name!r} has no 'quick' parameter: add `quick = False` to its parameters cell")
        given["quick"] = True
    if not valid and given:
        raise BookError(f"chapter {name!r} has no parameters cell (a code cell tagged 'parameters'), "
                        f"so it takes no parameter; got: {', '.join(sorted(given))}")
    unknown = sorted(set(given) - set(valid))
    if unknown:
        listed = ", ".join(f"{k}={v['default']}" for k, v in valid.items())
        raise BookError(f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                        f"for chapter {name!r}; valid parameters: {listed}")
    given = {k: as_json(k, v) for k, v in given.items()}
    check_types(name, given, valid)
    clash = sorted((set(given) - {"quick"}) & quick_overrides(src)) if mode == "quick" else []
    if clash:
        many = len(clash) > 1
        raise BookError(
            f"parameter{'s' if many else ''} {', '.join(clash)} of chapter {name!r} {'are' if many else 'is'} "
            f"replaced by its quick mode (the `if quick:` block), so the value given would be ignored: "
            f"run without --quick to set {'them' if many else 'it'}")
    return src, given
