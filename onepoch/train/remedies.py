"""Remedies for the one-epoch phenomenon: ways to train for more than one epoch.

Each is a RunConfig option, off at its default (see `schemes_for`):

- `meda=True` -- MEDA (Liu et al. 2023, arXiv 2305.19531): at the start of
  every epoch after the first, the embedding table is initialised afresh
  (same scheme as at the start, new random draws) and its optimizer state
  is dropped; the MLP and its optimizer state are kept.
- `finetune="embedding"` -- freeze the MLP after epoch 1 (the paper's
  Fig. 17); that is `onepoch.train.schemes.FineTune`, not repeated here.
- `lr_decay=g` -- every learning rate is multiplied by g at each epoch
  boundary.
- `emb_optimizer="lazy"` -- lazy Adam on the embedding table: only the rows
  of the IDs in the batch have their moments updated and move, with the
  arithmetic of `torch.optim.SparseAdam`. Dense Adam (the default, and
  TensorFlow 1's AdamOptimizer in the paper's code) decays the moments of
  every row and moves every row at every step. The MLP keeps dense Adam.
- `emb_l2=l` -- an L2 penalty (l / 2) ||E||^2 on the embedding table E,
  its gradient l E going through Adam (coupled, like Adam's `weight_decay`
  restricted to the table; with lazy Adam, on the rows in the batch only).
- `emb_decay=d`, `emb_decay_alpha=a` -- frequency-aware decoupled weight
  decay of the embeddings, our reading of the idea in the abstract of
  AdamAR (Li & Lyu 2025, arXiv 2511.06374: constrain the norm budget of the
  embeddings adaptively, rare IDs harder). The abstract gives no formula;
  we implement: after each optimizer step, every row whose ID is in the
  batch shrinks, decoupled from the gradient (as in AdamW), by

      E_i <- E_i * (1 - lr * d * min(1, a * I_i)),

  where I_i is the number of steps since ID i was last in a batch (since
  the start, for its first appearance). An ID seen at every step is decayed
  by lr * d * a per step; one seen once in 1 / a steps or more rarely, by
  the full lr * d each time it comes back: the rarer the ID, the harder its
  decay relative to the gradient steps it gets.
"""
from __future__ import annotations

import math

import torch

from onepoch.train.callbacks import Callback
from onepoch.train.optim import make_optimizer


# -- optimizers -------------------------------------------------------------------

