"""verdict_rows: a chapter's computed summary paragraph (`measured_text`) from its ledger rows."""
from onepoch.analysis import rules
from onepoch.analysis.verdict_rows import headline, measured_text


def _rows():
    return [dict(claim=c, verdict="agrees", effect=None, rule="drop") for c in ("C2", "C7")]


def test_measured_text_joins_the_headlines_then_the_rule_changes():
    head, rest = measured_text(_rows(), ["C7"]).split("\n\n", 1)
    assert head == ("**Measured.** **C2 (agrees)**: no effect could be estimated (rule drop). "
                    "**C7 (agrees)**: no effect could be estimated (rule drop).")
    assert rest == rules.changes(["C7"])


def test_a_chapter_finding_follows_the_headlines():
    rows = _rows()
    head = measured_text(rows, [], finding="Of the 10 runs, 9 peak in epoch 1.").split("\n\n", 1)[0]
    assert head.endswith(headline(rows[-1]) + " Of the 10 runs, 9 peak in epoch 1.")
    assert "  " not in head  # no empty finding leaves a double space
    assert measured_text(rows, [], finding="").split("\n\n", 1)[0].endswith("(rule drop).")


def test_a_headline_states_the_effect_and_its_interval():
    row = dict(claim="C1", verdict="agrees", effect=0.0123, ci=(0.0101, 0.0145), n_seeds=5, rule="drop+sharp",
               effect_of="drop at the boundary")
    text = headline(row)
    assert text.startswith("**C1 (agrees)**: drop at the boundary: ")
    assert "[" in text and "5 seeds" in text and "rule drop+sharp" in text
