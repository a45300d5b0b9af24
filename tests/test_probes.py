import functools

import numpy as np
import pandas as pd
import pytest

from onepoch.config import RunConfig
from onepoch.probes import ADistanceProbe, ParamChangeProbe, a_distance
from onepoch.runs.runner import one_thread
from onepoch.train import fit
from onepoch.train.callbacks import Callback

from helpers import tiny_data

SMALL = dict(epochs=2, batch_size=64, eval_every=20, hidden=(16, 8), train_eval_size=600)


def test_a_distance_of_identical_distributions_is_about_zero():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 8))
    y = rng.integers(0, 2, 4000)
    assert abs(a_distance(x, y)) < 0.1


def test_a_distance_of_separated_distributions_is_about_two():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 4000)
    x = rng.normal(size=(4000, 8)) + 10 * y[:, None]
    assert a_distance(x, y) > 1.95


def test_folds_computed_once_give_the_same_estimates_and_keep_users_together():
    from onepoch.probes.a_distance import fold_splits

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 1200)
    users = np.repeat(np.arange(600), 2)
    x = rng.normal(size=(1200, 16)) + 0.3 * y[:, None]
    splits = fold_splits(y, 2, 5, users)
    for cols in (slice(None), slice(0, 8), slice(8, 16)):  # all fields, then each field alone
        assert a_distance(x[:, cols], y, seed=5, splits=splits) == a_distance(x[:, cols], y, seed=5, groups=users)
    for train, test in splits:
        assert not set(users[train]) & set(users[test])
    assert fold_splits(np.zeros(10, dtype=int), 2) is None  # one class only: no estimate


def test_a_distance_grows_with_separation_and_ignores_scale():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 4000)
    noise = rng.normal(size=(4000, 4))
    values = [a_distance(noise + s * y[:, None], y) for s in (0.2, 1.0, 3.0)]
    assert values[0] < values[1] < values[2]
    assert a_distance(1e-4 * (noise + y[:, None]), y) == pytest.approx(a_distance(noise + y[:, None], y), abs=0.02)


def test_probes_do_not_change_the_trained_model():
    data = tiny_data(2000, 500)
    with one_thread():
        plain = fit(RunConfig(**SMALL), data, progress=False)
        probed = fit(RunConfig(**SMALL), data, callbacks=[ADistanceProbe(samples=300), ParamChangeProbe()],
                     progress=False)
    same = probed[probed.metric.isin(plain.metric.unique())].reset_index(drop=True)
    pd.testing.assert_frame_equal(plain, same)
    assert {"a_distance", "a_distance:item_id", "update:embedding", "update:fc1"} <= set(probed.metric)


def test_a_frozen_layer_has_zero_parameter_change():
    data = tiny_data(2000, 500)
    with one_thread():
        curves = fit(RunConfig(**SMALL, finetune="mlp"), data, callbacks=[ParamChangeProbe()], progress=False)
    epoch2 = curves[curves.epoch > 1]
    emb = epoch2[epoch2.metric == "update:embedding"].value
    fc = epoch2[epoch2.metric == "update:fc1"].value
    assert (emb == 0).all() and (fc > 0).all()
    epoch1 = curves[(curves.epoch <= 1) & (curves.metric == "update:embedding")].value
    assert (epoch1[1:] > 0).all()


def test_finetune_embedding_freezes_the_mlp():
    data = tiny_data(2000, 500)
    with one_thread():
        curves = fit(RunConfig(**SMALL, finetune="embedding"), data, callbacks=[ParamChangeProbe()], progress=False)
    epoch2 = curves[curves.epoch > 1]
    assert (epoch2[epoch2.metric == "update:fc2"].value == 0).all()
    assert (epoch2[epoch2.metric == "update:embedding (batch rows)"].value > 0).all()


