"""Chapters are prose, parameters and calls: no loops of their own, no unused imports.

The analysis a chapter shows lives in `onepoch/analysis` (tested there); a notebook cell
calls it. Comprehensions that list a sweep's configurations are calls' arguments and stay.
The speed appendix only formats committed benchmark results and is exempt from the loop rule.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))
LOOPS_ALLOWED = {"appendix_speed"}


def code_of(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def parsed(sources: list[str]) -> ast.Module:
    # IPython magics and shell escapes are not Python: chapters use none, and a test would say so
    return ast.parse("\n\n".join(sources))


def loops(tree: ast.Module) -> list[int]:
    return [node.lineno for node in ast.walk(tree) if isinstance(node, (ast.For, ast.While, ast.AsyncFor))]


def unused_imports(tree: ast.Module) -> list[str]:
    imported = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                name = (alias.asname or alias.name).split(".")[0]
                imported[name] = node.lineno
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return sorted(name for name in imported if name not in used)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_chapter_has_no_loop_of_its_own(path):
    if path.stem in LOOPS_ALLOWED:
        pytest.skip("formats committed benchmark results only")
    assert loops(parsed(code_of(path))) == [], f"{path.name}: move the loop into onepoch/analysis"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_chapter_imports_only_what_it_uses(path):
    assert unused_imports(parsed(code_of(path))) == [], f"{path.name}: unused imports"


def test_the_checks_catch_a_loop_and_an_unused_import():
    tree = parsed(["import pandas as pd\nfrom onepoch import plots", "for x in [1]:\n    plots.figure(x)"])
    assert loops(tree) == [4] and unused_imports(tree) == ["pd"]  # cells joined by a blank line
    assert unused_imports(parsed(["import os.path", "os.path.join('a')"])) == []
