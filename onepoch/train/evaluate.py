"""Evaluation at the paper's cadence: whole test set + a fixed training sample."""
from __future__ import annotations

import numpy as np
import torch

from onepoch.metrics import auc, logloss, user_weighted_auc

EVAL_CHUNK = 32_768  # rows per forward pass at evaluation; no effect on results


def predict(model: torch.nn.Module, ids: torch.Tensor) -> np.ndarray:
    """Probabilities for every row of `ids`, in evaluation mode (running stats, no dropout)."""
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        logits = torch.cat([model(ids[i : i + EVAL_CHUNK]) for i in range(0, len(ids), EVAL_CHUNK)])
    model.train(was_training)
    return torch.sigmoid(logits).numpy()


class EvalSet:
    """One split to evaluate: packed ids, labels and user keys, held as arrays."""

    def __init__(self, name: str, ids: torch.Tensor, labels: torch.Tensor, users: torch.Tensor):
        self.name = name
        # Rows sorted by history length, so each evaluation chunk pools only
        # as many history columns as its longest row needs (see FieldEmbedding).
        self.order = torch.argsort((ids != 0).sum(dim=1), stable=True)
        self.ids = ids[self.order]
        self.labels = labels[self.order].numpy().astype(bool)
        self.users = users[self.order].numpy()

    def scores(self, model) -> dict[str, float]:
        p = predict(model, self.ids)  # metrics do not depend on row order
        return {
            "auc": auc(self.labels, p),
            "logloss": logloss(self.labels, p),
            "gauc": user_weighted_auc(self.labels, p, self.users),
        }


def train_sample_index(n: int, size: int, seed: int = 12345) -> torch.Tensor:
    """A fixed random subset of training rows, the same for every run on the same data."""
    if size >= n:
        return torch.arange(n)
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=g)[:size].sort().values
