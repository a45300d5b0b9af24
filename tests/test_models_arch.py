"""The CTR architectures (fm, deepfm, dcnv2, din): hand computations on tiny inputs, parameter counts,
the fine-tuning split, and that each learns a small generated problem."""
import itertools

import numpy as np
import pytest
import torch

from onepoch.config import MODELS, RunConfig
from onepoch.models import ARCHITECTURES, HAS_MLP, EmbeddingMLP, FieldLayout, build_model, parameter_counts
from onepoch.models.layers import CrossLayer, fm_interaction
from onepoch.runs.runner import one_thread
from onepoch.train import Callback, fit
from onepoch.train.evaluate import predict

from helpers import FIELDS, TinyData

NEW = ("fm", "deepfm", "dcnv2", "din")
LAYOUT = FieldLayout(FIELDS, (1, 1, 1, 3, 3))
VOCAB = 40


def model(name, **changes):
    torch.manual_seed(0)
    return build_model(RunConfig(model=name, hidden=(16, 8), **changes), VOCAB, LAYOUT)


def some_ids(rows=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, VOCAB, (rows, LAYOUT.width), generator=g)
    ids[0, 3:] = 0  # an empty history
    ids[1, 4:6] = 0  # a history of one entry
    ids[1, 7:9] = 0
    return ids


def test_registry_names_are_the_configs_model_choices():
    assert tuple(ARCHITECTURES) == MODELS and set(HAS_MLP) == set(MODELS)


def test_fm_identity_equals_the_explicit_sum_over_field_pairs():
    v = torch.randn(5, 4, 3, dtype=torch.float64)
    pairs = sum((v[:, f] * v[:, g]).sum(-1) for f, g in itertools.combinations(range(4), 2))
    assert torch.allclose(fm_interaction(v), pairs)


def test_fm_logit_is_bias_plus_first_order_plus_pairwise_by_hand():
    m = model("fm")
    with torch.no_grad():
        m.bias.fill_(0.3)
    ids = some_ids()
    with torch.no_grad():
        v, w = m.embedding(ids), m.linear(ids)[..., 0]
    out = m(ids).detach()
    for r in range(len(ids)):
        pairs = sum(float(v[r, f] @ v[r, g]) for f, g in itertools.combinations(range(5), 2))
        assert float(out[r]) == pytest.approx(0.3 + float(w[r].sum()) + pairs, abs=1e-6)


def test_one_cross_layer_by_hand_full_and_low_rank():
    x0, x = torch.randn(4, 6), torch.randn(4, 6)
    full = CrossLayer(6)
    W, b = full.project.weight, full.project.bias
    assert torch.allclose(full(x0, x), x0 * (x @ W.T + b) + x)
    low = CrossLayer(6, rank=2)
    V, U = low.project[0].weight, low.project[1]
    assert torch.allclose(low(x0, x), x0 * (x @ V.T @ U.weight.T + U.bias) + x, atol=1e-6)
    assert sum(p.numel() for p in low.parameters()) == 6 * 2 + 2 * 6 + 6


def test_dcnv2_is_cross_layers_then_the_mlp():
    m = model("dcnv2")
    ids = some_ids()
    x0 = x = m.embedding(ids).flatten(1)
    for layer in m.cross:
        x = x0 * (x @ layer.project.weight.T + layer.project.bias) + x
    m.eval()
    assert torch.allclose(m(ids), m.mlp(x).squeeze(-1), atol=1e-6)


def test_din_attention_weight_by_hand():
    m = model("din")
    ids = some_ids()
    unit = m.attention[0]  # hist_item_ids against item_id
    v = m.embedding(ids)
    r = 2
    keys = m.embedding.table(ids[r, 3:6])  # three history items (all non-zero in row 2)
    q = v[r, 1]
    scores = torch.stack([unit.net(torch.cat([q, k, q - k, q * k])).squeeze() for k in keys])
    weights = torch.exp(scores) / torch.exp(scores).sum()
    pooled = m.pooled(LAYOUT.bags(ids))
    assert torch.allclose(pooled[r, 3], (weights[:, None] * keys).sum(0), atol=1e-6)
    assert torch.allclose(pooled[r, :3], v[r, :3])  # single-id fields are untouched
    assert torch.equal(pooled[0, 3], torch.zeros(8))  # an empty history gives a zero vector, as the mean does
    assert torch.allclose(pooled[1, 3], m.embedding.table(ids[1, 3]), atol=1e-6)  # one entry: weight 1


def test_din_with_equal_scores_is_the_papers_model():
    m = model("din")
    with torch.no_grad():
        for unit in m.attention:
            unit.net[-1].weight.zero_()
    dnn = EmbeddingMLP(VOCAB, LAYOUT, hidden=(16, 8))
    dnn.embedding, dnn.mlp = m.embedding, m.mlp
    m.eval(), dnn.eval()
    assert torch.allclose(m(some_ids()), dnn(some_ids()), atol=1e-6)


@pytest.mark.parametrize("name", NEW)
def test_prepared_bags_give_the_same_predictions_as_packed_ids(name):
    m, ids = model(name), some_ids(rows=20, seed=3)
    assert np.array_equal(predict(m, [LAYOUT.bags(ids)]), predict(m, ids))


