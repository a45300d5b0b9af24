"""DCN-v2 (Wang et al., WWW 2021), stacked: the concatenated pooled fields x0
go through `layers` cross layers x_{l+1} = x0 * (W_l x_l + b_l) + x_l (full
rank by default), then through the paper's MLP to one logit.

Fine-tuning groups: the embedding table, and the rest (cross layers and MLP).
"""
from __future__ import annotations

import torch
from torch import nn

from onepoch.models.fields import FieldLayout
from onepoch.models.layers import CrossLayer, EmbeddingSplit, paper_parts, paper_settings

CROSS_LAYERS = 3  # DCN-v2's experiments use 2-4; its stacked model is shown with 3


class DCNv2(EmbeddingSplit, nn.Module):
    def __init__(self, vocab_size: int, layout: FieldLayout, cross_layers: int = CROSS_LAYERS,
                 rank: int | None = None, **settings):
        super().__init__()
        self.embedding, self.mlp = paper_parts(vocab_size, layout, **settings)
        width = len(layout.names) * self.embedding.dim
        self.cross = nn.ModuleList(CrossLayer(width, rank) for _ in range(cross_layers))

    def forward(self, ids) -> torch.Tensor:
        x0 = x = self.embedding(ids).flatten(1)
        for layer in self.cross:
            x = layer(x0, x)
        return self.mlp(x).squeeze(-1)


def build(config, vocab_size: int, layout: FieldLayout) -> DCNv2:
    return DCNv2(vocab_size, layout, **paper_settings(config))
