import numpy as np
import pandas as pd
import pytest

from onepoch.config import RunConfig
from onepoch.runs.runner import one_thread
from onepoch.train import Callback, TrainingDiverged, fit

from helpers import tiny_data

SMALL = dict(epochs=3, batch_size=64, eval_every=20, hidden=(32, 16), train_eval_size=500)


def run_tiny(**changes):
    with one_thread():
        return fit(RunConfig(**{**SMALL, **changes}), tiny_data(), progress=False)


def test_the_trainer_learns_a_small_problem():
    curves = run_tiny(lr=1e-2)
    auc = curves[(curves.split == "train") & (curves.metric == "auc")]
    assert auc.value.iloc[0] < 0.65  # untrained
    assert auc.value.iloc[-1] > 0.9


def test_frame_is_tidy_and_evaluates_at_step_zero_every_n_and_each_epoch_end():
    curves = run_tiny()
    assert list(curves.columns) == ["step", "epoch", "split", "metric", "value"]
    steps_per_epoch = 4000 // 64
    steps = sorted(curves.step.unique())
    assert steps[0] == 0
    assert {20, 40, 60, steps_per_epoch, 2 * steps_per_epoch, 3 * steps_per_epoch} <= set(steps)
    assert set(curves.metric) == {"auc", "logloss", "gauc"} and set(curves.split) == {"train", "test"}
    assert curves.epoch.max() == pytest.approx(3.0)


def test_same_seed_same_curves_other_seed_other_curves():
    a, b, c = run_tiny(seed=3), run_tiny(seed=3), run_tiny(seed=4)
    pd.testing.assert_frame_equal(a, b)  # bit-identical
    assert not np.array_equal(a.value.to_numpy(), c.value.to_numpy())


@pytest.mark.parametrize("model, optimizer", [("dnn", "rmsprop"), ("dnn", "sgd"), ("lr", "adam")])
def test_every_model_and_optimizer_trains(model, optimizer):
    curves = run_tiny(model=model, optimizer=optimizer, lr=1e-2, epochs=1)
    assert curves.value.notna().all()


def test_diverging_loss_stops_with_step_and_hint():
    with pytest.raises(TrainingDiverged, match=r"at step \d+ .*lr=1e\+30.*smaller learning rate"):
        run_tiny(optimizer="sgd", lr=1e30, activation="relu")


def test_callbacks_see_the_loop_and_can_record():
    class Count(Callback):
        steps = 0

        def on_step_end(self, state):
            Count.steps += 1

        def on_evaluate(self, state):
            state.record("train", "steps_seen", Count.steps)

    with one_thread():
        curves = fit(RunConfig(**SMALL), tiny_data(), callbacks=[Count()], progress=False)
    seen = curves[curves.metric == "steps_seen"]
    assert (seen.value.to_numpy() == seen.step.to_numpy()).all()


def test_a_runs_frame_pickles_without_pyarrow_so_a_shared_cache_loads_anywhere():
    import pickle

    import pandas as pd

    from onepoch.train.trainer import curves_frame

    frame = curves_frame([(0, 0.0, "test", "auc", 0.5), (10, 1.0, "train", "logloss", 0.6)])
    # where pyarrow is installed pandas would store the text (and the column names) with it, and the
    # pickle would need pyarrow to load: a cache shared with an environment without it lost those runs
    assert b"pyarrow" not in pickle.dumps(frame)
    plain = pd.DataFrame({"step": [0, 10], "epoch": [0.0, 1.0], "split": ["test", "train"],
                          "metric": ["auc", "logloss"], "value": [0.5, 0.6]})
    pd.testing.assert_frame_equal(frame, plain, check_dtype=False, check_column_type=False)
    assert list(frame.columns) == ["step", "epoch", "split", "metric", "value"]
