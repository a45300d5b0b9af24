"""Quick mode shrinks users, seeds and epochs but honours a `datasets` given with --quick."""
import json
from pathlib import Path

import pytest

from onepoch import book

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = ["one_epoch", "model_factors", "feature_sparsity", "why_second_epoch", "beyond_one_epoch"]


@pytest.mark.parametrize("name", CHAPTERS)
def test_quick_mode_leaves_datasets_to_the_reader(name):
    src = BOOK / f"{name}.ipynb"
    assert "datasets" not in book.quick_overrides(src)  # so `-p datasets=[...]` with --quick is not refused
    cells = json.loads(src.read_text())["cells"]
    params = next(c for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
    assert any(line.startswith("datasets = None") for line in params["source"])
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    resolve = [line for line in code.splitlines() if line.startswith("datasets = datasets or (")]
    assert len(resolve) == 1
    for quick, given in ((True, None), (False, None), (True, ["mine"])):
        scope = {"quick": quick, "datasets": given}
        exec(resolve[0], scope)
        assert scope["datasets"] == given if given else (scope["datasets"] == ["beauty"]) == quick
