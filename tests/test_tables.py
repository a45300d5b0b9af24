import pandas as pd

from onepoch import tables


def test_decision_column_first_numbers_right_aligned_and_signed_changes():
    frame = pd.DataFrame({"setting": ["a", "b"], "change": [tables.signed(-0.0032), tables.signed(0.00001)],
                          "AUC": ["0.7012 ± 0.0021", "0.6990 ± 0.0030"], "beats one epoch": ["yes", "no"]})
    out = tables.to_html(frame, first="beats one epoch")
    head = out[out.index("<thead>"):out.index("</thead>")]
    assert head.index("beats one epoch") < head.index("setting")
    assert '<td class="num">\u22120.0032</td>' in out and '<td class="num">0.0000</td>' in out
    assert '<td class="num">0.7012<br>' in out and '<td class="decision">yes</td>' in out
    assert '<td class="num">0.7012 ± 0.0021</td>' in tables.to_html(frame, stack=False)
    assert '<td>a</td>' in out  # text stays left-aligned


def test_long_tables_fold_and_lists_are_summarised():
    frame = pd.DataFrame({"x": range(12)})
    out = tables.to_html(frame, rows=5, fold="all twelve rows")
    assert out.startswith("<details><summary>all twelve rows</summary>") and "7 more rows" in out
    assert tables.k_of_n([True, False, True]) == "2 of 3 settings"
    assert tables.k_of_n([True], "data sets") == "1 of 1 data set"
    assert tables.signed(float("nan")) == "" and tables.signed(0.0123, 3) == "+0.012"


def test_a_spread_goes_under_its_value():
    out = tables.to_html(pd.DataFrame({"drop": ["0.0031\u00a0±\u00a00.0012"]}))
    assert '<td class="num">0.0031<br><span class="spread">± 0.0012</span></td>' in out


def test_counts_agree_with_their_noun():
    assert tables.count(1, "seeds") == "1 seed" and tables.count(2, "seeds") == "2 seeds"
    assert tables.count(1, "boundaries") == "1 boundary" and tables.count(1, "data sets") == "1 data set"
    assert tables.count(1, "passes") == "1 pass" and tables.k_of_n([True], "boundaries") == "1 of 1 boundary"
