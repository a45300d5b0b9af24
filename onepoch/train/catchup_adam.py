"""Catch-up Adam: torch's dense Adam on an embedding table, paid for by the
rows in the batch (`RunConfig(emb_optimizer="catchup")`).

Dense Adam moves every row at every step: a row whose id is not in the
batch has gradient zero, so its moments decay (m <- b1 m, v <- b2 v) and it
still moves by lr * m_hat / (sqrt(v_hat) + eps). That pass over the whole
table is most of a step on a large table (benchmarks/scale.py). Here each
row remembers the step it was last brought up to date (`last`). Before a
training forward pass looks rows up (a hook on the embedding module,
`watch`), they replay the k steps they skipped -- the gradient must be taken
at the parameters dense Adam would have -- in closed form for the moments
(m <- b1^k m, v <- b2^k v) and as a sum for the parameter:

    p -= lr * m0 * sum_{j=1..k} A_j / (B_j sqrt(v0) + eps),
    A_j = b1^j / bc1(t0+j),  B_j = b2^(j/2) / sqrt(bc2(t0+j))

(t0 = the row's last step, bc = Adam's bias corrections); the optimizer step
then updates the rows with a gradient as dense Adam does.

The sum has no closed form with eps and the bias corrections. Its terms
all have the sign of m0 and shrink at least geometrically, by rho = the
largest ratio of two neighbours over all steps (b1 / sqrt(b2) = 0.9005 for
torch's betas), so it is cut after J terms with rho^J / (1 - rho) <=
`rel_tol` = 1e-6: the neglected tail is at most 1e-6 of the row's replayed
movement, itself at most ~7.3 lr per replayed step (Adam's bound on
|m| / sqrt(v)) -- below float32's resolution of the parameters. J = 175 for
torch's betas. The J (or k) terms are not summed one by one per element:
B_j changes by a few percent over a window, so with its mid value Bbar and
d_j = B_j / Bbar - 1 the sum is a short power series in w = Bbar s /
(Bbar s + eps) whose coefficients M_n = sum_j A_j d_j^n are per window, not
per element (see `_replay`): relative error < 1e-9 by its bound, degree 4-8
in practice. Windows that start in the first ~150 steps (the bias correction
still changing fast) are summed term by term. The rest is float32
arithmetic like dense Adam's, in another order (the k moves summed before
being added), so the two agree to float tolerance, not bit for bit
(tests/test_catchup_adam.py: parameters within rtol 1e-5 / atol 1e-6, run
curves within 1e-4).

`sync()` brings every row up to date; the trainer calls it before every
evaluation (so every prediction sees the parameters dense Adam would have),
and the last step of each epoch evaluates, so an epoch always ends synced.
A change of the learning rate between steps (lr_decay) first syncs the
table at the old rate. Anything reading the table between evaluations (a
probe at `on_step_end`, e.g. ParamChangeProbe) sees the rows not in recent
batches behind.

Cost: a step is O(rows in the batch x dim), independent of the table's
size; a sync is O(rows ever touched x dim), a few passes over the table
(benchmarks/catchup_adam.py). A row never touched has zero moments and is
skipped. The gradient may be sparse (the table's `sparse=True`, which
`build_optimizer` sets, so no dense gradient is made) or dense (rows with a
non-zero gradient are updated; a zero row is a skipped step).
"""
from __future__ import annotations

import math

import torch

from onepoch.config import ConfigError

