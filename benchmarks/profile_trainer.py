"""Where the time goes: torch-profiler tables of one evaluation (before and
after the evaluation speed-ups) and of training steps.

    ONEPOCH_DATA=../shared/data .venv/bin/python benchmarks/profile_trainer.py [--steps 300]

"Before" evaluates as the trainer did before (one forward pass per 32,768
rows, pooling input rebuilt at every evaluation); "after" is the current
`EvalSet` (pooling input prepared once, 1,024-row pieces). Both give the same
bits. Writes results/profile.json (the top operators of each, in ms of self
CPU time) and prints the tables. For a Python-level view of a whole run:
`py-spy record -o run.svg -- .venv/bin/python benchmarks/throughput.py --quick`.
"""
from __future__ import annotations

import argparse
import time

from torch.profiler import profile

from common import load_avg, median, one_thread, paper_data, paper_model, write_result


def top(prof, n: int = 12) -> list[dict]:
    rows = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:n]
    return [{"op": e.key, "self_ms": e.self_cpu_time_total / 1e3, "calls": e.count} for e in rows]


def total_ms(prof) -> float:
    return sum(e.self_cpu_time_total for e in prof.key_averages()) / 1e3


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args(argv)
    one_thread()
    from onepoch.config import RunConfig
    from onepoch.train import evaluate
    from onepoch.train.evaluate import EvalSet, train_sample_index
    from onepoch.train.trainer import fit

    d, cfg, layout, model = paper_model()
    packed = layout.pack(d.train)
    s = train_sample_index(len(packed), 30_000)

    def sets(with_layout):
        lay = layout if with_layout else None
        return [EvalSet("train", packed[s], d.train["label"][s], d.train["user_raw"][s], lay),
                EvalSet("test", layout.pack(d.test), d.test["label"], d.test["user_raw"], lay)]

    out = {"load_average": [load_avg()]}
    for name, with_layout, chunk in (("eval_before", False, 32_768), ("eval_after", True, evaluate.EVAL_CHUNK)):
        saved = evaluate.EVAL_CHUNK
        evaluate.EVAL_CHUNK = chunk
        try:
            es = sets(with_layout)
            for e in es:
                e.scores(model)  # warm-up (and preparation, done once per run)
            wall = []
            for _ in range(5):
                start = time.perf_counter()
                for e in es:
                    e.scores(model)
                wall.append(time.perf_counter() - start)
            with profile() as prof:
                for e in es:
                    e.scores(model)
        finally:
            evaluate.EVAL_CHUNK = saved
        out[name] = {"rows": sum(len(e.labels) for e in es), "wall_ms": 1e3 * median(wall),
                     "profiled_ms": total_ms(prof), "top": top(prof)}
        print(f"== {name}: {out[name]['rows']} rows, {out[name]['wall_ms']:.0f} ms wall (median of 5)")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))
    n = args.steps * 128
    small = paper_data(train_samples=n, eval_size=1000)
    step_cfg = RunConfig(construction="positions", batch_size=128, epochs=1, eval_every=args.steps,
                         train_eval_size=1000)  # evaluations at step 0 and the end only, on 1,000 rows each
    fit(step_cfg, small, progress=False)
    with profile() as prof:
        fit(step_cfg, small, progress=False)
    out["training_steps"] = {"steps": args.steps, "batch_size": 128, "profiled_ms": total_ms(prof),
                             "ms_per_step": total_ms(prof) / args.steps, "top": top(prof, 16)}
    print(f"== {args.steps} training steps at batch 128 (no evaluation): "
          f"{out['training_steps']['ms_per_step']:.2f} ms per step under the profiler")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=16))
    out["load_average"].append(load_avg())
    print(f"eval: {out['eval_before']['wall_ms']:.0f} ms -> {out['eval_after']['wall_ms']:.0f} ms per evaluation "
          f"({out['eval_before']['wall_ms'] / out['eval_after']['wall_ms']:.1f}x); load average {out['load_average']}")
    print(f"wrote {write_result('profile', out)}")


if __name__ == "__main__":
    main()
