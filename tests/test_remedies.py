"""Each multi-epoch remedy does what it says (onepoch.train.remedies)."""
import math

import pytest
import torch
import torch.nn.functional as F

from onepoch.config import ConfigError, RunConfig
from onepoch.models import FieldLayout, build_model
from onepoch.models.fields import init_embedding
from onepoch.runs.runner import one_thread
from onepoch.train import Callback, fit
from onepoch.train.remedies import (MEDA, FrequencyDecay, LazyAdam, LRDecay, Optimizers, build_optimizer,
                                    custom_optimizer, remedies_for)
from onepoch.train.schemes import FineTune, schemes_for
from onepoch.train.trainer import TrainState

from helpers import tiny_data

SMALL = dict(epochs=2, batch_size=64, eval_every=20, hidden=(16, 8), train_eval_size=500)


def setup(config=None, steps: int = 5):
    """A model, its config's optimizer and a TrainState after a few training steps on tiny data."""
    config = config or RunConfig(**SMALL)
    data = tiny_data(1000, 200)
    layout = FieldLayout.of(data.train, config.fields)
    torch.manual_seed(0)
    model = build_model(config, data.vocab_size, layout)
    state = TrainState(config, model, build_optimizer(config, model), steps_per_epoch=steps)
    ids, y = layout.pack(data.train), data.train["label"]
    for b in range(steps):
        state.batch_ids = ids[b * 64:(b + 1) * 64]
        loss = F.binary_cross_entropy_with_logits(model(state.batch_ids), y[b * 64:(b + 1) * 64])
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        state.optimizer.step()
        state.step += 1
    return state, ids, y


def snapshot(params):
    return [p.detach().clone() for p in params]


# -- the default path is untouched ------------------------------------------------

def test_no_remedy_means_no_callback_and_the_plain_optimizer():
    config = RunConfig(**SMALL)
    assert schemes_for(config) == [] and not custom_optimizer(config)
    state, _, _ = setup(config)
    assert type(state.optimizer) is torch.optim.Adam and len(state.optimizer.param_groups) == 1


def test_bad_remedy_settings_are_config_errors():
    with pytest.raises(ConfigError, match="lazy.*optimizer='adam'"):
        RunConfig(emb_optimizer="lazy", optimizer="sgd")
    with pytest.raises(ConfigError, match="lr_decay must be in"):
        RunConfig(lr_decay=0.0)
    with pytest.raises(ConfigError, match="unknown emb_optimizer"):
        RunConfig(emb_optimizer="sparse")
    with pytest.raises(ConfigError, match="emb_l2 must be >= 0"):
        RunConfig(emb_l2=-1.0)


# -- MEDA -------------------------------------------------------------------------

def test_meda_reinitialises_the_embeddings_and_their_optimizer_state_and_keeps_the_mlp():
    state, _, _ = setup(RunConfig(**SMALL, meda=True))
    model, table = state.model, state.model.embedding.table.weight
    trained, mlp = table.detach().clone(), snapshot(model.mlp_parameters())
    mlp_state = {id(p): state.optimizer.state[p]["exp_avg"].clone() for p in model.mlp_parameters()}
    assert table in state.optimizer.state

    MEDA(seed=0).on_epoch_begin(state)  # epoch_index 0: the first epoch starts as usual
    assert torch.equal(table, trained)

    state.epoch_index = 1
    MEDA(seed=0).on_epoch_begin(state)
    fresh = torch.empty_like(trained)
    init_embedding(fresh, "glorot", 0.01, torch.Generator().manual_seed(1_000_003 * 1 + 1))
    assert torch.equal(table.detach(), fresh)  # exactly a fresh initialisation ...
    assert not torch.equal(table.detach(), trained)  # ... not the trained table
    limit = math.sqrt(6 / sum(table.shape))
    assert table.abs().max() <= limit
    assert table not in state.optimizer.state  # its moments and step count start over
    for p, before in zip(model.mlp_parameters(), mlp):  # the MLP and its optimizer state are untouched
        assert torch.equal(p, before)
        assert torch.equal(state.optimizer.state[p]["exp_avg"], mlp_state[id(p)])


