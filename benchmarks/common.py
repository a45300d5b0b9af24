"""Shared pieces of the benchmarks: data at the paper's settings, the bare
PyTorch floor, timing helpers and the machine description.

Every benchmark pins torch to ONE thread (as every onepoch run is), so the
contenders compete on equal terms and a second process can use the other core.
Timings on a shared machine are noisy: the scripts interleave the contenders,
repeat them and report medians and ratios measured within one run.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import nn

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SINGLE = ("user_id", "item_id", "cat_id")
HIST = ("hist_item_ids", "hist_cat_ids")
FIELDS = SINGLE + HIST


def one_thread() -> None:
    torch.set_num_threads(1)


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "torch": torch.__version__,
            "python": platform.python_version(), "torch_threads": torch.get_num_threads()}


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout.strip()
    except Exception:  # noqa: BLE001 - not a checkout
        return "unknown"


def write_result(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "date": time.strftime("%Y-%m-%d %H:%M"), "commit": git_commit(),
               "machine": machine(), **payload}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, default=float) + "\n")
    return path


def median(xs):
    return statistics.median(xs)


def interleaved(variants: dict, repeats: int, per: int = 1, seed: int = 0) -> tuple[dict, list]:
    """Time each callable of `variants` `repeats` times, in a fresh random order per repetition
    (so a load change on the shared machine hits every variant alike). Returns the milliseconds
    per call divided by `per` (e.g. steps per call), by variant, and the load average before and
    after each repetition."""
    import random

    ms = {k: [] for k in variants}
    load = [load_avg()]
    order = list(variants)
    rng = random.Random(seed)
    for _ in range(repeats):
        rng.shuffle(order)
        for name in order:
            start = time.perf_counter()
            variants[name]()
            ms[name].append(1e3 * (time.perf_counter() - start) / per)
        load.append(load_avg())
    return ms, load


def paper_model(train_samples: int = 128_000, seed: int | None = None):
    """The paper's model (Dice, emb 8, 200-80-1) on Sports at the paper's construction, and its
    data and field layout: (data, config, layout, model)."""
    from onepoch.config import RunConfig
    from onepoch.models import FieldLayout, build_model

    d = paper_data(train_samples=train_samples)
    cfg = RunConfig(construction="positions")
    layout = FieldLayout.of(d.train, cfg.fields)
    if seed is not None:
        torch.manual_seed(seed)
    return d, cfg, layout, build_model(cfg, d.vocab_size, layout)


# -- data -----------------------------------------------------------------------

def subset(split: dict, rows: torch.Tensor) -> dict:
    return {k: v.index_select(0, rows) for k, v in split.items()}


def paper_data(dataset: str = "sports", construction: str = "positions", train_samples: int | None = None,
               eval_size: int = 30_000, seed: int = 0):
    """The real data set with the test split cut to `eval_size` rows (a fixed
    random subset) and, if asked, the training split cut to `train_samples`."""
    from onepoch import data as od

    d = od.load(dataset, construction=construction)
    g = torch.Generator().manual_seed(seed)
    test = d.test
    if eval_size < len(test["label"]):
        test = subset(test, torch.randperm(len(test["label"]), generator=g)[:eval_size].sort().values)
    train = d.train
    if train_samples is not None and train_samples < len(train["label"]):
        train = subset(train, torch.randperm(len(train["label"]), generator=g)[:train_samples].sort().values)
    return SimpleNamespace(train=train, test=test, vocab_size=d.vocab_size, fields=d.fields,
                           checksum=d.checksum, name=dataset, construction=construction)


def packed(split: dict) -> torch.Tensor:
    """(N, 3 + 2L) int64: user, item, category, item history, category history."""
    return torch.cat([split[f].reshape(len(split[f]), -1) for f in FIELDS], dim=1).contiguous()


# -- the floor: a bare PyTorch loop with the paper's semantics ------------------------

class Dice(nn.Module):
    def __init__(self, units: int):
        super().__init__()
        self.norm = nn.BatchNorm1d(units, eps=1e-4, momentum=0.01, affine=False)
        self.alpha = nn.Parameter(torch.full((units,), -0.25))

    def forward(self, x):
        p = torch.sigmoid(self.norm(x))
        return x * (p + self.alpha * (1.0 - p))


class BareModel(nn.Module):
    """Embedding & MLP on packed ids; `pooling` picks how history fields are mean-pooled:

    - "masked": look every column up (padding too), multiply by the mask, sum, divide;
    - "bag": one `embedding_bag` over the non-zero ids of every (row, field).
    """

    def __init__(self, vocab: int, hist_len: int, dim: int = 8, hidden=(200, 80), pooling: str = "bag"):
        super().__init__()
        self.table = nn.Embedding(vocab, dim)
        nn.init.uniform_(self.table.weight, -0.01, 0.01)
        self.L, self.dim, self.pooling = hist_len, dim, pooling
        layers, width = [], 5 * dim
        for units in hidden:
            layers += [nn.Linear(width, units), Dice(units)]
            width = units
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)
        L = hist_len
        self.register_buffer("ends", torch.tensor([0, 1, 2, 2 + L, 2 + 2 * L]), persistent=False)

    def pool(self, ids):
        B, d, L = len(ids), self.dim, self.L
        if self.pooling == "masked":
            e = F.embedding(ids, self.table.weight)
            mask = (ids[:, 3:] != 0).view(B, 2, L, 1).to(e.dtype)
            hist = (e[:, 3:].view(B, 2, L, d) * mask).sum(2) / mask.sum(2).clamp(min=1.0)
            return torch.cat([e[:, :3].reshape(B, 3 * d), hist.reshape(B, 2 * d)], dim=1)
        present = ids != 0
        upto = present.cumsum(dim=1).index_select(1, self.ends)
        counts = torch.diff(upto, dim=1, prepend=torch.zeros_like(upto[:, :1])).flatten()
        offsets = counts.cumsum(0) - counts
        return F.embedding_bag(ids[present], self.table.weight, offsets, mode="mean").view(B, 5 * d)

    def forward(self, ids):
        return self.mlp(self.pool(ids)).squeeze(-1)


def bare_loop(ids: torch.Tensor, y: torch.Tensor, vocab: int, batch_size: int, steps: int, *,
              pooling: str = "bag", fused: bool = True, lean: bool = False, seed: int = 0) -> float:
    """Train `steps` batches; returns the seconds of the loop alone (model built before).
    `lean`: Adam's step through onepoch's `lean_adam_step` (same kernel, less Python)."""
    torch.manual_seed(seed)
    model = BareModel(vocab, (ids.shape[1] - 3) // 2, pooling=pooling)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    if lean:
        import types

        from onepoch.train.optim import lean_adam_step

        opt.step = types.MethodType(lean_adam_step, opt)
    perm = torch.randperm(len(y))
    start = time.perf_counter()
    for b in range(steps):
        rows = perm[b * batch_size:(b + 1) * batch_size]
        loss = F.binary_cross_entropy_with_logits(model(ids.index_select(0, rows)), y.index_select(0, rows))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


# -- hardware -------------------------------------------------------------------------

def matmul_flops(n: int = 1024, seconds: float = 0.5) -> float:
    """Measured fp32 FLOP/s of a square matmul on the current thread count."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        reps += 1
    return 2 * n**3 * reps / (time.perf_counter() - start)


