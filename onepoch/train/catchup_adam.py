"""Catch-up Adam: torch's dense Adam on an embedding table, paid for by the
rows in the batch (`RunConfig(emb_optimizer="catchup")`).

Dense Adam moves every row at every step: a row whose id is not in the
batch has gradient zero, so its moments decay (m <- b1 m, v <- b2 v) and it
still moves by lr * m_hat / (sqrt(v_hat) + eps). That pass over the whole
table is most of a step on a large table (benchmarks/scale.py). Here each
row remembers the step it was last brought up to date (`last`); a step
updates only the rows with a gradient, after first replaying the k steps
they skipped, in closed form for the moments (m <- b1^k m, v <- b2^k v) and
as a sum for the parameter:

    p -= lr * m0 * sum_{j=1..k} (b1^j / bc1(t0+j)) / ((b2^(j/2) / sqrt(bc2(t0+j))) * sqrt(v0) + eps)

(t0 = the row's last step, bc = Adam's bias corrections). With eps and the
bias corrections the sum has no closed form; its terms shrink at least
geometrically, by rho = max over steps of the ratio of two neighbours
(b1 / sqrt(b2) = 0.9005 for torch's betas), and all have the sign of m0. So
the sum is cut after J terms with rho^J / (1 - rho) <= `rel_tol`: the
neglected tail is at most rel_tol (1e-6) of the row's replayed movement,
itself at most ~7.3 lr (Adam's bound on |m| / sqrt(v)), i.e. below 1e-8 for
lr = 1e-3 -- under float32's resolution of the parameters. J = 154 for
torch's betas. Everything else is float32 arithmetic like dense Adam's, in
a different order (the k moves summed before being added), so the two agree
to float tolerance, not bit for bit (tests/test_catchup_adam.py).

`sync()` brings every row up to date; the trainer calls it before every
evaluation (so every prediction sees the parameters dense Adam would have)
and the last step of each epoch evaluates, so an epoch always ends synced.
A change of the learning rate between steps (lr_decay) first syncs the
table at the old rate. Anything reading the table between evaluations (a
probe at `on_step_end`) sees the rows not in recent batches behind.

Cost: a step is O(rows in the batch x dim x min(gap, J)), independent of
the table's size; a sync is O(rows ever touched x dim x min(steps since the
last sync, J)). A row never touched has zero moments and is skipped.
The gradient may be sparse (the table's `sparse=True`, which
`build_optimizer` sets, so no dense gradient is ever made) or dense (rows
with a non-zero gradient are updated; a zero row is a skipped step).
"""
from __future__ import annotations

import math

import torch

from onepoch.config import ConfigError

BLOCK = 16  # skipped steps replayed per vectorised piece


def ratio_bound(beta1: float, beta2: float, horizon: int = 1_000_000) -> float:
    """The largest ratio of two neighbouring terms of the replay sum, over every step."""
    tau = torch.arange(1, horizon + 1, dtype=torch.float64)
    bc1 = 1 - beta1 ** tau
    bc2 = 1 - beta2 ** tau
    # term(tau+1) / term(tau) <= b1 * bc1(tau) / bc1(tau+1) * max(1, B(tau) / B(tau+1))
    b_ratio = (bc2[1:] / bc2[:-1]).sqrt() / math.sqrt(beta2)
    rho = beta1 * bc1[:-1] / bc1[1:] * b_ratio.clamp(min=1.0)
    return max(float(rho.max()), beta1 / math.sqrt(beta2))


def terms_needed(beta1: float, beta2: float, rel_tol: float) -> int:
    """J such that the terms after the J-th add at most rel_tol of the replay sum."""
    rho = ratio_bound(beta1, beta2)
    return max(1, math.ceil(math.log(rel_tol * (1 - rho)) / math.log(rho)))