def test_meda_resets_at_every_epoch_start_in_training():
    class Watch(Callback):
        def __init__(self):
            self.tables, self.mlps = [], []

        def on_epoch_begin(self, state):  # runs after MEDA (schemes come first)
            self.tables.append(state.model.embedding.table.weight.detach().clone())
            self.mlps.append(snapshot(state.model.mlp_parameters()))

        def on_train_end(self, state):
            self.on_epoch_begin(state)

    watch = Watch()
    with one_thread():
        fit(RunConfig(**{**SMALL, "epochs": 3}, meda=True), tiny_data(1000, 200), callbacks=[watch], progress=False)
    start, e2, e3, end = watch.tables
    limit = math.sqrt(6 / sum(start.shape))
    for fresh in (e2, e3):
        assert fresh.abs().max() <= limit and not torch.equal(fresh, start)
    assert end.abs().max() > limit  # trained in the last epoch: moved beyond the initial range
    assert not all(torch.equal(a, b) for a, b in zip(watch.mlps[1], watch.mlps[0]))  # the MLP keeps learning


# -- freezing the MLP after epoch 1 (finetune="embedding") and learning-rate decay ---

def test_freezing_the_mlp_after_epoch_1_keeps_it_fixed_and_trains_the_embeddings():
    class Watch(Callback):
        def on_epoch_begin(self, state):
            if state.epoch_index == 1:
                self.mlp = snapshot(state.model.mlp_parameters())
                self.table = state.model.embedding.table.weight.detach().clone()

        def on_train_end(self, state):
            self.same_mlp = all(torch.equal(a, b) for a, b in zip(self.mlp, state.model.mlp_parameters()))
            self.table_moved = not torch.equal(self.table, state.model.embedding.table.weight)

    watch = Watch()
    config = RunConfig(**{**SMALL, "epochs": 3}, finetune="embedding")
    assert isinstance(schemes_for(config)[0], FineTune)
    with one_thread():
        fit(config, tiny_data(1000, 200), callbacks=[watch], progress=False)
    assert watch.same_mlp and watch.table_moved


def test_lr_decay_multiplies_every_learning_rate_at_each_epoch_boundary():
    class Rates(Callback):
        rates = []

        def on_epoch_begin(self, state):
            Rates.rates.append(sorted({g["lr"] for g in state.optimizer.param_groups}))

    with one_thread():
        fit(RunConfig(**{**SMALL, "epochs": 3}, lr=1e-2, lr_decay=0.5), tiny_data(1000, 200), callbacks=[Rates()],
            progress=False)
    assert Rates.rates == [[1e-2], [5e-3], [2.5e-3]]
    assert any(isinstance(cb, LRDecay) for cb in remedies_for(RunConfig(lr_decay=0.5)))


# -- lazy Adam --------------------------------------------------------------------

def test_lazy_adam_is_torch_sparse_adam_on_a_dense_gradient():
    torch.manual_seed(0)
    weight = torch.randn(50, 4)
    dense = torch.nn.Parameter(weight.clone())
    sparse = torch.nn.Embedding(50, 4, sparse=True)
    sparse.weight.data.copy_(weight)
    ours, theirs = LazyAdam([dense], lr=1e-2), torch.optim.SparseAdam(list(sparse.parameters()), lr=1e-2)
    g = torch.Generator().manual_seed(1)
    for _ in range(6):
        ids = torch.randint(0, 50, (12,), generator=g)
        target = torch.randn(12, 4, generator=g)
        for emb, opt in ((lambda i: F.embedding(i, dense), ours), (sparse, theirs)):
            opt.zero_grad()
            ((emb(ids) - target) ** 2).sum().backward()
            opt.step()
    torch.testing.assert_close(dense.detach(), sparse.weight.detach(), rtol=1e-6, atol=1e-7)


def test_lazy_adam_moves_only_the_rows_in_the_batch_and_dense_adam_moves_all():
    for kind, only_batch_rows in (("lazy", True), ("dense", False)):
        state, ids, y = setup(RunConfig(**SMALL, emb_optimizer=kind), steps=3)
        table = state.model.embedding.table.weight
        before = table.detach().clone()
        batch = ids[500:510]
        loss = F.binary_cross_entropy_with_logits(state.model(batch), y[500:510])
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        state.optimizer.step()
        moved = (table.detach() != before).any(dim=1)
        in_batch = torch.zeros(len(table), dtype=torch.bool)
        in_batch[batch[batch != 0]] = True
        assert moved[in_batch].all()
        assert (not moved[~in_batch].any()) if only_batch_rows else moved[~in_batch].sum() > 0, kind


