"""Catch-up Adam (`emb_optimizer="catchup"`) against torch's dense Adam: same curves, and the cost.

    .venv/bin/python benchmarks/catchup_adam.py                 # both parts (~15 minutes)
    .venv/bin/python benchmarks/catchup_adam.py --part speed --ids 4000000 22000000
    .venv/bin/python benchmarks/catchup_adam.py --part curves

Part "curves": book runs trained with each optimizer, seed 0 -- the one-epoch chapter's quick
setting (Beauty, 4,000 users, 2 epochs, evaluation every 20 steps), every Beauty user for 1 epoch,
and the chapter's main runs on Beauty and Yelp (10 epochs, its evaluation schedule): the largest
|difference| of any evaluation's test and train AUC, logloss and GAUC -- next to the same figure for
torch's plain (unfused) dense Adam against the fused one, the noise of float rounding alone. The
dense runs come from the run cache where it holds them.

Part "speed": on a Taobao-sized synthetic table (benchmarks/synthetic.py) of 4M and 22M IDs, the
paper's model, one thread, a training step (forward + backward + optimizer) at batch 128 and 1024
with each optimizer, and catch-up's `sync` after 50 steps (what an evaluation at the paper's cadence
adds). Both optimizers start from the same aged state: step 20,000, every row touched before at a
random earlier step (the catch-up's worst case: each row in a batch replays up to J skipped steps).
Dense and catch-up alternate within each repetition; the machine is shared, so the ratios matter,
not the rates. Writes results/catchup_adam.json.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import time

import torch
import torch.nn.functional as F

from common import load_avg, median, one_thread, write_result

AGE = 20_000  # the step both optimizers start at in the speed part


def aged(opt, model, kind: str, seed: int = 0) -> None:
    """Give both optimizers the same state as if trained for AGE steps (all rows touched before)."""
    g = torch.Generator().manual_seed(seed)
    table = model.embedding.table.weight
    target = opt.optimizers[0] if kind == "catchup" else opt
    state = target.state[table]
    state["exp_avg"].copy_(torch.randn(table.shape, generator=g) * 1e-4)
    state["exp_avg_sq"].copy_(torch.rand(table.shape, generator=g) * 1e-8 + 1e-10)
    if kind == "catchup":
        state["step"] = AGE
        state["last"].copy_(torch.randint(1, AGE, (table.shape[0],), generator=g))
    else:
        state["step"].fill_(AGE)


def speed(ids: int, reps: int, steps: int) -> dict:
    from onepoch.config import RunConfig
    from onepoch.models import FieldLayout
    from onepoch.models.embedding_mlp import EmbeddingMLP
    from onepoch.train.optim import build_optimizer
    from onepoch.train.trainer import large_blocks_on_heap

    from synthetic import make_data

    one_thread()
    data = make_data(samples=1024 * (steps + 2), ids=ids, test=10)
    layout = FieldLayout.of(data.train, data.fields)
    packed, y = layout.pack(data.train), data.train["label"]
    out = {"table_rows": data.vocab_size, "steps_timed": steps}
    for bs in (128, 1024):
        models, opts = {}, {}
        for kind in ("dense", "catchup"):
            torch.manual_seed(0)
            models[kind] = EmbeddingMLP(data.vocab_size, layout)
            opts[kind] = build_optimizer(RunConfig(emb_optimizer=kind), models[kind])

        def train(kind, first: int, n: int) -> float:
            model, opt = models[kind], opts[kind]
            start = time.perf_counter()
            for b in range(first, first + n):
                rows = slice((b * bs) % (len(y) - bs), (b * bs) % (len(y) - bs) + bs)
                loss = F.binary_cross_entropy_with_logits(model(packed[rows]), y[rows])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            return (time.perf_counter() - start) / n

        with large_blocks_on_heap(models["dense"].embedding.table.weight.numel() * 4):
            for kind in ("dense", "catchup"):
                train(kind, 0, 1)  # the optimizer state exists ...
                aged(opts[kind], models[kind], kind)  # ... and is aged
                train(kind, 1, 1)  # warm: the catch-up's per-window coefficients for every earlier step
            catchup = opts["catchup"].optimizers[0]
            catchup.sync()
            rows, batch = [], 2
            for rep in range(reps):
                r = {}
                for kind in (("dense", "catchup") if rep % 2 == 0 else ("catchup", "dense")):
                    r[f"{kind}_step_s"] = train(kind, batch, steps)
                    if kind == "catchup":
                        t = time.perf_counter()
                        catchup.sync()  # every row `steps` steps behind: an evaluation at that cadence
                        r["catchup_sync_s"] = time.perf_counter() - t
                batch += steps
                r["step_ratio_dense_over_catchup"] = r["dense_step_s"] / r["catchup_step_s"]
                r["with_sync_ratio"] = r["dense_step_s"] * steps / (r["catchup_step_s"] * steps + r["catchup_sync_s"])
                rows.append(r)
                print(f"{ids / 1e6:.0f}M rows, batch {bs}, rep {rep}: dense {r['dense_step_s'] * 1e3:.1f} ms/step, "
                      f"catch-up {r['catchup_step_s'] * 1e3:.1f} ms/step ({r['step_ratio_dense_over_catchup']:.2f}x), "
                      f"sync after {steps} steps {r['catchup_sync_s'] * 1e3:.0f} ms "
                      f"({r['with_sync_ratio']:.2f}x with it)", flush=True)
        out[str(bs)] = {"repetitions": rows, **{f"median_{k}": median([r[k] for r in rows]) for k in rows[0]}}
        models.clear()  # free the tables before the next batch size (the closure keeps the dicts)
        opts.clear()
        gc.collect()
    return out


@contextlib.contextmanager
def unfused_adam():
    """Runs built while this is open use torch's plain (non-fused, per-tensor) Adam: the same
    arithmetic rounded in another order -- how far float rounding alone moves a run's curves."""
    from onepoch.train import optim

    original = optim.make_optimizer

    def make(name, params, lr, weight_decay=0.0):
        if name != "adam":
            return original(name, params, lr, weight_decay)
        return torch.optim.Adam(optim._trainable(params), lr=lr, weight_decay=weight_decay, foreach=False)

    optim.make_optimizer = make
    try:
        yield
    finally:
        optim.make_optimizer = original


