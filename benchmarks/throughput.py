"""Training throughput of onepoch's trainer against the floor and two libraries.

    ONEPOCH_DATA=../shared/data .venv/bin/python benchmarks/throughput.py [--repeats 3] [--quick]

Paper settings: Embedding & MLP (emb 8, 200-80-1, Dice), dense Adam at lr 1e-3,
on Sports with the all-positions construction. Contenders, each timed on the
same training samples, interleaved in a shuffled order, repeated; medians:

- floor (bag / masked): the bare PyTorch loop -- pre-built tensors, masked mean
  pooling (one `embedding_bag` over non-zero ids, or lookup x mask / count),
  dense embeddings, `torch.optim.Adam(fused=True)`, no evaluation. The floor
  is the faster of the two in each repetition.
- bare, unfused Adam: the bag loop with `torch.optim.Adam()` (for reference);
  bare, lean Adam: the bag loop with onepoch's `lean_adam_step` (the same
  fused kernel without torch's per-step Python work; for reference, not part
  of the floor as the targets define it).
- onepoch: `onepoch.train.fit` at the paper's cadence: evaluation at step 0,
  every 50 steps and at the end, on a 30k-sample test set and a 30k-sample
  training subset (AUC, log loss, GAUC each time). Its evaluation time is
  measured inside the same run, so "onepoch, training only" and the
  evaluation share come from the same runs.
- DeepCTR-Torch, FuxiCTR: the same model in each library (see libraries.py),
  without evaluation (DeepCTR-Torch can only evaluate at epoch ends), and
  FuxiCTR once more evaluating every 50 steps on as many rows as onepoch
  (AUC and log loss; onepoch also computes GAUC).

Every contender runs on ONE torch thread. Samples per measurement: 20 x 50
batches at batch 128, 8 x 50 batches at batch 1024 (so evaluations are 20
and 8 per run plus the one at step 0). Writes results/throughput.json.
"""
from __future__ import annotations

import argparse
import random
import time

import torch

from common import (bare_loop, fmt_rate, load_avg, matmul_flops, median, model_flops_per_sample, one_thread,
                    packed, paper_data, subset, timed_evaluations, write_result)

import targets


