"""Scale: one epoch on a Taobao-sized synthetic data set (1M samples, 4M IDs,
history length 50), and what dense Adam over a 4M-row table costs.

    .venv/bin/python benchmarks/scale.py            # both parts, ~10 minutes
    .venv/bin/python benchmarks/scale.py --part adam

Part "epoch" trains `onepoch.train.fit` for one epoch (batch 1024, and batch
128 for its first `--steps-128` steps, extrapolated to the epoch), evaluating
at the paper's cadence (every 50 steps, 30k test rows + 30k training rows),
each in a fresh child process whose peak resident memory (including making
the data) is read from the kernel. Part "adam" times the pieces of one
training step on the 4M-row table: forward + backward, the dense gradient,
the optimizer step, and the alternatives (two threads, lazy SparseAdam,
batch 1024). Writes results/scale.json; the production-size estimate (10M
samples, 22M IDs) is computed from the measured per-sample and per-row
costs.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import time

import torch
import torch.nn.functional as F

from common import fmt_rate, load_avg, median, one_thread, timed_evaluations, write_result

from targets import SCALE_EPOCH_SECONDS as TARGET_SECONDS, SCALE_PEAK_GIB as TARGET_GIB  # noqa: E402
PRODUCTION = {"samples": 10_000_000, "ids": 22_000_000}


class _Stop(Exception):
    pass


def _epoch_child(conn, samples, ids, hist_len, batch_size, max_steps, eval_every):
    one_thread()
    from onepoch.config import RunConfig
    from onepoch.train import trainer
    from onepoch.train.callbacks import Callback

    from synthetic import describe, make_data

    t0 = time.perf_counter()
    data = make_data(samples=samples, ids=ids, hist_len=hist_len)
    made = time.perf_counter() - t0
    rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    marks = {}

    class Watch(Callback):
        def on_train_begin(self, state):
            marks["begin"] = time.perf_counter()

        def on_step_end(self, state):
            if max_steps and state.step >= max_steps:
                marks["stopped_at"] = state.step
                raise _Stop

    eval_every = min(eval_every, max(1, samples // batch_size - 1))  # small smoke runs
    cfg = RunConfig(batch_size=batch_size, epochs=1, eval_every=eval_every, train_eval_size=30_000,
                    construction="positions")
    start = time.perf_counter()
    with timed_evaluations() as spent:
        try:
            trainer.fit(cfg, data, callbacks=[Watch()], progress=False)
        except _Stop:
            pass
    total = time.perf_counter() - start
    steps = marks.get("stopped_at", samples // batch_size)
    conn.send({
        "batch_size": batch_size, "samples": samples, "steps_run": steps, "steps_per_epoch": samples // batch_size,
        "make_data_s": made, "fit_s": total, "setup_s": marks["begin"] - start, "eval_s": spent[0],
        "train_s": total - spent[0] - (marks["begin"] - start), "peak_rss_gib": resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 2**20, "rss_after_data_gib": rss_data, "data": describe(data),
    })
    conn.close()


def run_epoch(samples, ids, hist_len, batch_size, max_steps=0, eval_every=50) -> dict:
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_epoch_child, args=(send, samples, ids, hist_len, batch_size, max_steps, eval_every))
    p.start()
    out = recv.recv()
    p.join()
    steps, full = out["steps_run"], out["steps_per_epoch"]
    # one epoch = set-up + every step + (full // 50 + 2) evaluations
    evals_run = steps // eval_every + 1 + (steps == full)
    evals_full = full // eval_every + 1 + (full % eval_every != 0)
    out["evaluations_run"] = evals_run
    out["epoch_s"] = (out["setup_s"] + out["train_s"] * full / steps + out["eval_s"] / evals_run * evals_full)
    out["extrapolated"] = steps < full
    out["train_samples_per_s"] = steps * batch_size / out["train_s"]
    out["eval_s_per_evaluation"] = out["eval_s"] / evals_run
    return out


def _time(fn, reps=5):
    fn()
    ts = []
    for _ in range(reps):
        s = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - s)
    return median(ts)


def adam_costs(ids: int = 4_000_000, dim: int = 8, reps: int = 5) -> dict:
    """Per-step costs on an `ids` x `dim` table with the paper's MLP, one thread unless said."""
    from onepoch.models import FieldLayout
    from onepoch.models.embedding_mlp import EmbeddingMLP

    from synthetic import make_data

    one_thread()
    data = make_data(samples=20_480, ids=ids, test=10)
    layout = FieldLayout.of(data.train, data.fields)
    packed = layout.pack(data.train)
    y = data.train["label"]
    out = {"table_rows": ids + 2, "table_mb": (ids + 2) * dim * 4 / 2**20}
    from onepoch.train.trainer import large_blocks_on_heap

    for bs in (128, 1024):
        torch.manual_seed(0)
        model = EmbeddingMLP(data.vocab_size, layout)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
        batch, target = packed[:bs], y[:bs]

        def fwd_bwd():
            opt.zero_grad(set_to_none=True)
            F.binary_cross_entropy_with_logits(model(batch), target).backward()

        t_fb_mmap = _time(fwd_bwd, reps)  # glibc's default: a 128 MB gradient on fresh pages at every step
        with large_blocks_on_heap(model.embedding.table.weight.numel() * 4):  # as the trainer does
            t_fb = _time(fwd_bwd, reps)
            fwd_bwd()
            t_opt = _time(opt.step, reps)
            torch.set_num_threads(2)
            t_opt2 = _time(opt.step, reps)
            t_fb2 = _time(fwd_bwd, reps)
            one_thread()
        # lazy Adam (torch.optim.SparseAdam): moves only the rows in the batch -- NOT the paper's dense Adam
        torch.manual_seed(0)
        sparse_model = EmbeddingMLP(data.vocab_size, layout)
        sparse_model.embedding.table.sparse = True
        emb = [sparse_model.embedding.table.weight]
        rest = [p for n, p in sparse_model.named_parameters() if not n.startswith("embedding")]
        sopt = torch.optim.SparseAdam(emb, lr=1e-3)
        dopt = torch.optim.Adam(rest, lr=1e-3, fused=True)

        def sparse_step():
            sopt.zero_grad(set_to_none=True)
            dopt.zero_grad(set_to_none=True)
            bags = layout.bags(batch)
            pooled = F.embedding_bag(bags.ids, emb[0], bags.offsets, mode="mean", sparse=True)
            logits = sparse_model.mlp(pooled.view(bs, -1)).squeeze(-1)
            F.binary_cross_entropy_with_logits(logits, target).backward()
            sopt.step()
            dopt.step()

        t_sparse = _time(sparse_step, reps)
        step = t_fb + t_opt
        out[str(bs)] = {
            "forward_backward_s": t_fb, "forward_backward_fresh_pages_s": t_fb_mmap,
            "adam_step_s": t_opt, "adam_step_2threads_s": t_opt2,
            "forward_backward_2threads_s": t_fb2, "step_s": step, "adam_share": t_opt / step,
            "samples_per_s": bs / step, "samples_per_s_2threads": bs / (t_fb2 + t_opt2),
            "sparse_adam_step_s": t_sparse, "samples_per_s_sparse_adam": bs / t_sparse,
        }
    return out


