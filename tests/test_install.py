"""The package imports from any folder: from the clone's parent, where the clone's own folder (named
onepoch) would shadow an editable install made with an import hook; and in a kernel started there."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import onepoch

from conftest import notebook

REPO = Path(onepoch.__file__).resolve().parents[1]
CHECK = "import onepoch; from onepoch import __version__, book; print(book.__file__)"


def _parent_of_a_clone_named_onepoch(tmp_path) -> Path:
    parent = tmp_path / "parent"
    parent.mkdir()
    (parent / "onepoch").symlink_to(REPO, target_is_directory=True)  # as after `git clone ... onepoch`
    return parent


def test_import_works_from_the_folder_above_the_clone(tmp_path):
    parent = _parent_of_a_clone_named_onepoch(tmp_path)
    proc = subprocess.run([sys.executable, "-c", CHECK], cwd=parent, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(REPO / "onepoch" / "book" / "__init__.py")


def test_import_works_in_a_kernel_started_above_the_clone(tmp_path):
    import papermill

    parent = _parent_of_a_clone_named_onepoch(tmp_path)
    src, out = tmp_path / "check.ipynb", tmp_path / "out.ipynb"
    src.write_text(notebook([("code", CHECK, [])]))
    papermill.execute_notebook(str(src), str(out), kernel_name="python3", cwd=str(parent), progress_bar=False)
    printed = json.loads(out.read_text())["cells"][0]["outputs"][0]["text"]
    assert "".join(printed).strip() == str(REPO / "onepoch" / "book" / "__init__.py")
