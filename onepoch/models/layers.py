"""Layers the CTR architectures share, each defined once.

- `paper_parts`: the shared embedding table and the paper's MLP tower, taken
  from an `EmbeddingMLP` built with the run's settings -- so every model that
  has an MLP gets exactly the paper's layers and initialisation, and any
  change to them (e.g. an init fix in embedding_mlp.py) reaches all of them.
- `fm_interaction`: the factorization machine's pairwise term.
- `CrossLayer`: one DCN-v2 cross layer.
- `AttentionUnit`: DIN's activation unit scoring a history entry against the target.
- `EmbeddingSplit`: the two parameter groups fine-tuning trains separately.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from onepoch.models.embedding_mlp import EmbeddingMLP, init_linear, make_activation
from onepoch.models.fields import FieldEmbedding, FieldLayout


def paper_settings(config) -> dict:
    """The EmbeddingMLP arguments a RunConfig sets."""
    return dict(emb_dim=config.emb_dim, hidden=config.hidden, activation=config.activation, dropout=config.dropout,
                emb_init=config.emb_init, emb_init_std=config.emb_init_std)


def paper_parts(vocab_size: int, layout: FieldLayout, **settings) -> tuple[FieldEmbedding, nn.Sequential]:
    """(embedding, mlp) of the paper's model: pooled fields (B, F, d) -> flatten -> MLP -> one logit."""
    base = EmbeddingMLP(vocab_size, layout, **settings)
    return base.embedding, base.mlp


def first_order(vocab_size: int, layout: FieldLayout, emb_init: str = "glorot", emb_init_std: float = 0.01):
    """One weight per ID (a dimension-1 table, pooled like the embeddings), as logistic regression has."""
    return FieldEmbedding(vocab_size, 1, layout, emb_init, emb_init_std)


def fm_interaction(v: torch.Tensor) -> torch.Tensor:
    """sum over field pairs f < g of <v_f, v_g>, for v of shape (B, F, d), in O(F d):
    ((sum_f v_f)^2 - sum_f v_f^2) / 2, summed over the d dimensions (Rendle 2010, Lemma 3.1)."""
    total = v.sum(dim=1)
    return 0.5 * (total.pow(2) - v.pow(2).sum(dim=1)).sum(dim=-1)


class CrossLayer(nn.Module):
    """x_{l+1} = x0 * (W x_l + b) + x_l (DCN-v2, Wang et al. 2021, Eq. 1). W is full rank (D x D),
    or U V^T with `rank` < D (the paper's low-rank variant). W starts as randn / sqrt(D), b at 0, so
    with the near-zero initial embeddings the layer starts close to the identity."""

    def __init__(self, width: int, rank: int | None = None):
        super().__init__()
        if rank is None or rank >= width:
            self.project = nn.Linear(width, width)
        else:
            self.project = nn.Sequential(nn.Linear(width, rank, bias=False), nn.Linear(rank, width))
        with torch.no_grad():
            for layer in self.modules():
                if isinstance(layer, nn.Linear):
                    layer.weight.normal_(0.0, 1.0 / math.sqrt(layer.in_features))
                    if layer.bias is not None:
                        layer.bias.zero_()

    def forward(self, x0: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return x0 * self.project(x) + x


class AttentionUnit(nn.Module):
    """DIN's activation unit: a small MLP on [q, k, q - k, q * k] -> one score per history entry.
    Layers 80 -> 40 -> 1 with sigmoid activations, as in the DIN implementation of DIEN's code
    (`din_attention`); weights initialised like the paper's MLP (randn / sqrt(fan_in), bias 0.1)."""

    def __init__(self, dim: int, hidden: tuple[int, ...] = (80, 40), activation: str = "sigmoid"):
        super().__init__()
        layers: list[nn.Module] = []
        width = 4 * dim
        for units in hidden:
            linear = nn.Linear(width, units)
            init_linear(linear)
            layers += [linear, make_activation(activation, units)]
            width = units
        out = nn.Linear(width, 1)
        init_linear(out)
        self.net = nn.Sequential(*layers, out)

    def forward(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """query, keys: (n, d), row i of keys scored against row i of query -> (n,)."""
        return self.net(torch.cat([query, keys, query - keys, query * keys], dim=-1)).squeeze(-1)


def segment_softmax(scores: torch.Tensor, segment: torch.Tensor, segments: int) -> torch.Tensor:
    """Softmax of `scores` within each segment (entries with the same `segment` id)."""
    top = torch.full((segments,), -math.inf, dtype=scores.dtype)
    top = top.scatter_reduce(0, segment, scores.detach(), reduce="amax")  # shift only: softmax is shift-free
    e = torch.exp(scores - top[segment])
    total = torch.zeros(segments, dtype=scores.dtype).index_add(0, segment, e)
    return e / total[segment]


class EmbeddingSplit:
    """The parameter groups of fine-tuning (onepoch.train.schemes): the shared embedding table, and
    everything else (MLP, cross layers, attention unit, first-order weights, biases)."""

    embedding: FieldEmbedding

    def embedding_parameters(self):
        return list(self.embedding.parameters())

    def mlp_parameters(self):
        table = {id(p) for p in self.embedding.parameters()}
        return [p for p in self.parameters() if id(p) not in table]


def parameter_counts(model: nn.Module) -> dict[str, int]:
    """Parameters in the embedding group, in the other group, and in all."""
    emb = sum(p.numel() for p in model.embedding_parameters())
    other = sum(p.numel() for p in model.mlp_parameters())
    return {"embedding": emb, "mlp/interaction": other, "total": emb + other}
