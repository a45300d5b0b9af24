"""Speed-ups (small evaluation chunks, pooling input prepared once, the lean Adam step) must not
change a single result compared with the plain path: cached results stay valid only if the bits
are the same."""
import numpy as np
import pytest
import torch

from onepoch.config import RunConfig
from onepoch.models import FieldLayout, build_model
from onepoch.train import evaluate
from onepoch.train.evaluate import EvalSet, predict

from helpers import tiny_data


def _model_and_ids(model_name):
    data = tiny_data(500, 4200)
    cfg = RunConfig(model=model_name)  # the paper's shapes: 200-80-1
    layout = FieldLayout.of(data.train, cfg.fields)
    torch.manual_seed(0)
    model = build_model(cfg, data.vocab_size, layout)
    with torch.no_grad():  # non-trivial running statistics and embeddings
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.normal_()
                m.running_var.uniform_(0.5, 2.0)
        model.embedding.table.weight.normal_()
    return model, layout, layout.pack(data.test), data.test


@pytest.mark.parametrize("model_name", ["dnn", "lr"])
def test_prepared_chunks_give_the_bits_of_segment_sized_chunks(monkeypatch, model_name):
    # scaled down: segments of 2048 rows (32768 in the package), pieces of 256 (1024)
    monkeypatch.setattr(evaluate, "SEGMENT", 2048)
    monkeypatch.setattr(evaluate, "EVAL_CHUNK", 256)
    model, layout, ids, test = _model_and_ids(model_name)
    for n in (3, 257, 2051, 2048 + 259, 4096 + 3):
        es = EvalSet("test", ids[:n], test["label"][:n], test["user_raw"][:n], layout)
        old = predict(model, [es.ids[i : i + 2048] for i in range(0, n, 2048)])  # how earlier versions cut
        assert np.array_equal(predict(model, es.inputs()), old), n
        assert np.array_equal(predict(model, es.ids), old), n


def test_pieces_cover_every_row_once_and_no_sliver_is_left():
    ids = torch.arange(70_001).view(-1, 1)
    parts = evaluate._chunks(ids, 1024)
    assert torch.equal(torch.cat(parts), ids)
    assert min(len(p) for p in parts) >= 1024
    assert all(len(p) < 2048 for p in parts)


def test_scores_with_and_without_layout_agree():
    model, layout, ids, test = _model_and_ids("dnn")
    plain = EvalSet("test", ids, test["label"], test["user_raw"])
    fast = EvalSet("test", ids, test["label"], test["user_raw"], layout)
    assert plain.scores(model) == fast.scores(model)
    assert model.training  # predict restores the mode


def test_large_tables_on_the_heap_change_no_result(monkeypatch):
    """`large_blocks_on_heap` only moves where glibc puts blocks: the curves are the same bits."""
    from onepoch.train import trainer

    data = tiny_data(1500, 300)
    cfg = RunConfig(epochs=1, batch_size=64, eval_every=10, hidden=(16, 8), train_eval_size=300)
    plain = trainer.fit(cfg, data, progress=False)
    monkeypatch.setattr(trainer, "MMAP_LIMIT", 0)  # every table counts as large
    on_heap = trainer.fit(cfg, data, progress=False)
    assert plain.equals(on_heap)
    with trainer.large_blocks_on_heap(2**40):  # nested use and exceptions restore the defaults
        with pytest.raises(ValueError):
            with trainer.large_blocks_on_heap(2**40):
                raise ValueError


def test_lean_adam_step_is_torch_fused_adam_to_the_bit():
    from onepoch.train.optim import make_optimizer

    torch.manual_seed(0)
    layout = FieldLayout(("user_id", "hist_item_ids"), (1, 6))
    a = build_model(RunConfig(hidden=(16, 8)), 500, layout)
    b = build_model(RunConfig(hidden=(16, 8)), 500, layout)
    b.load_state_dict(a.state_dict())

    def groups(m):  # two groups with their own weight decay, as schemes and remedies build them
        return [{"params": list(m.embedding.parameters()), "weight_decay": 1e-4}, {"params": list(m.mlp.parameters())}]

    ref = torch.optim.Adam(groups(a), lr=1e-3, fused=True)
    fast = make_optimizer("adam", groups(b), lr=1e-3)
    assert type(fast) is torch.optim.Adam and fast.step.__func__.__name__ == "lean_adam_step"
    for step in range(30):
        ids = torch.randint(0, 500, (32, 7))
        if step == 10:  # a parameter without gradient is skipped by both
            a.mlp[0].bias.requires_grad_(False)
            b.mlp[0].bias.requires_grad_(False)
        if step == 20:  # a changed learning rate is read at every step
            for opt in (ref, fast):
                opt.param_groups[1]["lr"] = 3e-3
        for m, opt in ((a, ref), (b, fast)):
            opt.zero_grad(set_to_none=True)
            m(ids).square().mean().backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    for sa, sb in zip(ref.state.values(), fast.state.values()):
        assert all(torch.equal(sa[k], sb[k]) for k in ("step", "exp_avg", "exp_avg_sq"))
