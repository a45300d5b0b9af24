"""onepoch.analysis.ledger (storage) and ledger_page: recording rows, reading the table, validation."""

from __future__ import annotations

import json

import pytest

from onepoch.analysis import ledger, ledger_page
from onepoch.analysis.ledger import LedgerError


@pytest.fixture
def folder(tmp_path, monkeypatch):
    path = tmp_path / "ledger"
    monkeypatch.setenv("ONEPOCH_LEDGER", str(path))
    return path


def test_record_writes_chapter_file_and_replaces_same_claim(folder):
    ledger.record("C1", "AUC drops in epoch 2", "0.71 -> 0.69", "agrees", "one_epoch", "Figure 1")
    ledger.record("C1", "AUC drops in epoch 2", "0.71 -> 0.70", "inconclusive", "one_epoch", effect=0.01,
                  ci=(-0.002, 0.022), n_seeds=5, rule="drop")
    ledger.record("C2", "x", 0.123456, "disagrees", "one_epoch")
    rows = json.loads((folder / "one_epoch.json").read_text())
    assert [r["claim"] for r in rows] == ["C1", "C2"]
    assert rows[0]["measured"] == "0.71 -> 0.70" and rows[0]["verdict"] == "inconclusive"
    assert rows[0]["effect"] == 0.01 and rows[0]["ci"] == [-0.002, 0.022] and rows[0]["n_seeds"] == 5
    assert rows[0]["rule"] == "drop"
    assert rows[1]["measured"] == "0.1235"  # floats: 4 significant digits
    assert rows[1]["effect"] is None and rows[1]["ci"] is None  # no numbers given: null, not NaN
    assert [p.name for p in folder.iterdir() if not p.name.endswith(".lock")] == ["one_epoch.json"]


def test_table_sorts_claims_numerically_across_chapters(folder):
    for claim, chapter in [("C10", "b"), ("C2", "a"), ("C1", "b"), ("C15", "a"), ("C2", "b")]:
        ledger.record(claim, "p", "m", "agrees", chapter)
    frame = ledger.table()
    assert list(frame.columns) == ["claim", "paper_says", "measured", "verdict", "chapter", "evidence", "effect", "ci",
                                   "n_seeds", "rule"]
    assert list(zip(frame.claim, frame.chapter)) == [
        ("C1", "b"), ("C2", "a"), ("C2", "b"), ("C10", "b"), ("C15", "a")
    ]
    assert list(frame.index) == list(range(5))


def test_table_empty_when_nothing_recorded(folder):
    frame = ledger.table()
    assert frame.empty and "verdict" in frame.columns
    assert "No claims recorded yet" in ledger_page.show(frame).data
    assert ledger_page.summary(frame) == "No claim has been tested yet."


def test_default_folder_without_env(tmp_path, monkeypatch):
    monkeypatch.delenv("ONEPOCH_LEDGER", raising=False)
    monkeypatch.chdir(tmp_path)
    ledger.record("C4", "p", "m", "not testable", "ch")
    assert (tmp_path / "_build" / "ledger" / "ch.json").is_file()


def test_bad_verdict_lists_the_valid_ones(folder):
    with pytest.raises(LedgerError) as err:
        ledger.record("C1", "p", "m", "agree", "ch")
    assert "'agrees', 'disagrees', 'inconclusive', 'not testable'" in str(err.value)
    assert not folder.exists() or not list(folder.glob("*.json"))


@pytest.mark.parametrize("claim", ["1", "c1", "", "C", None])
def test_bad_claim_id(folder, claim):
    with pytest.raises(LedgerError, match="claim id"):
        ledger.record(claim, "p", "m", "agrees", "ch")


def test_bad_chapter_name(folder):
    with pytest.raises(LedgerError, match="chapter"):
        ledger.record("C1", "p", "m", "agrees", "../escape")


def test_html_folds_rows_per_claim_and_escapes(folder):
    ledger.record("C1", "a < b", "m1; m2", "agrees", "one_epoch")
    ledger.record("C1", "a < b", "m3", "disagrees", "beyond", evidence="Remedies (fig-gains)")
    html = ledger_page.to_html()
    assert html.count("<details>") == 1 and html.count("a &lt; b") == 1  # the claim's text once, not per row
    assert '<a href="one_epoch.html">one_epoch</a>' in html and "<li>m1</li><li>m2</li>" in html
    assert '<a href="beyond.html#fig-gains">beyond (figure)</a>' in html  # the figure the evidence names
    assert "<th></th>" not in html and "dataframe" not in html
    assert "1 *disagrees*" in ledger_page.summary()


