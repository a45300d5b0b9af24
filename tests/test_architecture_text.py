"""onepoch.analysis.architectures' sentences (spread_at_end, spread_text, boundary_text, rows_text), on hand-made
frames."""
import pandas as pd

from onepoch.analysis import architectures as arch
from onepoch.analysis.stats import Effect


def spread() -> pd.DataFrame:
    """Two seeds of one field; rows out of step order, so the last value must come from sorting."""
    return pd.DataFrame({"data": "x", "field": "item_id", "seed": [0, 0, 1, 1], "step": [5, 1, 1, 5],
                         "value": [0.4, 0.9, 0.8, 0.2]})


def test_spread_at_end_takes_each_seeds_last_step():
    end = arch.spread_at_end(spread())
    r = end.iloc[0]
    assert (r["mean"], r["min"], r["max"]) == (0.30000000000000004, 0.2, 0.4)


def test_spread_text_adds_dins_change_against_dnn_at_the_first_boundary():
    vs = pd.DataFrame({"data": ["x", "x", "x"], "model": ["din", "din", "fm"], "boundary": [1, 2, 1],
                       "versus_dnn": [Effect(0.01, 0.0, 0.02, 3, "t")] * 3})
    text = arch.spread_text(arch.spread_at_end(spread()), vs)
    assert text == ("At the end of training the spread is x item_id: 0.300 (0.200-0.400 over seeds). DIN's change "
                    "at epoch 2 minus dnn's, same seed (minus: DIN falls further): x: \u22120.0100 [\u22120.0200, 0.0000].")


def test_boundary_text_counts_cases_with_and_without_an_mlp():
    table = pd.DataFrame({
        "model": ["dnn", "din", "lr", "fm", "fm", "lr", "dnn"], "boundary": [1, 1, 1, 1, 1, 1, 2],
        "drop_verdict": ["agrees", "disagrees", "agrees", "disagrees", "disagrees", "not testable", "agrees"],
        "no_drop_verdict": ["disagrees", "agrees", "disagrees", "agrees", "agrees", "not testable", "disagrees"],
        "untestable": ["", "", "", "", "", "no learning", ""]})
    peaks = pd.DataFrame({"peak_in_epoch1": [True, False, True]})
    text = arch.boundary_text(table, peaks, 3, 2, quick=True)
    assert text.startswith("At the 1 -> 2 boundary, 1 of 2 (model with an MLP, data set) cases drop (interval above "
                           "0.002 AUC) and 1 of 4 cases without an MLP do; 2 of those 4 are shown not to drop "
                           "(interval below 0.002); 1 of 6 cases are not testable")
    assert text.endswith("peaks within epoch 1 in 2 of 3 cases (3 seeds, 2 epochs, quick mode).")
    assert arch.boundary_text(table, peaks, 3, 2, quick=False).endswith("(3 seeds, 2 epochs).")


def test_rows_text_gives_one_paragraph_per_row():
    rows = [dict(claim="C3", verdict="agrees", effect=None, rule="drop"),
            dict(claim="C4", verdict="inconclusive", effect=None, rule="sharp")]
    paragraphs = arch.rows_text(rows).split("\n\n")
    assert paragraphs[0] == "Ledger rows of this chapter:"
    assert [p[:8] for p in paragraphs[1:]] == ["**C3 (ag", "**C4 (in"]
