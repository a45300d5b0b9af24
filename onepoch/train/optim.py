"""Optimizers of the paper's Fig. 8: Adam, RMSprop and plain SGD.

Adam is torch's dense Adam: every embedding row's moments decay and the row
moves at every step, also when its id is not in the batch -- the behaviour
of TF1's AdamOptimizer in the original code (torch.optim.SparseAdam, "lazy"
Adam, would not). `fused=True` runs the update as one kernel on CPU, about
twice as fast for this model, with the same arithmetic.
"""
import torch

from onepoch.config import OPTIMIZERS, ConfigError


def _trainable(params) -> list:
    """The parameters that require gradients; param groups (dicts) keep their options."""
    out = []
    for p in params:
        if isinstance(p, dict):
            kept = [q for q in p["params"] if q.requires_grad]
            if kept:
                out.append({**p, "params": kept})
        elif p.requires_grad:
            out.append(p)
    return out


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """`params`: tensors, or param groups (dicts with their own options, e.g. "weight_decay")."""
    params = _trainable(params)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=True)
    if name == "rmsprop":
        # alpha 0.9 is TF1's RMSPropOptimizer decay, which the original code used
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    # never fall back silently (the original code fell back to SGD)
    raise ConfigError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")
