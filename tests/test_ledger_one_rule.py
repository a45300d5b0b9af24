"""Every claim is judged by one rule across the book: the rows the chapters of the quick build wrote
for one claim all name the same rule id (a claim judged two ways would show two verdicts for one
question). Runs on the quick build's ledger (`make test` builds it before the unit tests)."""
import json
from collections import defaultdict
from pathlib import Path

import pytest

LEDGER = Path(__file__).resolve().parents[1] / "_build" / "quick" / "ledger"


def rules_by_claim(folder: Path) -> dict[str, set[tuple[str, str]]]:
    found = defaultdict(set)
    for path in sorted(folder.glob("*.json")):
        for row in json.loads(path.read_text()):
            found[row["claim"]].add((row.get("rule"), row["chapter"]))
    return found


def test_the_check_sees_two_rules_for_one_claim(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps([{"claim": "C5", "rule": "no-influence", "chapter": "a"}]))
    (tmp_path / "b.json").write_text(json.dumps([{"claim": "C5", "rule": "equivalence", "chapter": "b"}]))
    assert {r for r, _ in rules_by_claim(tmp_path)["C5"]} == {"no-influence", "equivalence"}


def test_each_claim_has_one_rule_in_the_quick_book():
    if not any(LEDGER.glob("*.json")):
        pytest.skip("no quick build yet (make quick)")
    mixed = {claim: sorted(rows) for claim, rows in rules_by_claim(LEDGER).items() if len({r for r, _ in rows}) > 1}
    assert not mixed, f"claims judged by more than one rule (rule, chapter): {mixed}"
