"""Factorization machine (Rendle 2010) on the paper's fields: no MLP.

logit = b + sum_f w_f + sum_{f<g} <v_f, v_g>, where v_f is field f's pooled
vector in the shared embedding table (history fields mean-pooled, like the
paper's model) and w_f its pooled first-order weight (a dimension-1 table,
as logistic regression has). The pairwise interactions are the embeddings'
inner products: the model has no weights that are not per-ID.

Fine-tuning groups: the embedding table v, and the rest -- the first-order
weights w and the bias b (FM's only non-embedding parameters, so "only the
MLP" means "only the linear part" here).
"""
from __future__ import annotations

import torch
from torch import nn

from onepoch.models.fields import FieldEmbedding, FieldLayout
from onepoch.models.layers import EmbeddingSplit, first_order, fm_interaction


class FactorizationMachine(EmbeddingSplit, nn.Module):
    def __init__(self, vocab_size: int, layout: FieldLayout, emb_dim: int = 8, emb_init: str = "glorot",
                 emb_init_std: float = 0.01):
        super().__init__()
        self.embedding = FieldEmbedding(vocab_size, emb_dim, layout, emb_init, emb_init_std)
        self.linear = first_order(vocab_size, layout, emb_init, emb_init_std)
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, ids) -> torch.Tensor:
        bags = ids if not isinstance(ids, torch.Tensor) else self.embedding.layout.bags(ids)  # pool-ready once
        return self.bias + self.linear(bags).sum(dim=(1, 2)) + fm_interaction(self.embedding(bags))


def build(config, vocab_size: int, layout: FieldLayout) -> FactorizationMachine:
    return FactorizationMachine(vocab_size, layout, config.emb_dim, config.emb_init, config.emb_init_std)
