import pandas as pd
import pytest

from onepoch.analysis import summary


def curve(seed, values, steps_per_epoch=4, dataset="a"):
    """A test-AUC curve evaluated at steps 0..len(values)-1."""
    return pd.DataFrame({"step": range(len(values)), "epoch": [s / steps_per_epoch for s in range(len(values))],
                         "split": "test", "metric": "auc", "value": values, "seed": seed, "dataset": dataset})


def test_boundary_numbers_hand_computed():
    # epoch 1 = steps 1..4, epoch 2 = steps 5..8
    f = curve(0, [0.5, 0.6, 0.7, 0.8, 0.75, 0.70, 0.72, 0.74, 0.76])
    (row,) = summary.boundary_drops(f, ["dataset"]).itertuples()
    assert row.best_epoch1 == 0.8 and row.end_epoch1 == 0.75
    assert row.first_epoch2 == 0.70 and row.drop == pytest.approx(0.05)
    assert row.min_epoch2 == 0.70 and row.best == 0.8 and row.best_epoch == 0.75


def test_sharp_needs_drop_above_noise_and_floor():
    sharp = pd.concat([curve(s, [0.5, 0.6, 0.7, 0.8, 0.8, 0.7 + 0.001 * s, 0.7, 0.7, 0.7]) for s in range(3)])
    noisy = pd.concat([curve(s, [0.5, 0.6, 0.7, 0.8, 0.8, 0.8 + (0.02 if s else -0.04), 0.7, 0.7, 0.7])
                       for s in range(3)])
    tiny = pd.concat([curve(s, [0.5, 0.6, 0.7, 0.8, 0.8, 0.799, 0.7, 0.7, 0.7]) for s in range(3)])
    assert summary.drop_table(sharp, ["dataset"]).sharp_drop.item()
    assert not summary.drop_table(noisy, ["dataset"]).sharp_drop.item()
    assert not summary.drop_table(tiny, ["dataset"]).sharp_drop.item()


def test_peak_epochs_uses_the_seed_mean_curve():
    f = pd.concat([curve(0, [0.5, 0.6, 0.9, 0.6, 0.6, 0.6, 0.6, 0.7, 0.6]),
                   curve(1, [0.5, 0.6, 0.5, 0.6, 0.6, 0.6, 0.6, 0.7, 0.6])])
    peak = summary.peak_epochs(f, ["dataset"]).iloc[0]
    assert peak.peak_epoch == 0.5 and peak.peak_value == pytest.approx(0.7) and peak.peak_in_epoch1


def test_show_keeps_a_value_and_its_spread_together():
    html = summary.show(pd.DataFrame({"auc": ["0.7351 ± 0.0074"], "note": ["a long text that may wrap"]})).data
    assert "0.7351\u00a0±\u00a00.0074" in html and "a long text that may wrap" in html and "<th>" in html
