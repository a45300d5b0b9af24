"""onepoch.analysis.mechanism: the settings, tables, sentences and ledger rows of chapter why_second_epoch."""
import json

import numpy as np
import pandas as pd
import pytest

from onepoch import RunConfig
from onepoch.analysis import mechanism
from onepoch.analysis.stats import Verdict, seed_effect


@pytest.fixture
def ledger_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEPOCH_LEDGER", str(tmp_path / "ledger"))
    monkeypatch.delenv("ONEPOCH_CHAPTER", raising=False)
    return tmp_path / "ledger"


def test_quiet_configs_cover_both_settings_per_data_set_and_read_as_labels():
    cfgs = mechanism.quiet_configs(RunConfig(), ["sports", "beauty"], epochs=2)
    assert [(c.dataset, c.lr, c.sparsity) for c in cfgs] == [
        ("sports", 1e-7, "none"), ("sports", RunConfig().lr, "filter"),
        ("beauty", 1e-7, "none"), ("beauty", RunConfig().lr, "filter")]
    assert {c.epochs for c in cfgs} == {2} and cfgs[1].sparsity_m == 1e-4
    frame = pd.DataFrame({"lr": [c.lr for c in cfgs], "sparsity": [c.sparsity for c in cfgs],
                          "sparsity_m": [c.sparsity_m for c in cfgs]})
    assert mechanism.setting_labels(frame) == ["lr=1e-07", "filter m=0.0001"] * 2


def test_finetune_configs_and_the_mean_change_per_arm():
    cfgs = mechanism.finetune_configs(RunConfig(), ["beauty"], epochs=3, finetune_lr=1e-4)
    assert [c.finetune for c in cfgs] == ["all", "embedding", "mlp"] and {c.finetune_lr for c in cfgs} == {1e-4}
    rows = []
    for arm, drop in (("all", 0.02), ("embedding", -0.01)):
        for ds, extra in (("a", 0.0), ("b", 0.01)):  # data set b drops 0.01 more: the mean is over data sets
            for seed in (0, 1):
                for step, epoch in enumerate((0.5, 1.0, 1.5, 2.0)):
                    value = 0.7 - (drop + extra if epoch > 1 else 0.0)
                    rows.append(dict(step=step, epoch=epoch, split="test", metric="auc", value=value, seed=seed,
                                     dataset=ds, finetune=arm))
    text = mechanism.finetune_change_text(pd.DataFrame(rows))
    assert text == "all \u22120.0250, embedding +0.0050"


def _updates(values_before, values_after, prefixes=("update_mean:",), parts=("fc1", "embedding (batch rows)")):
    """Per-step updates of 3 seeds over 2 epochs of 100 steps; a part's value per seed before/after step 100."""
    rows = []
    for seed in range(3):
        for step in range(1, 201):
            for prefix in prefixes:
                for part in parts:
                    v = (values_after if step > 100 else values_before)[part] * (1 + 0.01 * seed)
                    rows.append(dict(step=step, epoch=step / 100, split="train", metric=prefix + part, value=v,
                                     seed=seed, dataset="d"))
    return pd.DataFrame(rows)


def test_windowed_updates_average_each_window_and_place_it_where_it_ends():
    moves = _updates({"fc1": 1.0, "embedding (batch rows)": 2.0}, {"fc1": 3.0, "embedding (batch rows)": 2.0})
    smooth = mechanism.windowed_updates(moves, "update_mean:", window=50)
    fc = smooth[(smooth.part == "fc1") & (smooth.seed == 0)].sort_values("epoch")
    # steps 0-49 -> epoch 0.5, 50-99 -> 1.0, ...; step 100 is the last of epoch 1, step 200 alone the last window
    assert np.allclose(fc.epoch, [0.5, 1.0, 1.5, 2.0, 2.5])
    assert np.allclose(fc.value, [1.0, 1.0, (1.0 + 49 * 3.0) / 50, 3.0, 3.0])
    assert set(smooth.metric) == {"update"} and set(smooth.split) == {"train"}


