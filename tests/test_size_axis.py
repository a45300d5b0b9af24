"""onepoch.analysis.size_axis: the size axis of chapter data_size (configs, sizes, effects table, onsets, C2)."""
import json

import numpy as np
import pandas as pd

from onepoch.analysis import rules, size_axis
from onepoch.analysis.stats import Verdict, at_most, seed_effect


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


def _train(users=4, rows_per_user=3):
    """Every user has one row on each of items 0..rows_per_user-1: any share of the users keeps
    rows_per_user samples per user and (users kept) samples per item."""
    user = np.repeat(np.arange(users), rows_per_user)
    return {"user_raw": user * 10 + 7, "user_id": user, "item_id": np.tile(np.arange(rows_per_user), users),
            "label": np.arange(users * rows_per_user) % 2}


def test_size_row_counts_the_samples_of_the_kept_users_per_item_and_per_user():
    [half, full] = size_axis.configs(["beauty"], ["last"], [0.5, 1.0], {"last": 5})
    row = size_axis.size_row(half, _train())
    assert row == dict(dataset="beauty", construction="last", train_user_fraction=0.5, samples=6,
                       samples_per_item=2.0, samples_per_user=3.0)
    assert size_axis.size_row(full, _train())["samples_per_item"] == 4.0


def test_sizes_is_one_row_per_config_on_its_own_training_data(monkeypatch):
    cfgs = size_axis.configs(["beauty", "sports"], ["last"], [0.5], {"last": 5})
    users = {"beauty": 4, "sports": 8}
    sizes = size_axis.sizes(cfgs, load=lambda c: _train(users[c.dataset]))
    assert sizes.dataset.tolist() == ["beauty", "sports"] and sizes.samples.tolist() == [6, 12]
    assert sizes.samples_per_item.tolist() == [2.0, 4.0]

    class Loaded:  # by default the data a run trains on: load_data(config).train
        def __init__(self, config):
            self.train = _train(users[config.dataset])

    monkeypatch.setattr(size_axis, "load_data", Loaded)
    assert size_axis.sizes(cfgs).equals(sizes)


def _c2_table(gains, drop_verdicts):
    """Settings of one series 'd, last' at shares 0.25/0.5/1.0, gains per seed as given."""
    effects = [seed_effect(g) for g in gains]
    return pd.DataFrame({"series": "d, last", "train_user_fraction": [0.25, 0.5, 1.0][:len(gains)],
                         "samples_per_item": [1.0, 2.0, 4.0][:len(gains)], "gain": effects,
                         "gain_verdict": [at_most(e.ci, rules.NO_EFFECT_MARGIN) for e in effects],
                         "drop_verdict": drop_verdicts, "n_seeds": [len(g) for g in gains]})


def test_record_c2_agrees_only_at_every_size_and_quotes_the_largest(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEPOCH_LEDGER", str(tmp_path))
    monkeypatch.delenv("ONEPOCH_CHAPTER", raising=False)
    table = _c2_table([[0.02, 0.021, 0.019], [-0.01, -0.011, -0.009], [-0.02, -0.021, -0.019]],
                      [Verdict.AGREES, Verdict.AGREES, Verdict.DISAGREES])
    assert size_axis.record_c2(table, chapter="ch") == Verdict.DISAGREES  # the smallest size gains
    [row] = json.loads((tmp_path / "ch.json").read_text())
    assert row["claim"] == "C2" and row["rule"] == "C2-gain" and row["verdict"] == "disagrees"
    assert np.isclose(row["effect"], -0.02) and row["n_seeds"] == 3  # the largest share
    assert row["measured"].startswith("d, last at 25% of users (1.00 samples per item ID): gain 0.0200 [")
    assert row["measured"].count("; ") == 2
    assert size_axis.record_c2(table.iloc[1:], chapter="ch") == Verdict.AGREES


def test_summary_text_counts_the_settings_and_gives_the_onset_and_verdict():
    table = _c2_table([[0.02, 0.021, 0.019], [-0.01, -0.011, -0.009], [-0.02, -0.021, -0.019]],
                      [Verdict.AGREES, Verdict.AGREES, Verdict.DISAGREES])
    assert size_axis.summary_text(table, n_seeds=3) == (
        "**Computed summary.** Over 3 settings (data set x construction x share of users, 3 seeds each), more "
        "epochs do not beat one epoch in 2; d, last: from 2.00 samples per item ID (50% of users). C2 on the "
        "size axis: disagrees. The drop at the boundary is significant in 2 of them.")
