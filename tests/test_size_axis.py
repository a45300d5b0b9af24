"""onepoch.analysis.size_axis: the size axis of chapter data_size (configs, effects table, onsets)."""
import numpy as np
import pandas as pd

from onepoch.analysis import size_axis
from onepoch.analysis.stats import Verdict


def test_configs_are_data_set_by_construction_by_share_with_each_constructions_eval_every():
    cfgs = size_axis.configs(["beauty", "sports"], ["last", "positions"], [0.5, 1.0], {"last": 5, "positions": 20},
                             epochs=3, max_users=100)
    assert [(c.dataset, c.construction, c.train_user_fraction) for c in cfgs][:3] == [
        ("beauty", "last", 0.5), ("beauty", "last", 1.0), ("beauty", "positions", 0.5)]
    assert len(cfgs) == 8 and {c.epochs for c in cfgs} == {3} and {c.max_users for c in cfgs} == {100}
    assert {(c.construction, c.eval_every) for c in cfgs} == {("last", 5), ("positions", 20)}


def test_axis_columns_come_from_the_config_only_where_the_sweep_left_them_out():
    [cfg] = size_axis.configs(["beauty"], ["last"], [0.25], {"last": 5})
    runs = pd.DataFrame({"dataset": ["a"], "train_user_fraction": [0.5]})
    out = size_axis.with_axis_columns(runs, cfg)
    assert out.construction.tolist() == ["last"] and out.train_user_fraction.tolist() == [0.5]
    assert "construction" not in runs  # the caller's frame is left alone


def _curves(gain_by_fraction, seeds=(0, 1, 2)):
    """Test AUC over 3 epochs: 0.70 at the end of epoch 1, 0.70 + gain (+ a seed's jitter) later."""
    rows = []
    for f, gain in gain_by_fraction.items():
        for seed in seeds:
            for step, epoch in enumerate((0.5, 1.0, 1.5, 2.0, 2.5, 3.0)):
                value = 0.70 + (gain + 0.001 * seed if epoch > 1 else 0.0)
                rows.append(dict(step=step, epoch=epoch, split="test", metric="auc", value=value, seed=seed,
                                 dataset="d", construction="last", train_user_fraction=f))
    return pd.DataFrame(rows)


def test_effects_table_has_the_gain_and_drop_numbers_and_the_series():
    runs = _curves({0.25: 0.02, 1.0: -0.01})
    sizes = pd.DataFrame({"dataset": "d", "construction": "last", "train_user_fraction": [0.25, 1.0],
                          "samples_per_item": [1.5, 4.0]})
    table = size_axis.effects_table(runs, sizes).set_index("train_user_fraction")
    small, full = table.loc[0.25], table.loc[1.0]
    assert np.isclose(small.gain_mean, 0.021) and np.isclose(small.gain_mean, small.gain.estimate)
    assert np.isclose(small.gain_half, (small.gain.high - small.gain.low) / 2) and small.gain_half > 0
    assert np.isclose(full.drop_mean, 0.009)  # epoch 2 starts 0.01 - 0.001 x seed lower: 0.009 on average
    assert small.series == "d, last" and full.samples_per_item == 4.0
    assert str(small.gain_verdict) == "disagrees" and str(full.gain_verdict) == "agrees"


def test_onsets_give_the_smallest_size_where_c2_holds_per_series():
    table = pd.DataFrame({"series": ["x, last"] * 3 + ["y, last"] * 2,
                          "samples_per_item": [4.0, 1.0, 2.0, 1.0, 3.0],
                          "train_user_fraction": [1.0, 0.25, 0.5, 0.5, 1.0],
                          "gain_verdict": [Verdict.AGREES, Verdict.DISAGREES, Verdict.AGREES,
                                           Verdict.INCONCLUSIVE, Verdict.DISAGREES]})
    assert size_axis.onsets(table) == ["x, last: from 2.00 samples per item ID (50% of users)",
                                       "y, last: at no size tried"]