SLICE = 1 << 18  # rows a sync brings up to date at once
BLOCK = 16  # skipped steps replayed per vectorised piece (term by term)
SERIES = 12  # degree of the series in w (see `CatchupAdam._replay`)
DELTA_MAX = 0.2  # the series is used where |d_j| <= this: relative error <= 1.2 * 0.2^13 / 0.8 < 1e-9
SERIES_TOL = 1e-9  # the degree used is the smallest with the series' relative error below this


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
        self._window_tables: dict = {}  # betas -> the series' coefficients of every J-step window

    # -- per-step scalars --------------------------------------------------------------

    def _scalars(self, betas, upto: int) -> dict:
        """Per-step scalars for steps tau <= upto: 1 / bc1(tau), 1 / sqrt(bc2(tau)), b1^tau, b2^tau;
        and b1^j, b2^(j/2) for j <= J (float64 `_64`, and float32)."""
        s = self._tables.get(betas)
        if s is None or len(s["inv_bc1"]) <= upto:
            beta1, beta2 = betas
            terms = s["terms"] if s else terms_needed(beta1, beta2, self.rel_tol)
            size = max(2 * (upto + 1), 1024)
            tau = torch.arange(size, dtype=torch.float64)
            j = torch.arange(terms + 1, dtype=torch.float64)
            after = tau.clamp(min=1)  # bias corrections from step 1
            s = {"inv_bc1_64": 1 / (1 - beta1 ** after), "inv_sqrt_bc2_64": (1 - beta2 ** after).rsqrt(),
                 "b1_pow_64": beta1 ** j, "b2_half_pow_64": beta2 ** (j / 2), "b1_steps_64": beta1 ** tau,
                 "b2_steps_64": beta2 ** tau, "terms": terms}
            s.update({k[:-3]: v.float() for k, v in list(s.items()) if k.endswith("_64")})
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
        """Every row up to date, slice by slice of the table in place (no gathers: most rows are behind)."""
        state = self.state[p]
        last, upto, lr = state["last"], state["step"], state["lr"]
        s = self._scalars(group["betas"], upto + self._scalars(group["betas"], 0)["terms"] + 1)
        for a in range(0, p.shape[0], SLICE):
            since = last[a:a + SLICE]
            behind = (since > 0) & (since < upto)  # rows at 0 were never touched: zero moments
            if not bool(behind.any()):
                continue
            gap = torch.where(behind, upto - since, 0)
            m, v = state["exp_avg"][a:a + SLICE], state["exp_avg_sq"][a:a + SLICE]
            total = self._replay(group["betas"], group["eps"], since, gap, upto, v.sqrt())
            p[a:a + SLICE].addcmul_(m, total, value=-lr)
            m.mul_(s["b1_steps"][gap].unsqueeze(1))
            v.mul_(s["b2_steps"][gap].unsqueeze(1))
        last.fill_(upto)

    def _catch_up(self, p, group, rows: torch.Tensor, upto: int) -> None:
        """Replay for `rows` the steps after their last one up to step `upto`, with gradient zero."""
        state = self.state[p]
        last = state["last"].index_select(0, rows)
        state["last"].index_fill_(0, rows, upto)
        # a row last updated at step 0 was never touched: zero moments, nothing moves
        busy = ((last > 0) & (last < upto)).nonzero().squeeze(1)
        if len(busy) == 0:
            return
        if len(busy) < len(rows):
            rows, last = rows.index_select(0, busy), last.index_select(0, busy)
        s = self._scalars(group["betas"], upto + self._scalars(group["betas"], 0)["terms"] + 1)
        gap = upto - last
        m0 = state["exp_avg"].index_select(0, rows)
        v0 = state["exp_avg_sq"].index_select(0, rows)
        # the moments: closed form
        state["exp_avg"].index_copy_(0, rows, m0 * s["b1_steps"][gap].unsqueeze(1))
        state["exp_avg_sq"].index_copy_(0, rows, v0 * s["b2_steps"][gap].unsqueeze(1))
        # the parameter: lr * m0 * (the replay sum per element)
        total = self._replay(group["betas"], group["eps"], last, gap, upto, v0.sqrt_())
        p.index_copy_(0, rows, p.index_select(0, rows).addcmul_(m0, total, value=-state["lr"]))

    # -- the replay sum ------------------------------------------------------------------

    def _replay(self, betas, eps: float, last, gap, upto: int, root_v0) -> torch.Tensor:
        """sum_j A_j / (B_j sqrt(v0) + eps) over each row's first min(gap, J) skipped steps.

        With B_j = Bbar (1 + d_j) for the row's mid value Bbar, and w = Bbar s / (Bbar s + eps),

            1 / (B_j s + eps) = 1 / (Bbar s + eps) * sum_n (-w d_j)^n,

        so the sum is 1 / (Bbar s + eps) * sum_n (-w)^n M_n with row scalars M_n = sum_j A_j d_j^n:
        a polynomial in w per element, of the smallest degree whose error bound is < SERIES_TOL.
        B_j falls with j, so |d_j| <= d = (B_1 - B_K) / (B_1 + B_K), and the series' relative error
        is <= (1 + d) d^(n+1) / (1 - d). Rows whose window starts early (the bias correction still
        changes fast, d > DELTA_MAX) are summed term by term. The M_n of a window of J steps depend
        on its first step only and are kept; a shorter one ends at `upto`, so its gap fixes it.
        """
        terms = self._scalars(betas, 0)["terms"]
        s = self._scalars(betas, upto + terms + 1)
        by_gap = torch.arange(terms)
        recent = window_coefficients(s, (upto - by_gap).clamp(min=0), by_gap)  # windows ending at upto
        full = gap >= terms
        near = gap.clamp(max=terms - 1)
        spread = recent[2].index_select(0, near)
        windows = self._windows(betas, int(last.max())) if bool(full.any()) else None
        if windows is not None:
            spread = torch.where(full, windows[2].index_select(0, last), spread)
        ok = spread <= DELTA_MAX
        degree = series_degree(float(spread[ok].max())) if bool(ok.any()) else 0
        mid, coef = recent[0].float().index_select(0, near), recent[1][:, :degree + 1].float().index_select(0, near)
        if windows is not None:
            mid = torch.where(full, windows[0].float().index_select(0, last), mid)
            coef = torch.where(full[:, None], windows[1][:, :degree + 1].float().index_select(0, last), coef)
        if bool(ok.all()):
            return series_sum(mid, coef, root_v0, eps)
        total = torch.empty_like(root_v0)
        if bool(ok.any()):
            total[ok] = series_sum(mid[ok], coef[ok], root_v0[ok], eps)
        slow = ~ok
        total[slow] = direct_sum(s, eps, last[slow], gap[slow].clamp(max=terms), root_v0[slow])
        return total

    def _windows(self, betas, upto: int) -> list:
        """Bbar, M_n and d for the J-step window after each step <= upto (kept, grown as needed)."""
        w = self._window_tables.get(betas)
        done = -1 if w is None else len(w[0]) - 1
        if upto > done:
            terms = self._scalars(betas, 0)["terms"]
            size = max(upto + 1, 2 * (done + 1), 1024)
            s = self._scalars(betas, size + terms + 1)
            parts = [window_coefficients(s, piece, torch.full_like(piece, terms))
                     for piece in torch.arange(done + 1, size).split(2048)]
            new = [torch.cat([q[i] for q in parts]) for i in range(3)]
            w = self._window_tables[betas] = new if w is None else [torch.cat([a, b]) for a, b in zip(w, new)]
        return w


