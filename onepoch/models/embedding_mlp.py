"""The paper's base model: Embedding & MLP (Fig. 1, Sec. 6.2).

Pooled field vectors are concatenated and fed to fully connected layers
(default 200 -> 80 -> 1) with Dice activations and a sigmoid output (the
sigmoid lives in the loss: the model returns logits). Weights start as
randn / sqrt(fan_in) and biases at 0.1, as in the original code, except the
hidden biases of ReLU and PReLU layers, which start at 0 (see below). Dropout,
when on, is applied before each fully connected layer, and is off at
evaluation (the original code left it on).

Why hidden biases start at 0 without Dice. The embeddings start tiny (TF1's
glorot over a vocabulary of ~1e5 rows: |e| ~ 0.005), so the first layer's
pre-activations are 0.1 + W e with |W e| ~ 0.01: with the original code's
bias 0.1, EVERY ReLU / PReLU unit starts on its linear side, and the whole
network is a linear function of the embeddings -- a factorised logistic
regression -- until training pushes units across zero. Dice does not care:
its gate sigmoid(batchnorm(x)) normalises the pre-activation, so half its
units gate off from the first step. Measured on Sports (paper construction,
emb 8, 200-80-1, Adam 1e-3, batch 128, seed 0, test AUC at the end of epoch
1): ReLU 0.599 with hidden biases 0.1, 0.752 with 0 (all biases 0: 0.755;
xavier-normal kernels with zero biases, FuxiCTR's init: 0.756; embeddings
N(0, 1e-4^2), FuxiCTR's, with biases 0.1: 0.596); PReLU 0.598 -> 0.752 (all
biases 0); against Dice 0.743 and FuxiCTR's ReLU DNN 0.741. The paper reports ReLU on a par with Dice (Fig.
7b), so bias 0 is what reproduces the paper's model; Dice keeps the original
code's 0.1 (its results are unchanged). Sigmoid keeps 0.1 too: around 0 it
is nearly linear whatever the bias, and bias 0 left it where it was (0.597;
FuxiCTR's sigmoid DNN on the same samples: 0.600).
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


# Hidden-layer bias at the start, per activation (see the module docstring): the original code's 0.1
# where a normalisation follows (Dice) or it changes nothing (sigmoid), 0 where it would put every
# ReLU / PReLU unit on its linear side.
HIDDEN_BIAS = {"dice": 0.1, "prelu": 0.0, "relu": 0.0, "sigmoid": 0.1}
OUTPUT_BIAS = 0.1


def init_linear(layer: nn.Linear, generator=None, bias: float = OUTPUT_BIAS) -> None:
    with torch.no_grad():
        layer.weight.normal_(0.0, 1.0 / math.sqrt(layer.in_features), generator=generator)
        layer.bias.fill_(bias)


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
            init_linear(linear, bias=HIDDEN_BIAS[activation] if activation in HIDDEN_BIAS else OUTPUT_BIAS)
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
