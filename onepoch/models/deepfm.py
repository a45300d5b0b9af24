"""DeepFM (Guo et al. 2017): a factorization machine and the paper's MLP in
parallel on one shared embedding table; the logit is their sum.

logit = b + sum_f w_f + sum_{f<g} <v_f, v_g> + MLP(concat_f v_f)

The MLP is the paper's (layers, activation, initialisation: `paper_parts`).
Fine-tuning groups: the embedding table, and the rest (MLP, first-order
weights, bias).
"""
from __future__ import annotations

import torch
from torch import nn

from onepoch.models.fields import FieldLayout
from onepoch.models.layers import EmbeddingSplit, first_order, fm_interaction, paper_parts, paper_settings


class DeepFM(EmbeddingSplit, nn.Module):
    def __init__(self, vocab_size: int, layout: FieldLayout, **settings):
        super().__init__()
        self.embedding, self.mlp = paper_parts(vocab_size, layout, **settings)
        self.linear = first_order(vocab_size, layout, settings.get("emb_init", "glorot"),
                                  settings.get("emb_init_std", 0.01))
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, ids) -> torch.Tensor:
        bags = ids if not isinstance(ids, torch.Tensor) else self.embedding.layout.bags(ids)
        v = self.embedding(bags)
        deep = self.mlp(v.flatten(1)).squeeze(-1)
        return self.bias + self.linear(bags).sum(dim=(1, 2)) + fm_interaction(v) + deep


def build(config, vocab_size: int, layout: FieldLayout) -> DeepFM:
    return DeepFM(vocab_size, layout, **paper_settings(config))