def test_sweep_with_probes_caches_under_the_probe_key(tmp_path, monkeypatch):
    from onepoch.runs import runner, sweep
    data = tiny_data(1000, 200)
    monkeypatch.setenv("ONEPOCH_CACHE", str(tmp_path))
    monkeypatch.setattr(runner, "load_data", lambda config: data)
    monkeypatch.setattr(runner, "data_checksum", lambda config: data.checksum)
    probe = functools.partial(ADistanceProbe, samples=200, per_field=False)
    a = sweep([RunConfig(**SMALL)], seeds=[0], n_jobs=1, progress=False, probes=[probe])
    b = sweep([RunConfig(**SMALL)], seeds=[0], n_jobs=1, progress=False)
    assert "a_distance" in set(a.metric) and "a_distance" not in set(b.metric)
    assert len(list(tmp_path.rglob("*.parquet"))) == 2


def test_paired_rows_split_by_group_do_not_bias_the_estimate():
    # a positive and its negative share most features: without groups the CV error exceeds 0.5
    rng = np.random.default_rng(0)
    shared = rng.normal(size=(1000, 6)).repeat(2, axis=0)
    own = rng.normal(size=(2000, 2))
    x = np.hstack([shared, own])
    y = np.tile([1, 0], 1000)
    users = np.arange(1000).repeat(2)
    assert a_distance(x, y, groups=users) == pytest.approx(0.0, abs=0.12)
    assert a_distance(x, y) < a_distance(x, y, groups=users)


class TrainedRows(Callback):  # a Callback recording which rows each epoch has trained on
    def __init__(self):
        self.trained, self.checks = set(), []

    def on_epoch_begin(self, state):
        self.trained = set()

    def on_step_end(self, state):
        bs = state.config.batch_size
        self.trained |= set(state.order[state.batch_index * bs:(state.batch_index + 1) * bs].tolist())


def test_incoming_probe_sees_only_rows_not_yet_trained_in_the_epoch():
    from onepoch.probes import IncomingADistanceProbe

    data = tiny_data(2000, 500)
    seen = TrainedRows()
    probe = IncomingADistanceProbe(samples=300, per_field=False)
    checked = []

    class Check(Callback):
        def on_evaluate(self, state):
            if probe.last_rows is not None and state.step > 0:
                rows = set(probe.last_rows.tolist())
                checked.append((state.step, len(rows)))
                assert not rows & seen.trained, f"step {state.step}: the probe saw rows already trained"
                probe.last_rows = None

    with one_thread():
        curves = fit(RunConfig(**SMALL), data, callbacks=[seen, probe, Check()], progress=False)
    assert len(checked) == 3 and all(n > 0 for _, n in checked)  # steps 20, 40, 60 (31 steps an epoch)
    incoming = curves[(curves.split == "incoming") & (curves.metric == "a_distance")]
    assert len(incoming) == len(checked) and incoming.value.notna().all()
    assert 0 not in set(incoming.step)  # nothing to come before the first epoch's order exists


def test_incoming_probe_and_mean_updates_only_read():
    from onepoch.probes import IncomingADistanceProbe

    data = tiny_data(2000, 500)
    with one_thread():
        plain = fit(RunConfig(**SMALL), data, progress=False)
        probed = fit(RunConfig(**SMALL), data, callbacks=[IncomingADistanceProbe(samples=300), ParamChangeProbe()],
                     progress=False)
    same = probed[probed.metric.isin(plain.metric.unique()) & probed.split.isin(["train", "test"])]
    pd.testing.assert_frame_equal(plain, same.reset_index(drop=True))


def test_update_mean_and_l2_are_consistent_with_linf():
    data = tiny_data(2000, 500)
    with one_thread():
        curves = fit(RunConfig(**SMALL), data, callbacks=[ParamChangeProbe()], progress=False)
    wide = curves[curves.step > 0].pivot_table(index="step", columns="metric", values="value")
    for part in ("embedding", "embedding (batch rows)", "fc1", "fc2", "fc3"):
        linf, mean, l2 = wide[f"update:{part}"], wide[f"update_mean:{part}"], wide[f"update_l2:{part}"]
        assert (mean <= linf + 1e-12).all() and (linf <= l2 + 1e-12).all() and (mean > 0).all()
        # Adam's update is near lr per weight, so the mean sits well below the max but not at zero
        assert (mean < linf).mean() > 0.9