def test_lazy_adam_gives_the_embedding_table_lazy_adam_and_the_mlp_dense_adam():
    state, _, _ = setup(RunConfig(**SMALL, emb_optimizer="lazy"))
    assert isinstance(state.optimizer, Optimizers)
    lazy, dense = state.optimizer.optimizers
    assert isinstance(lazy, LazyAdam) and type(dense) is torch.optim.Adam
    assert lazy.param_groups[0]["params"] == state.model.embedding_parameters()
    assert {id(p) for p in dense.param_groups[0]["params"]} == {id(p) for p in state.model.mlp_parameters()}


# -- embedding L2 -----------------------------------------------------------------

def test_embedding_l2_reaches_the_embedding_table_only():
    state, _, _ = setup(RunConfig(**SMALL, emb_l2=1e-2, weight_decay=1e-4))
    groups = state.optimizer.param_groups
    emb_group = next(g for g in groups if any(p is state.model.embedding.table.weight for p in g["params"]))
    other = [g for g in groups if g is not emb_group]
    assert emb_group["weight_decay"] == pytest.approx(1e-2 + 1e-4)
    assert [g["weight_decay"] for g in other] == [1e-4]


def _final_norms(setting: str, values) -> dict:
    """The embedding table's norm after training SMALL on tiny data, for each value of `setting`."""
    norms = {}
    for value in values:
        with one_thread():
            cb = _Norm()
            fit(RunConfig(**SMALL, **{setting: value}), tiny_data(1000, 200), callbacks=[cb], progress=False)
        norms[value] = cb.norm
    return norms


def test_embedding_l2_shrinks_the_table_in_training():
    norms = _final_norms("emb_l2", (0.0, 1.0))
    assert norms[1.0] < 0.8 * norms[0.0]


class _Norm(Callback):
    def on_train_end(self, state):
        self.norm = float(state.model.embedding.table.weight.detach().norm())


# -- frequency-aware decoupled decay ------------------------------------------------

def test_frequency_decay_shrinks_the_rows_in_the_batch_rare_ones_harder():
    config = RunConfig(**SMALL, emb_decay=10.0, emb_decay_alpha=0.1, lr=1e-2)
    state, _, _ = setup(config, steps=0)
    table = state.model.embedding.table.weight
    with torch.no_grad():
        table.fill_(1.0)
    decay = FrequencyDecay(config.emb_decay, config.emb_decay_alpha)
    decay.on_train_begin(state)
    decay.last_seen[2] = 19  # id 2 was in the previous batch; id 3 last seen 5 steps ago; id 4 never
    decay.last_seen[3] = 15
    state.step = 20
    state.batch_ids = torch.tensor([[2, 3, 4, 0, 0]])
    decay.on_step_end(state)
    rows = table.detach()[:, 0]
    lr_d = 1e-2 * 10.0
    assert rows[2].item() == pytest.approx(1 - lr_d * 0.1 * 1)  # interval 1
    assert rows[3].item() == pytest.approx(1 - lr_d * 0.1 * 5)  # interval 5
    assert rows[4].item() == pytest.approx(1 - lr_d * 1.0)  # interval 20: capped at 1
    assert (table.detach()[5:] == 1).all() and (table.detach()[:2] == 1).all()  # rows not in the batch: untouched
    assert decay.last_seen[[2, 3, 4]].tolist() == [20, 20, 20]


def test_frequency_decay_in_training_is_decoupled_and_shrinks_the_table():
    norms = _final_norms("emb_decay", (0.0, 50.0))
    assert norms[50.0] < norms[0.0]
    assert type(build_optimizer(RunConfig(emb_decay=50.0), setup()[0].model)) is torch.optim.Adam  # no optimizer change


def test_remedies_combine_with_freezing():
    config = RunConfig(**{**SMALL, "epochs": 3}, finetune="mlp", emb_optimizer="lazy", lr_decay=0.5, emb_decay=1.0)
    with one_thread():
        curves = fit(config, tiny_data(1000, 200), progress=False)
    assert curves.value.notna().all()


# -- the leaderboard (onepoch.analysis.multi_epoch) -------------------------------------------

