"""The evaluation schedule (onepoch.train.schedule): fewer evaluations where the book reads none,
the same curves where it evaluates, and the cache keys of existing runs unchanged."""
import pandas as pd
import pytest

from onepoch.config import ConfigError, RunConfig
from onepoch.runs.runner import one_thread
from onepoch.train import Callback, fit
from onepoch.train.schedule import BOUNDARY_EVALS, COARSE, evaluation_steps, thin

from helpers import tiny_data

# 4000 samples / batch 40 = 100 steps per epoch; evaluations every 5 steps
SMALL = dict(epochs=5, batch_size=40, eval_every=5, hidden=(16, 8), train_eval_size=300)
STEPS = 100


def run_tiny(callbacks=(), **changes):
    with one_thread():
        return fit(RunConfig(**{**SMALL, **changes}), tiny_data(), callbacks=callbacks, progress=False)


def test_boundaries_keeps_epochs_1_2_and_each_boundary_at_the_papers_cadence():
    config = RunConfig(**SMALL, eval_schedule="boundaries")
    steps = evaluation_steps(config, STEPS)
    paper = evaluation_steps(RunConfig(**SMALL), STEPS)
    assert set(steps) <= set(paper) and len(steps) < len(paper)
    assert [s for s in paper if s <= 2 * STEPS] == [s for s in steps if s <= 2 * STEPS]  # epochs 1-2 whole
    for k in range(2, 5):  # after each later boundary: BOUNDARY_EVALS evaluations at the paper's cadence
        after = [s for s in steps if k * STEPS < s <= (k + 1) * STEPS]
        assert after[:BOUNDARY_EVALS] == [k * STEPS + 5 * (i + 1) for i in range(BOUNDARY_EVALS)]
        assert all(s % (5 * COARSE) == 0 or s == (k + 1) * STEPS for s in after[BOUNDARY_EVALS:])
    assert {k * STEPS for k in range(6)} <= set(steps)  # every epoch end, and step 0


def test_a_boundaries_run_has_the_paper_runs_curves_at_its_steps():
    seen = []

    class Evaluations(Callback):  # callbacks see each evaluation the schedule makes
        def on_evaluate(self, state):
            seen.append(state.step)

    paper = run_tiny()
    coarse = run_tiny(callbacks=[Evaluations()], eval_schedule="boundaries")
    config = RunConfig(**SMALL, eval_schedule="boundaries")
    pd.testing.assert_frame_equal(coarse, thin(paper, config, STEPS))  # bit-identical
    assert seen == evaluation_steps(config, STEPS)


def test_without_train_evaluation_the_test_curves_are_unchanged():
    full, test_only = run_tiny(epochs=1), run_tiny(epochs=1, eval_train=False)
    assert set(test_only.split) == {"test"}
    pd.testing.assert_frame_equal(test_only, full[full.split == "test"].reset_index(drop=True))


def test_existing_cache_keys_do_not_change():
    assert RunConfig().key("x") == RunConfig(eval_schedule="paper", eval_train=True).key("x")
    # two epochs or fewer: both schedules evaluate at the same steps, one key
    assert RunConfig(epochs=2).key("x") == RunConfig(epochs=2, eval_schedule="boundaries").key("x")
    assert RunConfig(epochs=3).key("x") != RunConfig(epochs=3, eval_schedule="boundaries").key("x")
    assert RunConfig().key("x") != RunConfig(eval_train=False).key("x")


def test_unknown_schedule_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown eval_schedule 'sparse'.*paper, boundaries"):
        RunConfig(eval_schedule="sparse")


def test_a_thinner_run_comes_from_its_cached_paper_run_without_training(tmp_path, monkeypatch):
    from onepoch.runs import runner

    monkeypatch.setenv("ONEPOCH_CACHE", str(tmp_path))
    paper = RunConfig(dataset="synthetic", syn_samples=3000, syn_users=300, syn_items=300, syn_categories=20,
                      max_history=5, epochs=4, batch_size=40, eval_every=5, hidden=(8,), train_eval_size=300)
    thinner = paper.replace(eval_schedule="boundaries", eval_train=False)
    trained = runner.run(thinner, cache=False, progress=False)  # trained on its own schedule
    runner.run(paper, progress=False)  # cached

    def no_training(*args, **kwargs):
        raise AssertionError("trained although its paper-cadence run is cached")

    monkeypatch.setattr("onepoch.train.trainer.fit", no_training)
    pd.testing.assert_frame_equal(runner.run(thinner, progress=False), trained)
    pd.testing.assert_frame_equal(runner.sweep([thinner], seeds=[0], n_jobs=1, progress=False)[trained.columns],
                                  trained)