def test_ratio_table_has_every_measure_and_the_sentence_names_the_parts_that_jump():
    moves = _updates({"fc1": 1.0, "embedding (batch rows)": 2.0}, {"fc1": 3.0, "embedding (batch rows)": 2.0},
                     prefixes=tuple(mechanism.UPDATE_MEASURES.values()))
    ratios = mechanism.update_ratio_table(moves, ["dataset"], window=20)
    assert list(dict.fromkeys(ratios.measure)) == list(mechanism.UPDATE_MEASURES)
    mean = ratios[ratios.measure == "mean |update|"].set_index("part")
    assert np.isclose(mean.loc["fc1", "effect"].estimate, 3.0)
    assert str(mean.loc["fc1", "jumps"]) == "agrees" and str(mean.loc["embedding (batch rows)", "jumps"]) == "disagrees"
    assert mechanism.update_jump_sentence(ratios) == (
        "*Figure and table:* the mean absolute update jumps at the boundary for fc1 (d); "
        "it does not (or not clearly) for embedding (batch rows) (d).")
    none = ratios.assign(jumps=Verdict.DISAGREES)
    assert "jumps at the boundary for no part;" in mechanism.update_jump_sentence(none)


def _row(path):
    [row] = json.loads(path.read_text())
    return row


def _jumps_ad(incoming, test):
    rows = [dict(dataset=ds, split=split, effect=seed_effect(v), jumps=j, flat=f)
            for split, part in (("incoming", incoming), ("test", test)) for ds, (v, j, f) in part.items()]
    return pd.DataFrame(rows)


def test_incoming_a_distance_row_agrees_only_when_incoming_jumps_and_test_is_flat(ledger_dir):
    jumps = _jumps_ad({"a": ([0.3, 0.32, 0.31], Verdict.AGREES, Verdict.DISAGREES)},
                      {"a": ([0.0, 0.01, -0.01], Verdict.DISAGREES, Verdict.AGREES)})
    assert mechanism.record_incoming_a_distance(jumps, "ch") == Verdict.AGREES
    row = _row(ledger_dir / "ch.json")
    assert row["claim"] == "C12" and row["verdict"] == "agrees" and row["rule"] == "causes-a-jump"
    assert np.isclose(row["effect"], 0.31) and row["n_seeds"] == 3
    assert row["measured"].startswith("incoming batches, a: jump 0.310 [") and "test, a: jump 0.000" in row["measured"]
    jumps.loc[1, "flat"] = Verdict.INCONCLUSIVE  # the test A-distance not shown flat
    assert mechanism.record_incoming_a_distance(jumps, "ch") == Verdict.INCONCLUSIVE


def test_incoming_a_distance_effect_is_pooled_over_data_sets(ledger_dir):
    jumps = _jumps_ad({"a": ([0.3, 0.32, 0.31], Verdict.AGREES, Verdict.DISAGREES),
                       "b": ([0.1, 0.12, 0.11], Verdict.AGREES, Verdict.DISAGREES)}, {})
    mechanism.record_incoming_a_distance(jumps, "ch")
    assert np.isclose(_row(ledger_dir / "ch.json")["effect"], 0.21)


def _ratios(fc1, fc2, emb):
    rows = [dict(dataset="d", part=p, measure=m, effect=seed_effect(v), jumps=j)
            for m in ("mean |update|", "l-inf") for p, (v, j) in
            (("fc1", fc1), ("fc2", fc2), ("embedding (batch rows)", emb))]
    return pd.DataFrame(rows)


def test_mean_update_row_wants_every_fc_layer_to_jump_and_the_embedding_not(ledger_dir):
    up, flat = ([2.0, 2.2, 2.1], Verdict.AGREES), ([1.0, 1.01, 0.99], Verdict.DISAGREES)
    last_up = ([3.0, 3.3, 3.6], Verdict.AGREES)
    assert mechanism.record_mean_update(_ratios(up, last_up, flat), 50, "ch") == Verdict.AGREES
    row = _row(ledger_dir / "ch.json")
    assert row["claim"] == "C13" and row["rule"] == "causes-update-ratio"
    assert np.isclose(row["effect"], 3.3)  # the last FC layer's ratio
    assert "first 50 steps of epoch 2" in row["evidence"] and row["measured"].count("; ") == 2  # mean measure only
    assert mechanism.record_mean_update(_ratios(up, up, up), 50, "ch") == Verdict.DISAGREES  # the embedding jumps
    unsure = ([1.0, 1.5, 0.8], Verdict.INCONCLUSIVE)
    assert mechanism.record_mean_update(_ratios(up, up, unsure), 50, "ch") == Verdict.INCONCLUSIVE
    assert mechanism.record_mean_update(_ratios(flat, up, flat), 50, "ch") == Verdict.DISAGREES  # fc1 flat


