"""The data layer's modules import each other without a cycle (lazy imports inside functions count too)."""
import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "onepoch" / "data"


def _imports(path: Path) -> set[str]:
    """onepoch.data modules imported anywhere in the file (module level or inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "onepoch.data":
                out |= {a.name for a in node.names}
            elif node.module.startswith("onepoch.data."):
                out.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[2] for a in node.names if a.name.startswith("onepoch.data.")}
    return out


def _graph() -> dict[str, set[str]]:
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    return {m: _imports(PACKAGE / f"{m}.py") & modules - {m} for m in modules}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_inside_onepoch_data():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_registry_and_config_import_without_numpy_or_torch():
    code = ("import sys, onepoch.config, onepoch.data.registry; "
            "print(sorted(m for m in ('torch', 'numpy', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_data_module_is_longer_than_400_lines():
    long = {p.name: n for p in PACKAGE.glob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert not long


def test_builtin_data_keys_are_unchanged_by_the_new_data_layer():
    """Values computed with the code before the data layer was reorganised (commit 2fa556c)."""
    from helpers import REAL, needs_shared  # noqa: F401
    import pytest

    if not (REAL / "amazon-s3rec").exists():
        pytest.skip(f"no shared data at {REAL}")
    from onepoch.data import dataset, readers, sources

    paths = sources.ensure_files("sports", REAL)
    files = readers.files_checksum(paths)
    params = dict(construction="positions", max_history=50, min_history=1, test_users=None, max_users=4000, seed=0)
    assert files == "5d7991729870e7f0611a6844c6e9a2bef4ae7120ce7b5e9be9eff925ed9ecd04"
    assert dataset._key("sports", files, params) == "a271b685d6ffdeb855a3afbf22b3b8a5dd5efa7b14c3b0c307db644259e1561b"
