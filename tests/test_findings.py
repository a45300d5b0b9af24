"""onepoch.analysis.findings: the intro's findings, computed from the ledger."""
from __future__ import annotations

import pytest

from onepoch.analysis import findings, ledger


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEPOCH_LEDGER", str(tmp_path / "ledger"))
    return tmp_path / "ledger"


def test_no_rows_says_so_plainly(folder):
    text = findings.findings()
    assert "No chapter of this build has recorded a result yet" in text and "<li>" not in text


def test_findings_count_verdicts_and_link_the_evidence(folder):
    ledger.record("C1", "p", "beauty: drop", "agrees", "one_epoch", evidence="DNN (fig-test-only).", effect=0.012,
                  ci=(0.004, 0.02), n_seeds=5, rule="drop+sharp")
    ledger.record("C9", "p", "beauty: 11%", "disagrees", "feature_sparsity", effect=0.11, rule="long-tail")
    ledger.record("C3", "p", "the model does not learn (test AUC 0.52)", "not testable", "one_epoch")
    text = findings.findings(quick=True)
    assert "<strong>quick</strong> build" in text and "3 chapter rows" in text
    assert "1 <em>agrees</em>, 1 <em>disagrees</em>, 1 <em>not testable</em>" in text
    assert '<a href="one_epoch.html#fig-test-only">one_epoch, effect 0.0120 [0.0040, 0.0200], 5 seeds</a>' in text
    assert "Where the book disagrees with the paper:</strong> C9" in text
    assert "(C2) Not tested in this build." in text
    assert "1 chapter row of 3 could not be tested; in 1 of them the model does not learn" in text


def test_a_claim_that_opens_with_its_source_is_not_wrapped_twice(folder):
    ledger.record("C8b", "p", "beauty: gain", "disagrees", "beyond_one_epoch", effect=0.03, ci=(0.02, 0.04),
                  n_seeds=3, rule="no-help")
    text = findings.findings()
    assert "C8b (Extends Fig. 9) Regularising" in text and "((" not in text
