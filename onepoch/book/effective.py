"""The parameters a chapter actually ran with, shown on its page and on the execution page.

A chapter's parameters cell shows its defaults (``quick = False``, five seeds, ...); a build injects
other values (``quick = True``, ``-p`` overrides) and quick mode replaces some in ``if quick:`` blocks.
After a successful execution, a small markdown cell (tagged ``onepoch-effective``) goes beneath the
parameters cell: the mode as a visible badge and every parameter's effective value, marked where it
came from (given with -p, or the quick block). Book tooling: it changes what a page shows, never a
result, so editing it re-executes no chapter (see stamps.TOOLING).
"""
from __future__ import annotations

import ast
import html
import json
from pathlib import Path

from onepoch.book.toc import read_notebook

TAG = "onepoch-effective"


def quick_values(src: Path) -> dict[str, str]:
    """Names assigned in the chapter's ``if quick:`` blocks (outside its parameters cell), each with the
    source text of the value it gets (``seeds, epochs = [0, 1], 2`` gives seeds '[0, 1]', epochs '2')."""
    out: dict[str, str] = {}
    for cell in read_notebook(src).get("cells", []):
        if cell.get("cell_type") != "code" or "parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        text = "".join(cell.get("source", ""))
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.If) and any(isinstance(n, ast.Name) and n.id == "quick"
                                                     for n in ast.walk(node.test))):
                continue
            for stmt in node.body:
                if not isinstance(stmt, ast.Assign):
                    continue
                for target in stmt.targets:
                    pairs = ([(target, stmt.value)] if isinstance(target, ast.Name) else
                             list(zip(target.elts, stmt.value.elts))
                             if isinstance(target, ast.Tuple) and isinstance(stmt.value, ast.Tuple)
                             and len(target.elts) == len(stmt.value.elts) else [])
                    for name, value in pairs:
                        if isinstance(name, ast.Name):
                            out[name.id] = ast.get_source_segment(text, value) or "?"
    return out


def effective(src: Path, given: dict, defaults: dict[str, dict], mode: str) -> list[dict]:
    """One entry per parameter: ``{"name", "value" (source text), "from": "default" | "given" | "quick"}``."""
    quick = quick_values(src) if mode == "quick" else {}
    out = []
    for name, info in defaults.items():
        if name in given and name != "quick":
            out.append({"name": name, "value": json.dumps(given[name]), "from": "given"})
        elif name == "quick":
            out.append({"name": name, "value": str(mode == "quick"), "from": "mode"})
        elif name in quick:
            out.append({"name": name, "value": quick[name], "from": "quick"})
        else:
            out.append({"name": name, "value": str(info.get("default", "?")), "from": "default"})
    return out


def _short(value: str, limit: int = 60) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "\u2026"


def badge_markdown(entries: list[dict], mode: str) -> str:
    """The badge and the values, as the markdown of one cell (the values as HTML, so long ones wrap)."""
    badge = (f'<span class="onepoch-mode onepoch-mode-{mode}">{"quick build" if mode == "quick" else "full build"}'
             "</span>")
    marks = {"given": " <em>(given)</em>", "quick": " <em>(quick)</em>"}
    shown = [e for e in entries if e["name"] != "quick"]
    values = " \u00b7 ".join(f"<code>{html.escape(e['name'])} = {html.escape(_short(e['value']))}</code>"
                             f"{marks.get(e['from'], '')}" for e in shown)
    if mode == "quick":
        lead = ("This page ran in **quick mode** (fewer data, epochs and seeds)"
                + (": these values replace the defaults of its parameters cell (*quick*: set by the chapter's "
                   "`if quick:` block; *given*: set with `-p`)." if shown else "."))
    else:
        lead = "This page ran with " + ("these values" if shown else "its defaults") + (
            " (*given*: set with `-p`)." if any(e["from"] == "given" for e in entries) else ".")
    return f"{badge} {lead}\n\n<p class=\"onepoch-params\">{values}</p>" if values else f"{badge} {lead}"


def insert_badge(nb, entries: list[dict], mode: str) -> None:
    """Put the badge cell beneath the parameters cell (and papermill's injected one), replacing an old one."""
    import nbformat

    nb.cells = [c for c in nb.cells if TAG not in c.get("metadata", {}).get("tags", [])]
    where = 0
    for i, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if "parameters" in tags or "injected-parameters" in tags:
            where = i + 1
    if not where:
        return  # no parameters cell: nothing to report
    cell = nbformat.v4.new_markdown_cell(badge_markdown(entries, mode))
    cell.metadata["tags"] = [TAG]
    nb.cells.insert(where, cell)
