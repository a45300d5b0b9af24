"""Mechanics of the causal controls (onepoch.train.controls) and the size axis."""
import numpy as np
import pandas as pd
import pytest
import torch

from onepoch.config import ConfigError, RunConfig
from onepoch.models.dice import Dice
from onepoch.runs.runner import one_thread
from onepoch.train import fit
from onepoch.train.callbacks import Callback
from onepoch.train.controls import split_halves, training_users_subset

from helpers import tiny_data

SMALL = dict(epochs=3, batch_size=64, eval_every=20, hidden=(16, 8), train_eval_size=600)


class Recorder(Callback):
    """Rows trained per epoch, Dice statistics at each epoch start, optimizer state sizes."""

    def __init__(self):
        self.rows, self.stats, self.opt_steps = [], [], []

    def on_epoch_begin(self, state):
        self.rows.append([])
        dice = [m for m in state.model.modules() if isinstance(m, Dice)]
        self.stats.append([(d.norm.running_mean.clone(), d.norm.running_var.clone()) for d in dice])

    def on_step_end(self, state):
        bs = state.config.batch_size
        self.rows[-1].append(state.order[state.batch_index * bs:(state.batch_index + 1) * bs].clone())
        if state.batch_index == 0:
            steps = [s["step"] for s in state.optimizer.state.values() if "step" in s]
            self.opt_steps.append(float(max(steps)))

    def on_train_end(self, state):
        self.on_epoch_begin(state)
        self.rows.pop()


def train(data, **options):
    rec = Recorder()
    with one_thread():
        curves = fit(RunConfig(**{**SMALL, **options}), data, callbacks=[rec], progress=False)
    return curves, rec


def test_controls_off_are_the_plain_run():
    data = tiny_data(2000, 500)
    with one_thread():
        plain = fit(RunConfig(**SMALL), data, progress=False)
        neutral = fit(RunConfig(**SMALL, freeze_norm_stats=False, reset_optimizer=False, second_pass="none",
                                reshuffle=True, train_user_fraction=1.0), data, progress=False)
    pd.testing.assert_frame_equal(plain, neutral)
    assert RunConfig(**SMALL).key() == RunConfig(**SMALL, reshuffle=True, train_user_fraction=1.0).key()


def test_frozen_statistics_stay_frozen_from_the_end_of_epoch_one():
    data = tiny_data(2000, 500)
    _, plain = train(data)
    _, frozen = train(data, freeze_norm_stats=True)
    end1, end2, end3 = frozen.stats[1], frozen.stats[2], frozen.stats[3]
    for (m1, v1), (m2, v2), (m3, v3) in zip(end1, end2, end3):
        assert torch.equal(m1, m2) and torch.equal(m1, m3) and torch.equal(v1, v3)
    # the plain run's statistics keep moving, and epoch 1 is the same in both runs
    assert not torch.equal(plain.stats[1][0][0], plain.stats[2][0][0])
    assert torch.equal(plain.stats[1][0][0], frozen.stats[1][0][0])


def test_freeze_norm_stats_needs_dice():
    with pytest.raises(ConfigError, match="Dice"):
        RunConfig(activation="relu", freeze_norm_stats=True)


def test_reset_optimizer_restarts_adams_step_count_each_epoch():
    data = tiny_data(2000, 500)
    _, plain = train(data)
    _, reset = train(data, reset_optimizer=True)
    assert plain.opt_steps == [1, 32, 63]  # 31 steps an epoch, recorded after each epoch's first step
    assert reset.opt_steps == [1, 1, 1]


@pytest.mark.parametrize("options", [dict(emb_optimizer="lazy"), dict(emb_l2=1e-4)])
def test_reset_optimizer_also_resets_several_optimizers_stepped_as_one(options):
    """Lazy Adam and embedding L2 step the table and the rest with two optimizers (`Optimizers`), whose
    merged `state` is a copy: the reset must clear each one's own."""
    _, reset = train(tiny_data(2000, 500), reset_optimizer=True, **options)
    assert reset.opt_steps == [1, 1, 1]


def test_split_halves_never_repeat_a_sample():
    for n in (10, 11, 2000):
        a, b = split_halves(n, seed=3)
        assert len(a) == len(b) == n // 2
        assert len(set(a.tolist()) | set(b.tolist())) == 2 * (n // 2)  # disjoint, no repeats inside


@pytest.mark.parametrize("mode", ["fresh", "repeat"])
def test_second_pass_trains_half_a_then_b_or_a_again(mode):
    data = tiny_data(2048, 500)
    _, rec = train(data, second_pass=mode, seed=5)
    epoch1 = torch.cat(rec.rows[0])
    half = len(epoch1) // 2
    first, second = set(epoch1[:half].tolist()), set(epoch1[half:].tolist())
    assert len(first) == len(second) == half  # no sample twice within a pass
    a, b = split_halves(2048, seed=5)
    assert first == set(a.tolist())
    assert second == (set(b.tolist()) if mode == "fresh" else first)
    if mode == "repeat":  # the second pass is in a new order
        assert not torch.equal(epoch1[:half], epoch1[half:])
    assert len(set(torch.cat(rec.rows[1]).tolist())) == len(torch.cat(rec.rows[1]))  # epoch 2 as usual


def test_no_reshuffle_repeats_the_first_order_and_reshuffle_does_not():
    data = tiny_data(2000, 500)
    _, fixed = train(data, reshuffle=False)
    _, plain = train(data)
    assert all(torch.equal(torch.cat(fixed.rows[0]), torch.cat(r)) for r in fixed.rows[1:])
    assert not torch.equal(torch.cat(plain.rows[0]), torch.cat(plain.rows[1]))
    assert torch.equal(torch.cat(plain.rows[0]), torch.cat(fixed.rows[0]))


def test_user_fraction_is_nested_and_keeps_whole_users():
    users = np.repeat(np.arange(100), 3)
    small, large = (training_users_subset(users, f, seed=0) for f in (0.1, 0.5))
    assert set(small) <= set(large)
    assert len(np.unique(users[small])) == 10 and len(small) == 30


def test_user_fraction_trains_on_fewer_samples_with_the_same_test_set():
    data = tiny_data(2000, 500)
    full, _ = train(data, epochs=1)
    part, rec = train(data, epochs=1, train_user_fraction=0.5, eval_every=5)
    trained = torch.cat(rec.rows[0])
    assert 800 < len(trained) < 1200 and trained.max() < 1200  # about half the 2000 samples
    test_rows = lambda c: c[(c.split == "test") & (c.metric == "auc")]
    assert len(test_rows(part)) > 0 and part.step.max() < full.step.max()
    with pytest.raises(ConfigError, match="train_user_fraction"):
        RunConfig(train_user_fraction=0.0)