def test_rows_must_be_filed_under_the_running_chapter(folder, monkeypatch):
    monkeypatch.setenv("ONEPOCH_CHAPTER", "one_epoch")
    with pytest.raises(LedgerError, match="use chapter='one_epoch'"):
        ledger.record("C1", "p", "m", "agrees", "intro")
    ledger.record("C1", "p", "m", "agrees", "one_epoch")


def test_files_are_not_private(folder):
    ledger.record("C1", "p", "m", "agrees", "ch")
    assert (folder / "ch.json").stat().st_mode & 0o044


def test_overview_has_one_reconciled_row_per_claim_with_the_chapters_folded(folder):
    ledger.record("C2", "more epochs do not help", "m1", "disagrees", "one_epoch", effect=0.01, ci=(0.005, 0.015),
                  n_seeds=5, rule="C2-gain")
    ledger.record("C2", "more epochs do not help", "m2", "inconclusive", "beyond", effect=0.0, ci=(-0.01, 0.01),
                  n_seeds=3, rule="C2-gain")
    ledger.record("C10", "p", "m", "not testable", "feature_sparsity")
    html = ledger_page.overview_html()
    rows = html.split("<tr>")[2:]  # after the header row
    ids = [r.split("<strong>")[1].split("</strong>")[0] for r in rows]
    assert ids[:3] == ["C1", "C2", "C3"] and "C10" in ids  # every claim, numeric order
    assert "not tested" in rows[0]  # no chapter recorded C1
    c2 = rows[1]
    assert c2.index("verdict-disagrees") < c2.index("<details>")  # one reconciled verdict: a disagreement decides
    assert "0.0100" in c2 and '<small class="nowrap">[0.0050, 0.0150]</small>' in c2 and "5 seeds" in c2
    assert "inconclusive" in c2.split("<details>")[1]
    assert "verdict-not-testable" in rows[ids.index("C10")]
    summary = ledger_page.reconcile().set_index("claim")
    assert summary.loc["C2", "verdict"] == "disagrees" and summary.loc["C2", "chapter"] == "one_epoch"
    assert summary.loc["C10", "verdict"] == "not testable" and summary.loc["C1", "verdict"] == "not tested"


def test_the_deciding_row_with_the_most_seeds_shows_its_effect(folder):
    ledger.record("C2", "p", "m1", "disagrees", "beyond", effect=0.03, ci=(0.02, 0.04), n_seeds=3, rule="C2-gain")
    ledger.record("C2", "p", "m2", "agrees", "phase", effect=0.0, ci=(-0.001, 0.001), n_seeds=20, rule="C2-gain")
    ledger.record("C2", "p", "m3", "disagrees", "one_epoch", effect=0.02, ci=(0.01, 0.03), n_seeds=15,
                  rule="C2-gain")
    c2 = ledger_page.reconcile().set_index("claim").loc["C2"]
    assert c2.verdict == "disagrees" and c2.chapter == "one_epoch" and c2.n_seeds == 15  # not the agreeing 20


def test_numbers_read_with_a_true_minus_and_no_negative_zero():
    assert ledger_page.effect_text({"effect": -0.00001, "ci": [-0.0123, 0.0004], "n_seeds": 1}) == \
        "0.0000 [\u22120.0123, 0.0004], 1 seed"
    assert ledger_page.anchor("Fig. (fig-train-test) and tab-x") == "fig-train-test"
    assert ledger_page.evidence_href("one_epoch", "no anchor here") == "one_epoch.html"


def test_summary_folds_the_rules(folder):
    ledger.record("C1", "p", "m", "agrees", "one_epoch")
    out = ledger_page.summary_html(rules={"drop": "a < b"})
    assert "1 <em>agrees</em>" in out and "<summary>The rules behind the verdicts (1)</summary>" in out
    assert out.index("</p>") < out.index("<details>") and "a &lt; b" in out