def _curves(label, seed, values, steps_per_epoch=10):
    """A tidy test-AUC frame with one value at each epoch's end (and step 0)."""
    import pandas as pd
    rows = [dict(step=0, epoch=0.0, split="test", metric="auc", value=0.5)]
    for k, v in enumerate(values, start=1):
        rows.append(dict(step=k * steps_per_epoch - 5, epoch=k - 0.5, split="test", metric="auc", value=v - 0.001))
        rows.append(dict(step=k * steps_per_epoch, epoch=float(k), split="test", metric="auc", value=v))
    return pd.DataFrame(rows).assign(dataset="toy", remedy=label, seed=seed)


def test_leaderboard_compares_each_epoch_end_with_one_epoch_training():
    import pandas as pd

    from onepoch.analysis import multi_epoch
    frame = pd.concat([
        _curves("baseline", 0, [0.700, 0.690, 0.680]), _curves("baseline", 1, [0.702, 0.692, 0.682]),
        _curves("good", 0, [0.700, 0.720, 0.730]), _curves("good", 1, [0.702, 0.722, 0.732]),
        _curves("noisy", 0, [0.700, 0.690, 0.740]), _curves("noisy", 1, [0.702, 0.692, 0.660]),
    ], ignore_index=True)
    board = multi_epoch.leaderboard(frame).set_index("remedy")
    assert board.loc["good", "one_epoch_mean"] == pytest.approx(0.701)
    assert board.loc["good", "best_end_epoch"] == 3 and board.loc["good", "gain"] == pytest.approx(0.030)
    assert board.loc["good", "beats_one_epoch"]
    assert not board.loc["baseline", "beats_one_epoch"]  # later epochs are worse
    assert not board.loc["noisy", "beats_one_epoch"]  # mean 0.700 at epoch 3: no gain, and noisy
    assert board.loc["good", "best_mean"] == pytest.approx(0.731) and board.loc["good", "best_epoch_mean"] == 3
    table = multi_epoch.readable_leaderboard(board.reset_index())
    assert list(table.remedy)[0] == "good" and "beats one epoch" in table
    # two epoch columns whatever the number of epochs, so the table fits the page at 10 epochs
    assert "end of epoch 1" in table and "end of epoch 2" not in table
    assert table.set_index("remedy").loc["good", "best end of an epoch"].endswith("(epoch 3)")


def test_run_settings_labels_every_run_with_its_setting(tmp_path, monkeypatch):
    from onepoch.analysis import multi_epoch
    from onepoch.runs import runner
    data = tiny_data(1000, 100)
    monkeypatch.setenv("ONEPOCH_CACHE", str(tmp_path))
    monkeypatch.setattr(runner, "load_data", lambda config: data)
    monkeypatch.setattr(runner, "data_checksum", lambda config: data.checksum)
    settings = {"baseline": {}, "decay": {"lr_decay": 0.5}, "meda": {"meda": True}}
    frame = multi_epoch.run_settings(settings, RunConfig(**SMALL), ["beauty"], [0], n_jobs=1, progress=False)
    assert list(frame.remedy.cat.categories) == list(settings)
    assert set(frame.groupby("remedy", observed=True)["lr_decay"].first().items()) == {
        ("baseline", 1.0), ("decay", 0.5), ("meda", 1.0)}
    assert frame[frame.remedy == "meda"]["meda"].all() and not frame[frame.remedy == "decay"]["meda"].any()


def test_phase_table_says_where_a_later_epoch_beats_epoch_1_beyond_seed_noise(tmp_path, monkeypatch):
    import pandas as pd

    from onepoch.analysis import multi_epoch
    monkeypatch.setenv("ONEPOCH_LEDGER", str(tmp_path))
    frame = pd.concat([
        _curves("small", 0, [0.700, 0.690, 0.680]), _curves("small", 1, [0.702, 0.692, 0.682]),  # epoch 1 best
        _curves("dense", 0, [0.700, 0.720, 0.730]), _curves("dense", 1, [0.702, 0.722, 0.731]),  # +0.0295, tight
        _curves("noisy", 0, [0.700, 0.690, 0.740]), _curves("noisy", 1, [0.702, 0.692, 0.690]),  # +0.014 ± 0.035
    ], ignore_index=True).rename(columns={"remedy": "size"})
    table = multi_epoch.phase_table(frame, ["size"]).set_index("size")
    assert table.loc["dense", "later_gain_mean"] == pytest.approx(0.0295)
    assert list(table.later_beats.loc[["small", "dense", "noisy"]]) == [False, True, False]