def test_parameter_counts():
    d, D = 8, 5 * 8
    mlp = sum(p.numel() for p in model("dnn").mlp.parameters())
    attention = 4 * d * 80 + 80 + 80 * 40 + 40 + 40 + 1
    expected = {"fm": (VOCAB * d, VOCAB + 1), "deepfm": (VOCAB * d, VOCAB + 1 + mlp),
                "dcnv2": (VOCAB * d, 3 * (D * D + D) + mlp), "din": (VOCAB * d, 2 * attention + mlp),
                "dnn": (VOCAB * d, mlp), "lr": (VOCAB, 1)}
    for name, (emb, other) in expected.items():
        assert parameter_counts(model(name)) == {"embedding": emb, "mlp/interaction": other, "total": emb + other}, name


@pytest.mark.parametrize("name", MODELS)
def test_the_two_groups_split_every_parameter_once(name):
    m = model(name)
    emb, other = {id(p) for p in m.embedding_parameters()}, {id(p) for p in m.mlp_parameters()}
    assert emb and other and not emb & other and emb | other == {id(p) for p in m.parameters()}
    assert emb == {id(m.embedding.table.weight)}


def learnable(n, seed, users=300, items=150, hist=5):
    """Clicks from a hidden score: user and item biases plus a 2-d user x item affinity."""
    g = torch.Generator().manual_seed(42)  # the hidden world is the same for train and test
    bu, bi = torch.randn(users, generator=g), torch.randn(items, generator=g)
    pu, qi = torch.randn(users, 2, generator=g), torch.randn(items, 2, generator=g)
    g = torch.Generator().manual_seed(seed)
    u, i = torch.randint(0, users, (n,), generator=g), torch.randint(0, items, (n,), generator=g)
    logit = 1.5 * (bu[u] + bi[i] + (pu[u] * qi[i]).sum(1))
    label = (torch.rand(n, generator=g) < torch.sigmoid(logit)).float()
    h = torch.randint(0, items, (n, hist), generator=g)
    h[torch.arange(hist)[None] >= torch.randint(1, hist + 1, (n, 1), generator=g)] = -1
    item_base, cat_base = 1 + users, 1 + users + items
    return dict(user_id=u + 1, item_id=i + item_base, cat_id=i % 10 + cat_base,
                hist_item_ids=torch.where(h >= 0, h + item_base, 0), hist_cat_ids=torch.where(h >= 0, h % 10 + cat_base, 0),
                label=label, user_raw=u)


@pytest.mark.parametrize("name", MODELS)
def test_each_architecture_learns_a_small_generated_problem(name):
    data = TinyData(train=learnable(6000, 0), test=learnable(2000, 1), vocab_size=1 + 300 + 150 + 10)
    config = RunConfig(model=name, epochs=3, batch_size=64, eval_every=40, hidden=(32, 16), lr=1e-2,
                       train_eval_size=500)
    with one_thread():
        curves = fit(config, data, progress=False)
    test = curves[(curves.split == "test") & (curves.metric == "auc")]
    need = 0.6 if name == "lr" else 0.65  # logistic regression sees only the biases' part of the signal
    assert test.value.iloc[0] < 0.58 and test.value.iloc[-1] > need, test.value.tolist()


class Snapshot(Callback):
    """Copies of both parameter groups at the start of epoch 2 and at the end of training."""

    def on_epoch_begin(self, state):
        if state.epoch_index == 1:
            self.before = self.copy(state.model)

    def on_train_end(self, state):
        self.after = self.copy(state.model)

    @staticmethod
    def copy(m):
        return {g: [p.detach().clone() for p in getattr(m, f"{g}_parameters")()] for g in ("embedding", "mlp")}


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("part, frozen", [("embedding", "mlp"), ("mlp", "embedding")])
def test_finetuning_one_part_after_epoch_1_leaves_the_other_unchanged(name, part, frozen):
    data = TinyData(train=learnable(1000, 0), test=learnable(300, 1), vocab_size=1 + 300 + 150 + 10)
    config = RunConfig(model=name, epochs=2, batch_size=64, eval_every=10, hidden=(16, 8), finetune=part,
                       train_eval_size=200)
    snap = Snapshot()
    with one_thread():
        fit(config, data, callbacks=[snap], progress=False)
    same = lambda a, b: all(torch.equal(x, y) for x, y in zip(a, b))
    assert same(snap.before[frozen], snap.after[frozen])
    assert not same(snap.before[part], snap.after[part])


def test_attention_spread_probe_is_zero_for_mean_pooling_and_leaves_the_curves_alone():
    from onepoch.probes.attention import AttentionSpreadProbe

    data = TinyData(train=learnable(1000, 0), test=learnable(300, 1), vocab_size=1 + 300 + 150 + 10)
    config = RunConfig(model="din", epochs=1, batch_size=64, eval_every=5, hidden=(16, 8), train_eval_size=200)
    with one_thread():
        plain = fit(config, data, progress=False)
        probed = fit(config, data, callbacks=[AttentionSpreadProbe(rows=200)], progress=False)
    spread = probed[probed.metric.str.startswith("attention_spread")]
    assert set(spread.metric) == {"attention_spread:hist_item_ids", "attention_spread:hist_cat_ids"}
    assert (spread.value > 0).all()
    assert probed[~probed.metric.str.startswith("attention_spread")].reset_index(drop=True).equals(plain)

    class Uniform(AttentionSpreadProbe):
        def on_evaluate(self, state):
            with torch.no_grad():
                for unit in state.model.attention:
                    unit.net[-1].weight.zero_()
            super().on_evaluate(state)

    with one_thread():
        uniform = fit(config.replace(epochs=1), data, callbacks=[Uniform(rows=200)], progress=False)
    assert uniform[uniform.metric.str.startswith("attention_spread")].value.max() < 1e-6