def model_flops_per_sample(dim: int = 8, hidden=(200, 80), n_fields: int = 5, ids_per_sample: float = 0.0) -> dict:
    """Training FLOPs per sample of Embedding & MLP: forward matmuls x 3 (forward,
    input-gradient and weight-gradient GEMMs), plus the pooling's adds (tiny)."""
    widths = [n_fields * dim, *hidden, 1]
    fwd = sum(2 * a * b for a, b in zip(widths[:-1], widths[1:]))
    pool = 2 * ids_per_sample * dim  # gather-add forward, scatter-add backward
    return {"forward_matmul": fwd, "training": 3 * fwd + pool}


def fmt_rate(x: float) -> str:
    return f"{x / 1e3:,.1f}k" if x < 1e6 else f"{x / 1e6:,.2f}M"


def isfinite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


@contextlib.contextmanager
def timed_evaluations():
    """While the block runs, time every `EvalSet.scores` call (one split evaluated): yields
    [seconds, calls], filled in as they happen."""
    from onepoch.train import evaluate

    spent = [0.0, 0]
    real = evaluate.EvalSet.scores

    def timed(self, model):
        start = time.perf_counter()
        try:
            return real(self, model)
        finally:
            spent[0] += time.perf_counter() - start
            spent[1] += 1

    evaluate.EvalSet.scores = timed
    try:
        yield spent
    finally:
        evaluate.EvalSet.scores = real
