"""Catch-up Adam (onepoch.train.catchup_adam) follows torch's dense Adam to float tolerance."""
import math

import pytest
import torch
import torch.nn.functional as F

from onepoch.config import ConfigError, RunConfig
from onepoch.runs.runner import one_thread
from onepoch.train import fit
from onepoch.train.catchup_adam import CatchupAdam, ratio_bound, terms_needed
from onepoch.train.optim import Optimizers, build_optimizer

from helpers import tiny_data

RTOL, ATOL = 1e-5, 1e-6  # parameters after sync vs torch.optim.Adam (float32 both; summed vs step-by-step moves)
ROWS, DIM = 400, 8


def batches(steps: int, seed: int = 2):
    """Ids of each step: 16 from 20 frequent rows, 2 from 380 rare ones (gaps of hundreds of steps)."""
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        yield torch.cat([torch.randint(1, 21, (16,), generator=g), torch.randint(21, ROWS, (2,), generator=g)])


def train(kind: str, steps: int = 200, sparse: bool = False, lr: float = 1e-2, check_every: int = 50,
          lr_change_at: int = -1):
    """An embedding + linear model on a fixed task; parameters after sync every `check_every` steps."""
    torch.manual_seed(0)
    emb = torch.nn.Embedding(ROWS, DIM, sparse=sparse)
    lin = torch.nn.Linear(DIM, 1)
    if kind == "dense":
        opt = torch.optim.Adam([*emb.parameters(), *lin.parameters()], lr=lr)
    else:
        catchup = CatchupAdam(emb.parameters(), lr=lr)
        catchup.watch(emb, emb.weight)
        opt = Optimizers(catchup, torch.optim.Adam(lin.parameters(), lr=lr))
    seen = []
    for step, ids in enumerate(batches(steps), start=1):
        loss = F.binary_cross_entropy_with_logits(lin(emb(ids)).squeeze(-1), (ids % 3 == 0).float())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step == lr_change_at:
            for group in opt.param_groups:
                group["lr"] = lr / 3
        if step % check_every == 0:
            if kind != "dense":
                opt.sync()
            seen.append((emb.weight.detach().clone(), lin.weight.detach().clone()))
    return seen


@pytest.fixture(autouse=True)
def _one_thread():
    one_thread()


@pytest.mark.parametrize("sparse", [False, True])
def test_parameters_match_dense_adam_after_every_sync(sparse):
    dense, catchup = train("dense"), train("catchup", sparse=sparse)
    assert len(dense) == 4
    for (e_d, l_d), (e_c, l_c) in zip(dense, catchup):
        torch.testing.assert_close(e_c, e_d, rtol=RTOL, atol=ATOL)
        torch.testing.assert_close(l_c, l_d, rtol=RTOL, atol=ATOL)


def test_parameters_match_dense_adam_over_a_longer_run_where_the_series_replays():
    """After the first ~150 steps the replay sums go through the power series, not term by term."""
    dense, catchup = train("dense", steps=800, check_every=400), train("catchup", steps=800, check_every=400)
    for (e_d, l_d), (e_c, l_c) in zip(dense, catchup):
        torch.testing.assert_close(e_c, e_d, rtol=RTOL, atol=ATOL)
        torch.testing.assert_close(l_c, l_d, rtol=RTOL, atol=ATOL)


def test_rare_rows_moved_by_their_skipped_steps_as_in_dense_adam():
    """The check has teeth: without the replay the rare rows would be far off."""
    dense = train("dense")[-1][0]
    torch.manual_seed(0)
    start = torch.nn.Embedding(ROWS, DIM).weight.detach()
    touched = torch.zeros(ROWS, dtype=torch.bool)
    for ids in batches(200):
        touched[ids] = True
    rare = touched.clone()
    rare[:21] = False
    assert (dense[rare] - start[rare]).abs().max() > 100 * ATOL  # they did move between their batches
    torch.testing.assert_close(train("catchup")[-1][0][rare], dense[rare], rtol=RTOL, atol=ATOL)


def test_a_learning_rate_change_between_steps_is_replayed_at_the_old_rate():
    dense, catchup = train("dense", lr_change_at=70), train("catchup", lr_change_at=70)
    for (e_d, _), (e_c, _) in zip(dense, catchup):
        torch.testing.assert_close(e_c, e_d, rtol=RTOL, atol=ATOL)


def replay_sum(m0, s0, t0, k, beta1=0.9, beta2=0.999, eps=1e-8):
    """The exact sum of the k skipped moves (float64), term by term."""
    j = torch.arange(1, k + 1, dtype=torch.float64)
    tau = t0 + j
    a = beta1 ** j / (1 - beta1 ** tau)
    b = beta2 ** (j / 2) / torch.sqrt(1 - beta2 ** tau)
    return float((a * m0 / (b * s0 + eps)).sum())


