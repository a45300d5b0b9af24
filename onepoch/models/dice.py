"""Dice activation (Zhou et al., DIN, KDD 2018), as in the paper's code.

p = sigmoid(batchnorm(x)), out = alpha * (1 - p) * x + p * x, with a
batch norm that has no affine parameters (eps 1e-4) and one alpha per unit
starting at -0.25. The original code normalised with the statistics of the
current batch even at evaluation, so a test prediction depended on the other
samples in its batch; here evaluation uses the running statistics, as batch
norm should.
"""
import torch
from torch import nn


class Dice(nn.Module):
    def __init__(self, units: int, eps: float = 1e-4, momentum: float = 0.01, alpha_init: float = -0.25):
        super().__init__()
        # momentum 0.01 in torch's convention = TF's decay 0.99
        self.norm = nn.BatchNorm1d(units, eps=eps, momentum=momentum, affine=False)
        self.alpha = nn.Parameter(torch.full((units,), alpha_init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = torch.sigmoid(self.norm(x))
        return x * (p + self.alpha * (1.0 - p))
