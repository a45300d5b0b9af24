import torch

from onepoch.config import RunConfig
from onepoch.models import Dice, EmbeddingMLP, FieldLayout, LogisticRegression, build_model
from onepoch.models.fields import FieldEmbedding

from helpers import tiny_data


def test_dice_eval_uses_running_statistics_not_the_batch():
    torch.manual_seed(0)
    dice = Dice(4)
    for _ in range(800):  # running stats converge to the training distribution N(3, 2^2)
        dice(torch.randn(256, 4) * 2 + 3)
    dice.eval()
    x = torch.randn(64, 4) * 2 + 3
    alone = dice(x[:1])
    in_batch = dice(x)[:1]
    # in eval mode a sample's output does not depend on the other samples
    assert torch.allclose(alone, in_batch)
    p = torch.sigmoid((x[:1] - dice.norm.running_mean) / torch.sqrt(dice.norm.running_var + 1e-4))
    assert torch.allclose(alone, x[:1] * (p + dice.alpha * (1 - p)), atol=1e-6)
    assert torch.allclose(dice.norm.running_mean, torch.full((4,), 3.0), atol=0.2)


def test_dice_alpha_starts_at_minus_quarter():
    assert torch.all(Dice(3).alpha == -0.25)


def test_masked_mean_pooling_ignores_padding_even_if_padding_row_is_not_zero():
    layout = FieldLayout(("user_id", "hist_item_ids"), (1, 4))
    emb = FieldEmbedding(10, 3, layout)
    with torch.no_grad():
        emb.table.weight.copy_(torch.arange(30, dtype=torch.float32).view(10, 3))
    ids = torch.tensor([[5, 2, 3, 0, 0], [6, 0, 0, 0, 0], [7, 4, 4, 4, 9]])
    out = emb(ids)
    w = emb.table.weight
    assert torch.allclose(out[0, 0], w[5])
    assert torch.allclose(out[0, 1], (w[2] + w[3]) / 2)  # row 0 (non-zero here) is skipped
    assert torch.allclose(out[1, 1], torch.zeros(3))  # empty history -> zero vector
    assert torch.allclose(out[2, 1], (3 * w[4] + w[9]) / 4)


def test_pooling_is_the_same_for_a_row_alone_and_in_a_batch_with_longer_histories():
    layout = FieldLayout(("hist_item_ids",), (6,))
    emb = FieldEmbedding(20, 4, layout)
    ids = torch.tensor([[3, 4, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6]])
    assert torch.allclose(emb(ids)[:1], emb(ids[:1]))


def test_embedding_mlp_shapes_and_initialisation():
    layout = FieldLayout(("user_id", "item_id", "hist_item_ids"), (1, 1, 5))
    model = EmbeddingMLP(1000, layout, emb_dim=8, hidden=(200, 80))
    linears = [m for m in model.mlp if isinstance(m, torch.nn.Linear)]
    assert [l.in_features for l in linears] == [24, 200, 80]
    assert all(torch.all(l.bias == 0.1) for l in linears)
    assert abs(linears[1].weight.std().item() - 1 / 200**0.5) < 0.01
    limit = (6 / (1000 + 8)) ** 0.5
    assert model.embedding.table.weight.abs().max() <= limit
    assert model(torch.randint(0, 1000, (7, 7))).shape == (7,)


def test_dropout_is_off_at_evaluation():
    layout = FieldLayout(("user_id",), (1,))
    model = EmbeddingMLP(50, layout, dropout=0.5, activation="relu")
    ids = torch.randint(0, 50, (32, 1))
    model.eval()
    assert torch.equal(model(ids), model(ids))


def test_logistic_regression_is_a_sum_of_id_weights():
    layout = FieldLayout(("user_id", "hist_item_ids"), (1, 2))
    lr = LogisticRegression(10, layout)
    with torch.no_grad():
        lr.embedding.table.weight.copy_(torch.arange(10, dtype=torch.float32).view(10, 1))
        lr.bias.fill_(0.5)
    assert torch.allclose(lr(torch.tensor([[3, 4, 6]])), torch.tensor([3 + 5 + 0.5]))


def test_build_model_follows_the_config():
    data = tiny_data(100, 10)
    layout = FieldLayout.of(data.train, RunConfig().fields)
    assert isinstance(build_model(RunConfig(model="lr"), data.vocab_size, layout), LogisticRegression)
    m = build_model(RunConfig(activation="prelu", hidden=(16, 8, 4)), data.vocab_size, layout)
    assert sum(isinstance(x, torch.nn.PReLU) for x in m.mlp) == 3


def test_hidden_biases_start_at_zero_without_dice_and_at_point_one_with_it():
    import torch
    from onepoch.models.embedding_mlp import EmbeddingMLP
    from onepoch.models.fields import FieldLayout

    layout = FieldLayout(("user_id", "item_id"), (1, 1))
    for act, hidden in (("relu", 0.0), ("prelu", 0.0), ("sigmoid", 0.1), ("dice", 0.1)):
        model = EmbeddingMLP(50, layout, emb_dim=4, hidden=(6, 3), activation=act)
        linears = [m for m in model.mlp if isinstance(m, torch.nn.Linear)]
        assert all(torch.all(m.bias == hidden) for m in linears[:-1]), act
        assert torch.allclose(linears[-1].bias, torch.tensor(0.1))  # the output bias is the original code's
