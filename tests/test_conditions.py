"""onepoch.analysis.conditions: the one_epoch chapter's conditions varied one at a time."""
import pandas as pd
import pytest

from onepoch.analysis import conditions


def curve(seed, values, steps_per_epoch=4, **labels):
    """A test-AUC curve evaluated at steps 0..len(values)-1, with its setting columns."""
    return pd.DataFrame({"step": range(len(values)), "epoch": [s / steps_per_epoch for s in range(len(values))],
                         "split": "test", "metric": "auc", "value": values, "seed": seed, "dataset": "a",
                         "model": "dnn", **labels})


DROPS = [0.5, 0.6, 0.7, 0.8, 0.8, 0.7, 0.71, 0.72, 0.73]  # peak 0.8 in epoch 1, falls 0.1 at the boundary
RISES = [0.5, 0.6, 0.7, 0.75, 0.75, 0.78, 0.8, 0.85, 0.9]  # no drop, peak at the end


def frames():
    lr = pd.concat([curve(s, DROPS, lr=1e-3) for s in range(2)] + [curve(s, RISES, lr=1e-2) for s in range(2)])
    # a condition the runs have no column for (e.g. construction at its default) reads "default"
    plain = pd.concat([curve(s, RISES) for s in range(2)])
    return {"lr": lr, "construction": plain}


def test_table_has_one_row_per_condition_and_value_with_its_numbers():
    table = conditions.table(frames())
    assert list(table.columns) == ["condition", "value", "drop at epoch 2", "sharp", "peak epoch (mean curve)",
                                   "peak test AUC", "best of epoch 1"]
    assert table[["condition", "value"]].values.tolist() == [["lr", "0.001"], ["lr", "0.01"],
                                                            ["construction", "default"]]
    first, second, default = table.to_dict("records")
    assert first["drop at epoch 2"] == "0.1000 ± 0.0000" and first["sharp"] == "yes"
    assert first["peak epoch (mean curve)"] == "0.75" and first["peak test AUC"] == "0.8000"
    assert first["best of epoch 1"] == "0.8000 ± 0.0000"
    assert second["sharp"] == "no" and second["peak epoch (mean curve)"] == "2.00"
    assert default["drop at epoch 2"] == "-0.0300 ± 0.0000" and default["sharp"] == "no"


def test_labelled_keeps_other_columns_and_reads_default_without_the_column():
    frame = curve(0, DROPS, lr=1e-3)
    assert conditions.labelled(frame, "lr")["lr"].tolist() == ["0.001"] * len(DROPS)
    assert set(conditions.labelled(frame, "emb_init")["emb_init"]) == {"default"}


def test_chart_puts_the_first_two_conditions_on_the_top_row():
    alt = pytest.importorskip("altair")
    f = frames()
    chart = conditions.chart({**f, "emb_init": f["construction"]})
    assert isinstance(chart, alt.VConcatChart)
    top, bottom = chart.vconcat
    assert [c.title for c in top.hconcat] == ["varying lr", "varying construction"]
    assert [c.title for c in bottom.hconcat] == ["varying emb_init"]