def window_coefficients(s: dict, starts: torch.Tensor, counts: torch.Tensor):
    """Bbar, M_0..M_SERIES and d = max |d_j| (float64) for windows of counts[i] steps after starts[i]."""
    j = torch.arange(1, s["terms"] + 1)
    tau = starts[:, None] + j
    inside = j <= counts[:, None]
    a = s["b1_pow_64"][j] * s["inv_bc1_64"][tau] * inside
    b = s["b2_half_pow_64"][j] * s["inv_sqrt_bc2_64"][tau]
    first, end = b[:, 0], b.gather(1, (counts - 1).clamp(min=0)[:, None]).squeeze(1)
    mid = (first + end) / 2
    d = (b / mid[:, None] - 1) * inside
    coef = torch.empty(len(starts), SERIES + 1, dtype=torch.float64)
    power = a.clone()
    for k in range(SERIES + 1):
        coef[:, k] = power.sum(1)
        power.mul_(d)
    return mid, coef, (first - end) / (first + end)


def series_degree(spread: float) -> int:
    """The smallest degree whose series error (1 + d) d^(n+1) / (1 - d) is below SERIES_TOL."""
    for degree in range(SERIES + 1):
        if (1 + spread) * spread ** (degree + 1) / (1 - spread) <= SERIES_TOL:
            return degree
    return SERIES


def series_sum(mid, coef, root_v0, eps: float, out=None) -> torch.Tensor:
    """1 / (Bbar s + eps) * sum_n M_n (-w)^n per element, w = Bbar s / (Bbar s + eps) (Horner, float32)."""
    q = root_v0 * mid[:, None]
    den = q + eps
    minus_w = q.div_(den).neg_()
    c = coef
    h = c[:, -1, None].expand_as(den).clone()
    for k in range(c.shape[1] - 2, -1, -1):
        h.mul_(minus_w).add_(c[:, k, None])
    return torch.div(h, den, out=out)


def direct_sum(s: dict, eps: float, last, count, root_v0) -> torch.Tensor:
    """The replay sum term by term (rows early in training), longest windows first, BLOCK steps at a time."""
    count, order = count.sort(descending=True)
    last, root_v0 = last[order], root_v0[order]
    total = torch.zeros_like(root_v0)
    eps_t = torch.tensor(eps, dtype=torch.float32)
    longest = int(count[0]) if len(count) else 0
    for start in range(0, longest, BLOCK):
        n = int((count > start).sum())
        j = torch.arange(start + 1, min(start + BLOCK, longest) + 1)
        tau = last[:n, None] + j
        a = s["b1_pow"][j] * s["inv_bc1"][tau]
        a.masked_fill_(j > count[:n, None], 0.0)
        b = s["b2_half_pow"][j] * s["inv_sqrt_bc2"][tau]
        denom = torch.addcmul(eps_t, root_v0[:n, :, None], b[:, None, :])
        total[:n] += torch.div(a[:, None, :], denom).sum(-1)
    out = torch.empty_like(total)
    out[order] = total
    return out


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