def differences(a, b) -> dict:
    assert a[["step", "split", "metric"]].equals(b[["step", "split", "metric"]])
    diff = (a.value - b.value).abs()
    auc = a.metric == "auc"
    return {"max_abs_auc_difference": float(diff[auc].max()),
            "max_abs_test_auc_difference": float(diff[auc & (a.split == "test")].max()),
            "by_metric": {f"{sp} {m}": float(diff[(a.split == sp) & (a.metric == m)].max())
                          for sp, m in a[["split", "metric"]].drop_duplicates().values}}


def curves(settings: dict) -> dict:
    """Each setting trained with dense Adam (cached), catch-up Adam, and torch's unfused dense Adam."""
    from onepoch.config import RunConfig
    from onepoch.runs.runner import run

    out = {}
    for name, changes in settings.items():
        frames, seconds = {}, {}
        for kind in ("dense", "catchup", "unfused"):
            t = time.perf_counter()
            config = RunConfig(**changes, emb_optimizer="catchup" if kind == "catchup" else "dense")
            with unfused_adam() if kind == "unfused" else contextlib.nullcontext():
                frames[kind] = run(config, cache=kind == "dense", progress=False)
            seconds[kind] = time.perf_counter() - t
        dense = frames["dense"]
        out[name] = {"config": changes, "evaluations": int(((dense.metric == "auc") & (dense.split == "test")).sum()),
                     "catchup_vs_dense": differences(dense, frames["catchup"]),
                     "unfused_dense_vs_dense": differences(dense, frames["unfused"]),
                     "seconds": seconds}
        c, u = out[name]["catchup_vs_dense"], out[name]["unfused_dense_vs_dense"]
        print(f"{name}: {out[name]['evaluations']} evaluations; max |AUC difference| catch-up vs dense "
              f"{c['max_abs_auc_difference']:.2e} (unfused vs fused dense Adam: {u['max_abs_auc_difference']:.2e}); "
              f"largest of any metric {max(c['by_metric'].values()):.2e} ({max(u['by_metric'].values()):.2e})",
              flush=True)
    return out


CURVES = {
    "beauty_quick": dict(dataset="beauty", epochs=2, max_users=4000, eval_every=20),
    "beauty_all_users": dict(dataset="beauty", epochs=1, eval_every=50),
    # the one-epoch chapter's main runs (full data, 10 epochs, its evaluation schedule), seed 0
    "beauty_book_main": dict(dataset="beauty", epochs=10, eval_schedule="boundaries"),
    "yelp_book_main": dict(dataset="yelp", epochs=10, eval_schedule="boundaries"),
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=["all", "curves", "speed"], default="all")
    ap.add_argument("--ids", type=int, nargs="+", default=[4_000_000, 22_000_000])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=50, help="steps timed per repetition (= steps between syncs)")
    ap.add_argument("--curves", nargs="+", default=list(CURVES), choices=list(CURVES))
    ap.add_argument("--out", default="catchup_adam")
    args = ap.parse_args(argv)
    load = [load_avg()]
    result = {"load_average": load, "age_steps": AGE}
    if args.part in ("all", "curves"):
        result["curves"] = curves({k: CURVES[k] for k in args.curves})
        load.append(load_avg())
    if args.part in ("all", "speed"):
        result["speed"] = {}
        for ids in args.ids:
            result["speed"][str(ids)] = speed(ids, args.reps, args.steps)
            load.append(load_avg())
            gc.collect()
    path = write_result(args.out, result)
    print(f"load average: {load}\nwrote {path}")


if __name__ == "__main__":
    main()