@pytest.mark.parametrize("t0", [1, 30, 2_000, 50_000])
@pytest.mark.parametrize("s0", [1e-10, 1e-8, 1e-4])
def test_the_cut_replay_sum_is_within_its_stated_bound(t0, s0):
    rel_tol = 1e-6
    terms = terms_needed(0.9, 0.999, rel_tol)
    full, cut = replay_sum(1.0, s0, t0, 5_000), replay_sum(1.0, s0, t0, terms)
    assert 0 < full - cut <= rel_tol * full
    assert full - replay_sum(1.0, s0, t0, terms // 2) > rel_tol * full  # fewer terms would not do
    assert ratio_bound(0.9, 0.999) >= 0.9 / math.sqrt(0.999)


@pytest.mark.parametrize("t0", [2, 40, 300, 5_000, 60_000])
@pytest.mark.parametrize("gap", [1, 7, 50, 174, 175, 3_000])
def test_the_replay_sum_series_or_term_by_term_is_the_exact_sum(t0, gap):
    opt = CatchupAdam([torch.nn.Parameter(torch.zeros(3, 4))])
    root_v0 = torch.tensor([[0.0, 1e-12, 1e-10, 3e-9], [1e-8, 3e-8, 1e-7, 1e-6], [1e-5, 1e-4, 1e-3, 1.0]])
    last, gaps = torch.full((3,), t0), torch.full((3,), gap)
    got = opt._replay((0.9, 0.999), 1e-8, last, gaps, t0 + gap, root_v0).double()
    terms = terms_needed(0.9, 0.999, 1e-6)
    want = torch.tensor([[replay_sum(1.0, float(s), t0, min(gap, terms)) for s in row] for row in root_v0],
                        dtype=torch.float64)
    torch.testing.assert_close(got, want, rtol=2e-6, atol=0.0)


def test_settings_it_cannot_replay_are_one_clear_error():
    table = [torch.nn.Parameter(torch.zeros(5, 2))]
    with pytest.raises(ConfigError, match="weight_decay"):
        CatchupAdam(table, weight_decay=1e-4)
    with pytest.raises(ConfigError, match="beta1 < sqrt"):
        CatchupAdam(table, betas=(0.99, 0.9))
    with pytest.raises(ConfigError, match="2-D float32"):
        CatchupAdam([torch.nn.Parameter(torch.zeros(5))])
    for bad in (dict(weight_decay=1e-4), dict(emb_l2=1e-4), dict(optimizer="rmsprop"), dict(reset_optimizer=True)):
        with pytest.raises(ConfigError, match="emb_optimizer='catchup'"):
            RunConfig(emb_optimizer="catchup", **bad)


SMALL = dict(epochs=2, batch_size=64, eval_every=20, hidden=(16, 8), train_eval_size=500)


@pytest.mark.parametrize("changes", [{}, {"lr_decay": 0.5}, {"finetune": "embedding"}, {"finetune": "mlp"},
                                     {"meda": True, "emb_decay": 0.5},
                                     *({"model": m, "epochs": 1} for m in ("lr", "fm", "deepfm", "dcnv2", "din"))])
def test_a_run_gives_the_dense_runs_curves(changes):
    data = tiny_data(3000, 800)
    settings = {**SMALL, **changes}
    dense = fit(RunConfig(**settings), data, progress=False)
    catchup = fit(RunConfig(**settings, emb_optimizer="catchup"), data, progress=False)
    assert dense[["step", "split", "metric"]].equals(catchup[["step", "split", "metric"]])
    auc = dense.metric == "auc"
    assert (dense.value[auc] - catchup.value[auc]).abs().max() <= 1e-4
    assert (dense.value - catchup.value).abs().max() <= 1e-4  # logloss and gauc too


def test_the_table_gets_a_sparse_gradient_and_one_hook():
    config = RunConfig(**SMALL, emb_optimizer="catchup")
    data = tiny_data(300, 100)
    from onepoch.models import FieldLayout, build_model

    model = build_model(config, data.vocab_size, FieldLayout.of(data.train, config.fields))
    first = build_optimizer(config, model)
    build_optimizer(config, model)  # rebuilt (fine-tuning): the first optimizer's hook is gone
    assert model.embedding.table.sparse and len(model.embedding._forward_pre_hooks) == 1
    assert isinstance(first.optimizers[0], CatchupAdam)
