"""The paper's base model: Embedding & MLP (Fig. 1, Sec. 6.2).

Pooled field vectors are concatenated and fed to fully connected layers
(default 200 -> 80 -> 1) with Dice activations and a sigmoid output (the
sigmoid lives in the loss: the model returns logits). Weights start as
randn / sqrt(fan_in) and biases at 0.1, as in the original code. Dropout,
when on, is applied before each fully connected layer, and is off at
evaluation (the original code left it on).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from onepoch.models.dice import Dice
from onepoch.models.fields import FieldEmbedding, FieldLayout


def make_activation(name: str, units: int) -> nn.Module:
    if name == "dice":
        return Dice(units)
    if name == "prelu":
        return nn.PReLU(units, init=0.25)
    if name == "relu":
        return nn.ReLU()
    if name == "sigmoid":
        return nn.Sigmoid()
    raise ValueError(f"unknown activation {name!r}; choose one of: dice, prelu, relu, sigmoid")


def init_linear(layer: nn.Linear, generator=None) -> None:
    with torch.no_grad():
        layer.weight.normal_(0.0, 1.0 / math.sqrt(layer.in_features), generator=generator)
        layer.bias.fill_(0.1)


class EmbeddingMLP(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        layout: FieldLayout,
        emb_dim: int = 8,
        hidden: tuple[int, ...] = (200, 80),
        activation: str = "dice",
        dropout: float = 0.0,
        emb_init: str = "glorot",
        emb_init_std: float = 0.01,
    ):
        super().__init__()
        self.embedding = FieldEmbedding(vocab_size, emb_dim, layout, emb_init, emb_init_std)
        layers: list[nn.Module] = []
        width = len(layout.names) * emb_dim
        for units in hidden:
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            linear = nn.Linear(width, units)
            init_linear(linear)
            layers += [linear, make_activation(activation, units)]
            width = units
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        out = nn.Linear(width, 1)
        init_linear(out)
        layers.append(out)
        self.mlp = nn.Sequential(*layers)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embedding(ids).flatten(1)
        return self.mlp(x).squeeze(-1)

    def embedding_parameters(self):
        return list(self.embedding.parameters())

    def mlp_parameters(self):
        return list(self.mlp.parameters())
