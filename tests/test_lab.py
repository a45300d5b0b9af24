"""`onepoch lab`: the variables it sets, and a chapter executed top to bottom in the project's
kernel the way a student runs it in JupyterLab (its own parameters cell edited, no papermill)."""
from __future__ import annotations

import json
import sys
from pathlib import Path


from helpers import REAL, needs_shared
from onepoch import lab
from onepoch.cli import make_parser

ROOT = Path(__file__).resolve().parent.parent


def test_lab_sets_absolute_data_cache_and_ledger_folders(tmp_path):
    env = lab.environment(tmp_path, base={"ONEPOCH_DATA": "data", "PATH": "/bin"})
    assert Path(env["ONEPOCH_DATA"]).is_absolute() and env["ONEPOCH_DATA"].endswith("data")
    assert env["ONEPOCH_CACHE"] == str(tmp_path.resolve() / ".onepoch-cache")
    assert env["ONEPOCH_LEDGER"] == str(tmp_path.resolve() / "_build" / "lab" / "ledger")
    kept = lab.environment(tmp_path, base={"ONEPOCH_CACHE": str(tmp_path / "c"), "ONEPOCH_LEDGER": "/x"})
    assert kept["ONEPOCH_CACHE"] == str(tmp_path / "c") and kept["ONEPOCH_LEDGER"] == "/x"
    assert env["JUPYTER_PATH"].split(":")[0].endswith("share/jupyter")  # the project's kernel first
    cmd = lab.command(tmp_path, ["--no-browser"])
    assert cmd[1:4] == ["-m", "jupyter", "lab"] and cmd[-1] == "--no-browser"
    assert cmd[0] in (sys.executable, str(tmp_path / ".venv-lab" / "bin" / "python"))
    assert f"--notebook-dir={tmp_path / 'book'}" in cmd


def test_lab_is_a_command_and_its_extra_is_pinned():
    args = make_parser().parse_args(["lab", "--", "--no-browser"])
    assert args.command == "lab" and args.lab_args == ["--no-browser"]
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'lab = ["{lab.LAB_REQUIREMENT}"]' in pyproject
    assert lab.LAB_REQUIREMENT in (ROOT / "constraints.txt").read_text().splitlines()


@needs_shared("amazon-s3rec")
def test_a_chapter_runs_top_to_bottom_in_the_project_kernel(tmp_path, monkeypatch):
    """What a student does in JupyterLab: open intro, set quick = True in its parameters cell
    (and two data sets, to keep the test short), run all cells in the "python3" kernel."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "book" / "intro.ipynb", as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert "quick = False" in params.source  # the cell a student edits is at the top
    params.source = params.source.replace("quick = False", "quick = True") + '\ndatasets = ["beauty", "ml-100k"]'
    for key, value in lab.environment(ROOT).items():
        if key.startswith("ONEPOCH_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("ONEPOCH_DATA", str(REAL))
    monkeypatch.setenv("ONEPOCH_LEDGER", str(tmp_path / "ledger"))
    monkeypatch.setenv("ONEPOCH_PROGRESS", "0")
    NotebookClient(nb, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(ROOT / "book")}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    shown = json.dumps([o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs])
    assert "alt=" in shown  # the model diagram came out as an image with alt text
