"""chapter_summary: sentences that read correctly whatever the numbers are."""
import math

import pytest

from onepoch.analysis import chapter_summary as cs
from onepoch.analysis import ledger
from onepoch.analysis.stats import Effect


def _effect(est, low, high, n=3):
    return Effect(est, low, high, n, "seeds (t)")


def test_change_verb_follows_the_interval():
    assert cs.change(_effect(0.003, 0.001, 0.005)) == "test AUC falls by 0.0030 [0.0010, 0.0050]"
    assert cs.change(_effect(-0.003, -0.005, -0.001)) == "test AUC rises by 0.0030 [0.0010, 0.0050]"
    straddle = cs.change(_effect(0.001, -0.002, 0.004))
    assert straddle.startswith("test AUC changes by \u22120.0010 [") and straddle.endswith("includes 0")
    assert "no interval" in cs.change(_effect(0.002, math.nan, math.nan, 1))
    assert "could not be measured" in cs.change(_effect(math.nan, math.nan, math.nan, 0))


def test_names_and_tally_agree_with_their_counts():
    assert cs.names([]) == "none" and cs.names(["a"]) == "a" and cs.names(["a", "b", "c"]) == "a, b and c"
    rows = [{"claim": "C1", "verdict": "agrees"}, {"claim": "C2", "verdict": "not testable"},
            {"claim": "C3", "verdict": "not testable"}]
    assert cs.tally(rows) == ("Of the 3 claims this chapter tests, 1 agrees with the paper and "
                              "2 are not testable.")
    mixed = [{"claim": "C1", "verdict": "agrees"}, {"claim": "C2", "verdict": "agrees"},
             {"claim": "C4", "verdict": "disagrees"}, {"claim": "C5", "verdict": "inconclusive"}]
    assert cs.tally(mixed) == ("Of the 4 claims this chapter tests, 2 agree with the paper, 1 disagrees and "
                               "1 is inconclusive.")
    assert cs.tally(mixed[2:3]) == "The one claim this chapter tests (C4) disagrees with the paper."
    assert cs.tally(rows[:1]) == "The one claim this chapter tests (C1) agrees with the paper."
    assert cs.tally(rows[1:]) == "Of the 2 claims this chapter tests, both are not testable."
    assert "no ledger row" in cs.tally([])


def test_verdict_lines_state_each_row_with_effect_and_interval():
    rows = [{"claim": "C3", "verdict": "agrees", "effect": 0.0012, "ci": [-0.001, 0.003], "n_seeds": 2,
             "effect_of": "drop"},
            {"claim": "C5", "verdict": "disagrees", "effect": math.nan, "ci": None, "n_seeds": math.nan}]
    lines = cs.verdict_lines(rows)
    assert lines[0] == ("**Agrees**: C3 “Logistic regression does not show the phenomenon” — change: "
                        "\u22120.0012 [\u22120.0030, +0.0010] (2 seeds).")
    assert lines[1].startswith("**Disagrees**: C5 “") and "no effect could be estimated" in lines[1]
    assert "Fig" not in lines[1]


def test_recorded_reads_this_chapters_rows_with_what_their_effect_is(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEPOCH_LEDGER", str(tmp_path))
    ledger.record("C1", "x", "m", "agrees", "one_epoch", evidence="Rule drop. Effect shown: drop, pooled over "
                  "2 testable cases. Not testable unless y.", effect=0.01, ci=(0.0, 0.02), n_seeds=2, rule="drop")
    ledger.record("C12", "x", "m", "inconclusive", "why_second_epoch", rule="causes-a-jump")
    ledger.record("C3", "x", "m", "agrees", "one_epoch", evidence="no effect named", rule="other")
    rows = cs.recorded("one_epoch")
    assert [r["claim"] for r in rows] == ["C1", "C3"]
    assert rows[0]["effect_of"] == "drop, pooled over 2 testable cases" and rows[1]["effect_of"] == ""
    assert cs.recorded("why_second_epoch")[0]["effect_of"] == cs.RULE_EFFECT["causes-a-jump"]
    first = cs.verdict_lines(rows, with_claim=False)[0]
    assert first.startswith("**Agrees**: C1: change, pooled over 2 testable cases: \u22120.0100 "
                            "[\u22120.0200, 0.0000] (2 seeds); C3: ")


@pytest.mark.parametrize("n, word", [(1, "seed"), (5, "seeds")])
def test_effect_text_counts_seeds(n, word):
    assert cs.effect_text({"effect": 0.5, "ci": [0.4, 0.6], "n_seeds": n}).endswith(f"({n} {word})")


def test_compare_names_the_direction_its_interval_shows():
    e = _effect(0.02, 0.01, 0.03)
    assert cs.compare(e, "beats it", "falls short of it") == "beats it by 0.0200 [0.0100, 0.0300]"
    assert cs.compare(_effect(-0.02, -0.03, -0.01), "beats it", "falls short of it") == \
        "falls short of it by 0.0200 [0.0100, 0.0300]"
    assert cs.compare(_effect(0.01, -0.01, 0.03), "a", "b", "differs") == \
        "differs by +0.0100 [\u22120.0100, +0.0300], an interval that includes 0"


def test_effect_text_without_interval_or_seeds():
    row = {"effect": 0.11, "ci": [None, None], "n_seeds": 0, "effect_of": "share (no interval: a count)"}
    assert cs.effect_text(row) == "share (no interval: a count): 0.1100"
    assert cs.effect_text({"effect": 0.5, "ci": None, "n_seeds": 1}) == "effect: 0.5000 (no interval) (1 seed)"
    smallest = {"effect": 0.002, "ci": [0.001, 0.003], "n_seeds": 3, "effect_of": "smallest drop among the settings"}
    assert cs.effect_text(smallest).startswith("largest change among the settings: \u22120.0020 [\u22120.0030, ")