def onepoch_fit(data, batch_size: int) -> tuple[float, float, int, float]:
    """Seconds of `fit` (one epoch over `data.train`), seconds inside evaluation,
    evaluations, and seconds of set-up (packing ids, preparing the evaluation
    sets, building the model: everything before the first evaluation)."""
    from onepoch.config import RunConfig
    from onepoch.train import trainer
    from onepoch.train.callbacks import Callback

    began = []

    class Mark(Callback):
        def on_train_begin(self, state):
            began.append(time.perf_counter())

    with timed_evaluations() as spent:
        cfg = RunConfig(dataset="sports", construction="positions", batch_size=batch_size, epochs=1,
                        eval_every=50, train_eval_size=30_000)
        start = time.perf_counter()
        trainer.fit(cfg, data, callbacks=[Mark()], progress=False)
        total = time.perf_counter() - start
    return total, spent[0], spent[1] // 2, began[0] - start  # two eval sets per evaluation


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batches", type=int, nargs="+", default=[128, 1024])
    ap.add_argument("--quick", action="store_true", help="fewer samples (a smoke test, not a measurement)")
    ap.add_argument("--skip-libraries", action="store_true")
    ap.add_argument("--blocks", type=int, nargs=2, metavar=("SMALL", "LARGE"), default=[20, 8],
                    help="50-step blocks per measurement at batch <= 256 and above (fewer on a loaded machine)")
    ap.add_argument("--out", default="throughput")
    args = ap.parse_args(argv)
    one_thread()
    from libraries import deepctr_fit, fuxictr_fit

    full = paper_data()
    n_full = len(full.train["label"])
    flops = model_flops_per_sample(ids_per_sample=3 + float((full.train["hist_item_ids"] != 0).sum(1).float().mean() * 2))
    peak = [matmul_flops()]
    load = [load_avg()]
    results = {}
    for bs in args.batches:
        blocks = args.blocks[0] if bs <= 256 else args.blocks[1]
        if args.quick:
            blocks = 2
        n = min(blocks * 50 * bs, n_full - n_full % bs)
        data = paper_data(train_samples=n)
        ids, y = packed(data.train), data.train["label"].float()
        valid = subset(data.test, torch.arange(1024))
        steps = n // bs
        runs: dict[str, list[float]] = {}
        extra: dict[str, list[float]] = {"onepoch_eval_s": [], "onepoch_train_s": [], "onepoch_evals": [],
                                         "onepoch_setup_s": []}
        contenders = {
            "floor_bag": lambda: bare_loop(ids, y, data.vocab_size, bs, steps, pooling="bag"),
            "floor_masked": lambda: bare_loop(ids, y, data.vocab_size, bs, steps, pooling="masked"),
            "bare_unfused_adam": lambda: bare_loop(ids, y, data.vocab_size, bs, steps, fused=False),
            # reference, not part of the floor: the bag loop with onepoch's lean fused-Adam step
            "bare_lean_adam": lambda: bare_loop(ids, y, data.vocab_size, bs, steps, lean=True),
            "onepoch": None,
        }
        if not args.skip_libraries:
            contenders["deepctr_torch"] = lambda: deepctr_fit(data.train, data.vocab_size, bs)
            contenders["fuxictr"] = lambda: fuxictr_fit(data.train, valid, data.vocab_size, bs)
            # the same cadence as onepoch: every 50 steps on as many rows (test + training subset)
            both = {k: torch.cat([data.test[k], data.train[k][:30_000]]) for k in data.test}
            contenders["fuxictr_with_eval"] = lambda: fuxictr_fit(data.train, both, data.vocab_size, bs,
                                                                  eval_steps=50)
        order = list(contenders)
        rng = random.Random(bs)
        for rep in range(args.repeats):
            rng.shuffle(order)
            for name in order:
                if name == "onepoch":
                    total, ev, k, setup = onepoch_fit(data, bs)
                    extra["onepoch_eval_s"].append(ev)
                    extra["onepoch_train_s"].append(total - ev - setup)
                    extra["onepoch_evals"].append(k)
                    extra["onepoch_setup_s"].append(setup)
                    seconds = total
                    runs.setdefault("onepoch_training_only", []).append(n / (total - ev - setup))
                else:
                    seconds = contenders[name]()
                runs.setdefault(name, []).append(n / seconds)
                print(f"  batch {bs} rep {rep + 1}: {name:22s} {fmt_rate(n / seconds)} samples/s", flush=True)
            load.append(load_avg())
        floor = [max(a, b) for a, b in zip(runs["floor_bag"], runs["floor_masked"])]
        runs["floor"] = floor
        # per-repetition ratios (same repetition = same machine load), then medians
        ratio = {k: median([v / f for v, f in zip(vals, floor)]) for k, vals in runs.items()}
        evals = extra["onepoch_evals"][0]
        blocks_run = steps / 50
        share = [e / t for e, t in zip(extra["onepoch_eval_s"], extra["onepoch_train_s"])]
        # steady state: one evaluation per 50 steps (the run has one more, at step 0)
        steady = [(e / evals) / (t / blocks_run) for e, t in zip(extra["onepoch_eval_s"], extra["onepoch_train_s"])]
        vs = {lib: [o / x for o, x in zip(runs["onepoch"], runs[lib])]
              for lib in ("deepctr_torch", "fuxictr", "fuxictr_with_eval") if lib in runs}
        results[str(bs)] = {
            "samples": n, "steps": steps, "evaluations": evals,
            "onepoch_vs": {lib: median(v) for lib, v in vs.items()}, "onepoch_vs_all": vs,
            "samples_per_s": {k: median(v) for k, v in runs.items()},
            "samples_per_s_all": runs,
            "ratio_to_floor": ratio,
            "eval_seconds": median(extra["onepoch_eval_s"]), "train_seconds": median(extra["onepoch_train_s"]),
            "setup_seconds": median(extra["onepoch_setup_s"]),
            "eval_share": median(share), "eval_share_steady": median(steady),
            "eval_ms_per_evaluation": 1000 * median(extra["onepoch_eval_s"]) / evals,
            "eval_rows": len(data.test["label"]) + min(30_000, n),
        }
    peak.append(matmul_flops())
    peak_flops = median(peak)
    summary = {
        "data": {"dataset": "sports", "construction": "positions", "train_samples_full": n_full,
                 "test_rows": len(full.test["label"]), "eval_rows": 60_000},
        "model_flops_per_sample": flops, "matmul_flops_per_s": peak_flops, "matmul_flops_all": peak,
        "compute_limit_samples_per_s": peak_flops / flops["training"],
        "load_average": load, "repeats": args.repeats, "quick": args.quick, "blocks": args.blocks,
        "targets": {"onepoch_to_floor": targets.ONEPOCH_TO_FLOOR, "eval_share": targets.EVAL_SHARE,
                    "eval_ms_idle": targets.EVAL_MS_IDLE,
                    "libraries_every_repetition": targets.LIBRARIES_EVERY_REPETITION},
        "batches": results,
    }
    path = write_result(args.out, summary)
    print()
    print(f"compute limit: {flops['training'] / 1e3:.0f} kFLOP per training sample, matmul "
          f"{peak_flops / 1e9:.1f} GFLOP/s on one thread -> {fmt_rate(summary['compute_limit_samples_per_s'])} samples/s")
    for bs, r in results.items():
        print(f"batch {bs} ({r['samples']} samples, {r['evaluations']} evaluations of {r['eval_rows']} rows):")
        for k in sorted(r["samples_per_s"], key=lambda k: -r["samples_per_s"][k]):
            print(f"  {k:22s} {fmt_rate(r['samples_per_s'][k]):>8s} samples/s  {r['ratio_to_floor'][k]:.2f}x floor  "
                  f"{r['samples_per_s'][k] / summary['compute_limit_samples_per_s']:.1%} of compute limit")
        want = targets.ONEPOCH_TO_FLOOR.get(bs, max(targets.ONEPOCH_TO_FLOOR.values()))
        ok = r["ratio_to_floor"]["onepoch"] >= want
        print(f"  onepoch / floor = {r['ratio_to_floor']['onepoch']:.2f} (target >= {want}: "
              f"{'met' if ok else 'MISSED'}); evaluation = {r['eval_share']:.0%} of training time "
              f"(steady state {r['eval_share_steady']:.0%}, {r['eval_ms_per_evaluation']:.0f} ms per evaluation; "
              f"target <= {targets.EVAL_SHARE:.0%}: {'met' if r['eval_share_steady'] <= targets.EVAL_SHARE else 'MISSED'})")
        for lib, x in r["onepoch_vs"].items():
            wins = sum(v > 1 for v in r["onepoch_vs_all"][lib])
            every = wins == len(r["onepoch_vs_all"][lib])
            print(f"  onepoch / {lib} = {x:.2f} (median of per-repetition ratios; onepoch faster in {wins} of "
                  f"{len(r['onepoch_vs_all'][lib])}; target: every repetition: {'met' if every else 'MISSED'})")
    print(f"load average during the run: {load}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