class LazyAdam(torch.optim.Optimizer):
    """Adam that updates only the rows of a 2-D parameter whose gradient row is non-zero.

    Takes the dense gradient an embedding lookup produces (zero rows for the
    IDs not in the batch) and applies `torch.optim.SparseAdam`'s update to
    the other rows: their moments and values change, every other row keeps
    its moments and value. `l2` adds l2 * row to the gradient of those rows.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, l2: float = 0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, l2=l2))
        for group in self.param_groups:
            for p in group["params"]:
                if p.dim() != 2:
                    raise ValueError("LazyAdam updates rows of 2-D parameters (embedding tables) only")

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                rows = grad.ne(0).any(dim=1).nonzero().squeeze(1)
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                g = grad.index_select(0, rows)
                if group["l2"]:
                    g = g + group["l2"] * p.index_select(0, rows)
                m = state["exp_avg"].index_select(0, rows).mul_(beta1).add_(g, alpha=1 - beta1)
                v = state["exp_avg_sq"].index_select(0, rows).mul_(beta2).addcmul_(g, g, value=1 - beta2)
                state["exp_avg"].index_copy_(0, rows, m)
                state["exp_avg_sq"].index_copy_(0, rows, v)
                bias1 = 1 - beta1 ** state["step"]
                bias2 = 1 - beta2 ** state["step"]
                step_size = group["lr"] * math.sqrt(bias2) / bias1
                p.index_add_(0, rows, m.div(v.sqrt().add_(group["eps"])), alpha=-step_size)
        return loss


class Optimizers:
    """Several optimizers stepped as one (the trainer and callbacks see one optimizer)."""

    def __init__(self, *optimizers):
        self.optimizers = [o for o in optimizers if o is not None]

    @property
    def param_groups(self) -> list:
        return [g for o in self.optimizers for g in o.param_groups]

    @property
    def state(self) -> dict:
        return {p: s for o in self.optimizers for p, s in o.state.items()}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for o in self.optimizers:
            o.zero_grad(set_to_none=set_to_none)

    def step(self, closure=None) -> None:
        for o in self.optimizers:
            o.step()


def custom_optimizer(config) -> bool:
    """Whether the config's optimizer differs from `make_optimizer`'s plain one."""
    return config.emb_optimizer != "dense" or config.emb_l2 > 0


def build_optimizer(config, model, params=None, lr: float | None = None):
    """The optimizer a config asks for, over `params` (default: all the model's), at `lr` (default: config.lr).

    Without optimizer remedies it is exactly `make_optimizer`'s; otherwise the
    embedding table gets lazy Adam and/or its own L2, the rest the usual optimizer.
    """
    lr = config.lr if lr is None else lr
    params = [p for p in (model.parameters() if params is None else params) if p.requires_grad]
    if not custom_optimizer(config):
        return make_optimizer(config.optimizer, params, lr, config.weight_decay)
    table = {id(p) for p in model.embedding_parameters()}
    emb = [p for p in params if id(p) in table]
    rest = [p for p in params if id(p) not in table]
    emb_l2 = config.weight_decay + config.emb_l2
    if config.emb_optimizer == "lazy":
        return Optimizers(LazyAdam(emb, lr=lr, l2=emb_l2) if emb else None,
                          make_optimizer(config.optimizer, rest, lr, config.weight_decay) if rest else None)
    groups = [g for g in ({"params": rest}, {"params": emb, "weight_decay": emb_l2}) if g["params"]]
    return make_optimizer(config.optimizer, groups, lr, config.weight_decay)


def forget(optimizer, params) -> None:
    """Drop the optimizer state (moments, step count) of `params`: they start afresh at the next step."""
    optimizers = optimizer.optimizers if isinstance(optimizer, Optimizers) else [optimizer]
    for o in optimizers:
        for p in params:
            o.state.pop(p, None)


def lr_of(optimizer, param) -> float | None:
    """The learning rate the optimizer applies to `param` (None when it does not train it)."""
    for group in optimizer.param_groups:
        if any(p is param for p in group["params"]):
            return float(group["lr"])
    return None


# -- callbacks ---------------------------------------------------------------------

class RemedyOptimizer(Callback):
    """Put the config's optimizer remedies (lazy Adam, embedding L2) in place before the first step."""

    def on_train_begin(self, state) -> None:
        state.optimizer = build_optimizer(state.config, state.model)


class MEDA(Callback):
    """Fresh embeddings and embedding optimizer state at the start of every epoch after the first."""

    def __init__(self, seed: int = 0):
        self.seed = seed

    def on_epoch_begin(self, state) -> None:
        if state.epoch_index == 0:
            return
        generator = torch.Generator().manual_seed(1_000_003 * (self.seed + 1) + state.epoch_index)
        state.model.embedding.reset_parameters(generator)
        forget(state.optimizer, state.model.embedding_parameters())


class LRDecay(Callback):
    """Every learning rate times `factor` at each epoch boundary."""

    def __init__(self, factor: float):
        self.factor = factor

    def on_epoch_begin(self, state) -> None:
        if state.epoch_index == 0:
            return
        for group in state.optimizer.param_groups:
            group["lr"] = group["lr"] * self.factor


class FrequencyDecay(Callback):
    """Frequency-aware decoupled decay of the embedding rows of each batch (see the module docstring)."""

    def __init__(self, strength: float, alpha: float):
        self.strength, self.alpha = strength, alpha

    def on_train_begin(self, state) -> None:
        self.table = state.model.embedding.table.weight
        self.last_seen = torch.zeros(self.table.shape[0], dtype=torch.long)

    def on_step_end(self, state) -> None:
        lr = lr_of(state.optimizer, self.table)
        rows = torch.unique(state.batch_ids)
        rows = rows[rows != 0]  # padding is never looked up
        interval = (state.step - self.last_seen[rows]).double()
        self.last_seen[rows] = state.step
        if lr is None:  # the table is frozen
            return
        shrink = (lr * self.strength * torch.clamp(self.alpha * interval, max=1.0)).clamp(max=1.0)
        with torch.no_grad():
            self.table[rows] *= (1.0 - shrink).to(self.table.dtype).unsqueeze(1)


def remedies_for(config) -> list[Callback]:
    """The remedy callbacks a config asks for, in the order they must run."""
    out: list[Callback] = []
    if custom_optimizer(config):
        out.append(RemedyOptimizer())
    if config.meda:
        out.append(MEDA(config.seed))
    if config.lr_decay != 1.0:
        out.append(LRDecay(config.lr_decay))
    if config.emb_decay > 0:
        out.append(FrequencyDecay(config.emb_decay, config.emb_decay_alpha))
    return out