def test_incoming_line_reads_each_jump_from_its_interval_and_the_test_jump_where_there_is_one():
    jumps = _jumps_ad({"a": ([0.30, 0.32, 0.31], Verdict.AGREES, Verdict.DISAGREES),
                       "b": ([-0.05, 0.05, 0.0], Verdict.INCONCLUSIVE, Verdict.INCONCLUSIVE)},
                      {"a": ([-0.02, -0.03, -0.025], Verdict.DISAGREES, Verdict.DISAGREES)})
    text = mechanism.incoming_line(jumps)
    assert text.startswith("At the epoch-2 boundary, on a, the A-distance of the batches about to be trained "
                           "jumps by 0.310 [") and text.endswith(".")
    assert " and that of the test samples falls by 0.025 [" in text  # below 0: 'falls', as a magnitude
    assert "; on b, the A-distance of the batches about to be trained changes by 0.000 [" in text
    assert text.endswith(", an interval that includes 0.")
    assert text.count("test samples") == 1  # b has no test jump


def _auc(drops_by_setting, epochs=3, seeds=(0, 1, 2), column="finetune"):
    """Test AUC, 2 evaluations per epoch: 0.70 in epoch 1, lower by a boundary's drop (+ a seed's jitter)
    after each boundary k >= 1 (drops given per boundary, cumulative)."""
    rows = []
    for (ds, setting), drops in drops_by_setting.items():
        for seed in seeds:
            for step, epoch in enumerate(np.arange(1, 2 * epochs + 1) / 2):
                fallen = sum(d + 0.001 * seed for k, d in enumerate(drops, start=1) if epoch > k)
                rows.append(dict(step=step, epoch=epoch, split="test", metric="auc", value=0.70 - fallen,
                                 seed=seed, dataset=ds, **{column: setting}))
    return pd.DataFrame(rows)


def test_finetune_line_names_each_arm_per_data_set_with_its_change():
    ft = _auc({("a", "all"): [0.02], ("a", "mlp"): [-0.01], ("a", "other"): [0.0]}, epochs=2)
    text = mechanism.finetune_line(ft)
    assert text.startswith("Fine-tuning one part from epoch 2 on, at its first evaluation: everything trained (a), "
                           "test AUC falls by 0.0210 [")
    assert "; only the MLP trained (a), test AUC rises by 0.0090 [" in text
    assert "; other (a), test AUC changes by \u22120.0010 [" in text  # an unknown arm: its own name
    assert text.endswith(", an interval that includes 0.")


def test_later_boundaries_line_counts_the_falls_per_data_set_and_names_the_largest():
    runs = _auc({("a", "x"): [0.02, 0.03, -0.01, 0.01], ("b", "x"): [0.0, -0.01, -0.02, -0.005]}, epochs=5)
    text = mechanism.later_boundaries_line(runs)
    assert text.startswith("On a, test AUC falls (95% interval above 0) at 2 of the 3 later boundaries; the lowest "
                           "seed-mean change comes at epoch 2 -> 3, where test AUC falls by 0.0310 [")
    assert " On b, test AUC falls (95% interval above 0) at 0 of the 3 later boundaries; the lowest seed-mean " \
           "change comes at epoch 4 -> 5, where test AUC rises by 0.0040 [" in text
    one = mechanism.later_boundaries_line(runs[runs.epoch <= 3])
    assert "at 1 of the 1 later boundary;" in one
    assert mechanism.later_boundaries_line(runs[runs.epoch <= 2]) == (
        "The runs have no boundary after the first, so the each-epoch question is not asked here.")


def test_summary_lines_are_the_three_sentences_in_order():
    jumps = _jumps_ad({"a": ([0.3, 0.32, 0.31], Verdict.AGREES, Verdict.DISAGREES)}, {})
    ft = _auc({("a", "all"): [0.02]}, epochs=2)
    runs = _auc({("a", "x"): [0.02, 0.03]}, epochs=3)
    assert mechanism.summary_lines(jumps, ft, runs) == [
        mechanism.incoming_line(jumps), mechanism.finetune_line(ft), mechanism.later_boundaries_line(runs)]