def check_settings(lr, betas, eps, weight_decay=0.0, amsgrad=False, maximize=False) -> None:
    """One clear error for what the catch-up cannot replay exactly."""
    if weight_decay:
        raise ConfigError(f"emb_optimizer='catchup' replays steps with gradient zero, which weight_decay "
                          f"({weight_decay}) or emb_l2 would make non-zero; use weight_decay=0 and emb_l2=0, "
                          "or emb_optimizer='dense'")
    if amsgrad or maximize:
        raise ConfigError("emb_optimizer='catchup' is plain Adam; amsgrad and maximize are not supported, "
                          "use emb_optimizer='dense'")
    beta1, beta2 = betas
    if not (0.0 <= beta1 < 1.0 and 0.0 < beta2 < 1.0 and beta1 < math.sqrt(beta2)) or eps <= 0 or lr <= 0:
        raise ConfigError(f"emb_optimizer='catchup' needs lr > 0, eps > 0 and 0 <= beta1 < sqrt(beta2) < 1 "
                          f"(its replay sum must shrink), got lr={lr}, betas={betas}, eps={eps}; "
                          "use emb_optimizer='dense'")


class CatchupAdam(torch.optim.Optimizer):
    """torch.optim.Adam (weight_decay 0) on 2-D float32 tables, updating only the rows with a gradient."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, rel_tol: float = 1e-6):
        check_settings(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps))
        for group in self.param_groups:
            for p in group["params"]:
                if p.dim() != 2 or p.dtype != torch.float32:
                    raise ConfigError("emb_optimizer='catchup' updates 2-D float32 tables (embeddings) only")
        self.rel_tol = rel_tol
        self._tables: dict = {}  # betas -> per-step scalars

    # -- per-step scalars --------------------------------------------------------------

    def _scalars(self, betas, upto: int) -> dict:
        """1 / bc1(tau), 1 / sqrt(bc2(tau)) for tau <= upto, and b1^j, b2^(j/2) for j <= J."""
        s = self._tables.get(betas)
        if s is None or len(s["inv_bc1"]) <= upto:
            beta1, beta2 = betas
            size = max(2 * (upto + 1), 1024)
            tau = torch.arange(size, dtype=torch.float64).clamp(min=1)
            terms = terms_needed(beta1, beta2, self.rel_tol)
            j = torch.arange(terms + 1, dtype=torch.float64)
            s = {"inv_bc1": (1 / (1 - beta1 ** tau)).float(), "inv_sqrt_bc2": (1 - beta2 ** tau).rsqrt().float(),
                 "b1_pow": (beta1 ** j).float(), "b2_half_pow": (beta2 ** (j / 2)).float(), "terms": terms}
            self._tables[betas] = s
        return s

    # -- the two operations ------------------------------------------------------------

    def watch(self, module: torch.nn.Module, param: torch.Tensor) -> None:
        """Bring the rows a training forward pass of `module` looks up in `param` up to date first.

        `module` is called with packed ids (a tensor) or `Bags` (with `.ids`); a gradient is only
        right if it is taken at the parameters dense Adam would have, so the catch-up must come
        before the forward pass, not at the optimizer step."""
        def before_forward(_module, args):
            if _module.training and torch.is_grad_enabled() and args:
                ids = getattr(args[0], "ids", args[0])
                self.bring_up_to_date(param, torch.unique(ids))
        unwatch(module)  # one catch-up optimizer per table: a rebuilt optimizer replaces the old one
        module._catchup_hook = module.register_forward_pre_hook(before_forward)

    @torch.no_grad()
    def bring_up_to_date(self, p: torch.Tensor, rows: torch.Tensor) -> None:
        """Replay for `rows` of `p` every step they skipped (gradient zero), up to the last step."""
        group = self._group_of(p)
        state = self._prepare(p, group)
        self._catch_up(p, group, rows, state["step"])

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps = group["lr"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue  # as torch's Adam: no gradient, no update, no step count
                state = self._prepare(p, group)
                rows, grad = _rows_and_grad(p.grad)
                t = state["step"]
                self._catch_up(p, group, rows, t)  # nothing left to do where `watch` ran before the forward
                t += 1
                m = state["exp_avg"].index_select(0, rows).lerp_(grad, 1 - beta1)
                v = state["exp_avg_sq"].index_select(0, rows).mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = (v.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
                moved = p.index_select(0, rows).addcdiv_(m, denom, value=-lr / (1 - beta1 ** t))
                p.index_copy_(0, rows, moved)
                state["exp_avg"].index_copy_(0, rows, m)
                state["exp_avg_sq"].index_copy_(0, rows, v)
                state["last"][rows] = t
                state["step"] = t
        return loss

    @torch.no_grad()
    def sync(self) -> None:
        """Bring every row up to date: the parameters and moments dense Adam would have now."""
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p):
                    self._sync_param(p, group)

    def _group_of(self, p) -> dict:
        return next(g for g in self.param_groups if any(q is p for q in g["params"]))

    def _prepare(self, p, group) -> dict:
        """`p`'s state, made if missing, with its pending steps replayed if the learning rate changed."""
        state = self.state[p]
        if not state:  # fresh, or dropped (MEDA, ResetOptimizer): start again at step 0
            state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p),
                         last=torch.zeros(p.shape[0], dtype=torch.long), lr=group["lr"])
        if state["lr"] != group["lr"]:  # the skipped steps ran at the old rate
            self._sync_param(p, group)
            state["lr"] = group["lr"]
        return state

    def _sync_param(self, p, group) -> None:
        state = self.state[p]
        behind = (state["last"] < state["step"]).nonzero().squeeze(1)
        self._catch_up(p, group, behind, state["step"])

    def _catch_up(self, p, group, rows: torch.Tensor, upto: int) -> None:
        """Replay for `rows` the steps after their last one up to step `upto`, with gradient zero."""
        state = self.state[p]
        last = state["last"].index_select(0, rows)
        state["last"].index_fill_(0, rows, upto)
        # a row last updated at step 0 was never touched: zero moments, nothing moves
        busy = (last > 0) & (last < upto)
        rows, last = rows[busy], last[busy]
        if len(rows) == 0:
            return
        beta1, beta2 = group["betas"]
        s = self._scalars(group["betas"], upto)
        gap = upto - last
        m0 = state["exp_avg"].index_select(0, rows)
        v0 = state["exp_avg_sq"].index_select(0, rows)
        # the moments: closed form
        state["exp_avg"].index_copy_(0, rows, m0 * torch.pow(beta1, gap.double()).float().unsqueeze(1))
        state["exp_avg_sq"].index_copy_(0, rows, v0 * torch.pow(beta2, gap.double()).float().unsqueeze(1))
        # the parameter: the sum of the replayed moves, J terms at most, longest gaps first
        count = gap.clamp(max=s["terms"])
        count, order = count.sort(descending=True)
        rows, last, m0, root_v0 = rows[order], last[order], m0[order], v0[order].sqrt_()
        total = torch.zeros_like(m0)
        eps = torch.tensor(group["eps"], dtype=torch.float32)
        longest = int(count[0])
        for start in range(0, longest, BLOCK):
            n = int((count > start).sum())
            j = torch.arange(start + 1, min(start + BLOCK, longest) + 1)
            tau = last[:n, None] + j
            a = s["b1_pow"][j] * s["inv_bc1"][tau]
            a.masked_fill_(j > count[:n, None], 0.0)
            b = s["b2_half_pow"][j] * s["inv_sqrt_bc2"][tau]
            denom = torch.addcmul(eps, root_v0[:n, :, None], b[:, None, :])
            total[:n] += torch.div(a[:, None, :], denom).sum(-1)
        p.index_copy_(0, rows, p.index_select(0, rows).addcmul_(m0, total, value=-state["lr"]))


def unwatch(module: torch.nn.Module) -> None:
    """Remove the catch-up hook `CatchupAdam.watch` put on `module`, if any."""
    handle = getattr(module, "_catchup_hook", None)
    if handle is not None:
        handle.remove()
        module._catchup_hook = None


def _rows_and_grad(grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The rows with a gradient (sorted, unique) and their gradient rows."""
    if grad.is_sparse:
        grad = grad.coalesce()
        return grad.indices()[0], grad.values()
    rows = grad.ne(0).any(dim=1).nonzero().squeeze(1)
    return rows, grad.index_select(0, rows)
