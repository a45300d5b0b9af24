"""The data layer: the registry imports light, modules stay small, keys stay stable.

(No import cycle inside onepoch.data: tests/test_import_cycles.py checks the whole package.)"""
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "onepoch" / "data"


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