def production_estimate(epoch: dict, adam: dict, batch_size: int) -> dict:
    """10M samples, 22M IDs from the measured costs: the per-step part that grows with
    the table (dense gradient + Adam, per row) and the per-sample part (the rest)."""
    a = adam[str(batch_size)]
    rows_now = adam["table_rows"]
    per_row_step = a["adam_step_s"] / rows_now
    # forward/backward also writes the dense gradient (rows x dim); split it by measuring at 128 and 1024:
    fb128, fb1024 = adam["128"]["forward_backward_s"], adam["1024"]["forward_backward_s"]
    per_sample_fb = max((fb1024 - fb128) / (1024 - 128), 0.0)
    fixed_fb = max(fb128 - 128 * per_sample_fb, 0.0)  # mostly the dense gradient's zero-fill and scatter
    steps = PRODUCTION["samples"] // batch_size
    scale_rows = (PRODUCTION["ids"] + 2) / rows_now
    step_s = a["adam_step_s"] * scale_rows + fixed_fb * scale_rows + per_sample_fb * batch_size
    train_s = steps * step_s
    evals = steps // 50 + 2
    eval_s = evals * epoch["eval_s_per_evaluation"]
    mem = {
        "table_param_grad_adam_gib": 4 * (PRODUCTION["ids"] + 2) * 8 * 4 / 2**30,
        "ids_int64_packed_gib": PRODUCTION["samples"] * 103 * 8 / 2**30,
        "source_tensors_int64_gib": PRODUCTION["samples"] * 103 * 8 / 2**30,
    }
    mem["total_gib_estimate"] = sum(mem.values()) + 0.5
    return {"batch_size": batch_size, "steps": steps, "step_s": step_s, "per_row_adam_s": per_row_step,
            "per_sample_forward_backward_s": per_sample_fb, "fixed_forward_backward_s_now": fixed_fb,
            "train_hours": train_s / 3600, "eval_hours": eval_s / 3600, "hours": (train_s + eval_s) / 3600,
            "memory": mem}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=["all", "epoch", "adam"], default="all")
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--ids", type=int, default=4_000_000)
    ap.add_argument("--hist-len", type=int, default=50)
    ap.add_argument("--steps-128", type=int, default=600, help="steps run at batch 128 (0: the whole epoch)")
    ap.add_argument("--out", default="scale")
    args = ap.parse_args(argv)
    load = [load_avg()]
    result = {"targets": {"epoch_seconds": TARGET_SECONDS, "peak_gib": TARGET_GIB}, "load_average": load,
              "setting": {"samples": args.samples, "ids": args.ids, "hist_len": args.hist_len}}
    if args.part in ("all", "adam"):
        result["adam"] = adam_costs(args.ids)
        load.append(load_avg())
        for bs in ("128", "1024"):
            a = result["adam"][bs]
            print(f"batch {bs}: step {a['step_s'] * 1e3:.1f} ms = forward+backward {a['forward_backward_s'] * 1e3:.1f} "
                  f"(on fresh pages, glibc's default: {a['forward_backward_fresh_pages_s'] * 1e3:.1f}) "
                  f"+ Adam {a['adam_step_s'] * 1e3:.1f} ms (Adam {a['adam_share']:.0%} of the step); Adam on 2 threads "
                  f"{a['adam_step_2threads_s'] * 1e3:.1f} ms; lazy SparseAdam step {a['sparse_adam_step_s'] * 1e3:.1f} ms "
                  f"-> {fmt_rate(a['samples_per_s'])} vs {fmt_rate(a['samples_per_s_sparse_adam'])} samples/s")
    if args.part in ("all", "epoch"):
        epochs = {}
        for bs, steps in ((1024, 0), (128, args.steps_128)):
            e = run_epoch(args.samples, args.ids, args.hist_len, bs, max_steps=steps)
            epochs[str(bs)] = e
            load.append(load_avg())
            print(f"batch {bs}: one epoch {'~' if e['extrapolated'] else ''}{e['epoch_s']:.0f} s "
                  f"({'extrapolated from ' + str(e['steps_run']) + ' of ' if e['extrapolated'] else ''}"
                  f"{e['steps_per_epoch']} steps; training {fmt_rate(e['train_samples_per_s'])} samples/s, "
                  f"{e['eval_s_per_evaluation'] * 1e3:.0f} ms per evaluation, set-up {e['setup_s']:.1f} s), "
                  f"peak memory {e['peak_rss_gib']:.2f} GiB (data made in {e['make_data_s']:.0f} s, "
                  f"{e['rss_after_data_gib']:.2f} GiB after)")
            print(json.dumps(e["data"]))
        result["epoch"] = epochs
        if "adam" in result:
            result["production"] = {bs: production_estimate(epochs[bs], result["adam"], int(bs)) for bs in epochs}
            for bs, p in result["production"].items():
                print(f"production size (10M samples, 22M IDs) at batch {bs}: ~{p['hours']:.1f} h per epoch on one "
                      f"thread ({p['step_s'] * 1e3:.0f} ms per step), ~{p['memory']['total_gib_estimate']:.0f} GiB")
    path = write_result(args.out, result)
    print(f"load average: {load}\nwrote {path}")


if __name__ == "__main__":
    main()
