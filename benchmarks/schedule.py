"""What the book's evaluation schedule saves: a chapter's runs with the paper's
cadence against the same runs with the chapter's schedule, interleaved.

    ONEPOCH_DATA=../shared/data .venv/bin/python benchmarks/schedule.py [--repeats 2]

Two chapter settings, each trained as the chapter trains it (real data, the
"last" construction, batch 128, evaluation every 50 steps):

- one_epoch: Sports, 10 epochs, training-sample curves shown
  (`eval_schedule="boundaries"` against "paper");
- model_factors: Sports, 4 epochs, no training-sample curves
  (`eval_schedule="boundaries", eval_train=False` against "paper" with them).

Each run's evaluation time is measured inside it, so a run's time splits
into set-up, training steps and evaluation; the curves of both schedules are
checked to agree at the schedule's steps. On a shared machine the load moves
run times by tens of per cent between runs, so besides the measured ratio the
script gives one from each paper-cadence run's own parts: its training and
set-up time, plus its evaluation time scaled by the rows the book's schedule
evaluates (same rows, same cost per row) -- the ratio the load cannot move.

With `--baseline REF` (default: `targets.SCHEDULE_BASELINE_REF`, the code
when the schedule's target was set) the same paper-cadence runs are also
trained by the package as it was at git REF, in a subprocess interleaved
with the others, timed around its `fit` only: the book's runs against "the
same runs" as they cost then. Its curves are compared with this code's
paper-cadence curves, to show they are the same runs. `--baseline none`
skips it. Writes results/schedule.json.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from common import REPO, load_avg, median, one_thread, timed_evaluations, write_result

import targets

SETTINGS = {
    "one_epoch": (dict(dataset="sports", epochs=10), dict(eval_schedule="boundaries")),
    "model_factors": (dict(dataset="sports", epochs=4), dict(eval_schedule="boundaries", eval_train=False)),
}


def timed_fit(config, data):
    from onepoch.train import trainer

    with timed_evaluations() as spent:
        start = time.perf_counter()
        frame = trainer.fit(config, data, progress=False)
        total = time.perf_counter() - start
    return frame, total, spent[0], spent[1]


# Run by the baseline's own Python. `common` puts this checkout on the path when imported, so the old
# package goes in front of it afterwards; `timed_evaluations` imports the trainer only when entered,
# i.e. the old one. Prints the fit's seconds and writes the curves as CSV (read back by this process,
# which wrote nothing else there).
BASELINE_FIT = """
import json, sys, time
sys.path.insert(0, sys.argv[4])
from common import one_thread, timed_evaluations
sys.path.insert(0, sys.argv[1])
one_thread()
from onepoch.config import RunConfig
from onepoch.runs.runner import load_data
from onepoch.train import trainer
assert trainer.__file__.startswith(sys.argv[1]), trainer.__file__
config = RunConfig(**json.loads(sys.argv[2]))
data = load_data(config)
with timed_evaluations() as spent:
    start = time.perf_counter()
    frame = trainer.fit(config, data, progress=False)
    seconds = time.perf_counter() - start
frame.to_csv(sys.argv[3], index=False)
print(json.dumps({"seconds": seconds, "eval_seconds": spent[0]}))
"""


def baseline_package(ref: str, into: Path) -> str:
    """The `onepoch` package as it was at git `ref`, extracted under `into`; returns the commit."""
    commit = subprocess.run(["git", "rev-parse", "--short", ref], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.strip()
    archive = subprocess.run(["git", "archive", commit, "onepoch"], cwd=REPO, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return commit


def baseline_fit(package: Path, common: dict, curves: Path) -> tuple[float, float]:
    """Seconds of the baseline package's `fit` for the paper-cadence run of `common`, and of its
    evaluations within it."""
    env = {**os.environ, "ONEPOCH_CACHE": str(package / "cache")}  # its prepared data apart from ours
    out = subprocess.run([sys.executable, "-c", BASELINE_FIT, str(package), json.dumps(common), str(curves),
                          str(Path(__file__).resolve().parent)],
                         capture_output=True, text=True, env=env, cwd=package)
    if out.returncode:
        raise SystemExit(f"the baseline's run failed:\n{out.stderr[-3000:]}")
    timing = json.loads(out.stdout.strip().splitlines()[-1])
    return timing["seconds"], timing["eval_seconds"]


def same_curves(ours, theirs) -> bool:
    """Whether two curves frames hold the same (step, split, metric) values, to the bit."""
    import pandas as pd

    key = ["step", "split", "metric"]
    a, b = (f[key + ["value"]].astype({"split": str, "metric": str}).sort_values(key).reset_index(drop=True)
            for f in (ours, theirs))
    return len(a) == len(b) and bool((a[key] == b[key]).all().all()) and bool(
        pd.Series(a["value"].to_numpy() == b["value"].to_numpy()).all())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--chapters", nargs="+", default=list(SETTINGS))
    ap.add_argument("--baseline", default=targets.SCHEDULE_BASELINE_REF,
                    help="git ref of the code to time the paper-cadence runs with as well, or 'none'")
    args = ap.parse_args(argv)
    one_thread()
    workdir = Path(tempfile.mkdtemp(prefix="onepoch-schedule-"))
    baseline = None
    if args.baseline != "none":
        baseline = baseline_package(args.baseline, workdir)
        print(f"baseline: the package at {baseline}", flush=True)
    from onepoch.config import RunConfig
    from onepoch.runs.runner import load_data
    from onepoch.train.schedule import thin

    load = [load_avg()]
    out = {}
    for chapter in args.chapters:
        common, book = SETTINGS[chapter]
        configs = {"paper": RunConfig(**common), "book": RunConfig(**common, **book)}
        data = load_data(configs["paper"])
        steps_per_epoch = len(data.train["label"]) // configs["paper"].batch_size
        times = {k: [] for k in configs}
        evals = {k: [] for k in configs}
        frames = {}
        order = list(configs) + (["baseline"] if baseline else [])
        if baseline:
            times["baseline"], evals["baseline"] = [], []
        rng = random.Random(0)
        for rep in range(args.repeats):
            rng.shuffle(order)
            for name in order:
                if name == "baseline":
                    total, ev = baseline_fit(workdir, common, workdir / "curves.csv")
                    times[name].append(total)
                    evals[name].append(ev)
                    print(f"  {chapter} rep {rep + 1}: {name:8s} {total:7.1f} s, of which evaluation {ev:6.1f} s "
                          f"(the package at {baseline}, paper cadence)", flush=True)
                    continue
                frame, total, ev, calls = timed_fit(configs[name], data)
                frames[name] = frame
                times[name].append(total)
                evals[name].append(ev)
                print(f"  {chapter} rep {rep + 1}: {name:6s} {total:7.1f} s, of which evaluation {ev:6.1f} s "
                      f"({calls} split evaluations)", flush=True)
            load.append(load_avg())
        expected = thin(frames["paper"], configs["book"], steps_per_epoch)
        if not configs["book"].eval_train:
            expected = expected[expected.split == "test"].reset_index(drop=True)
        same = expected.equals(frames["book"])
        ratio = [b / p for b, p in zip(times["book"], times["paper"])]
        base = {}
        if baseline:
            import pandas as pd

            ratio_base = [b / p for b, p in zip(times["book"], times["baseline"])]
            base = {"baseline": {"commit": baseline, "seconds": times.pop("baseline"),
                                 "eval_seconds": evals.pop("baseline"),
                                 "time_ratio_all": ratio_base, "time_ratio": median(ratio_base),
                                 "same_curves_as_paper_run": same_curves(frames["paper"],
                                                                         pd.read_csv(workdir / "curves.csv"))}}
        rows = {name: sum(int(f[f.split == split]["step"].nunique()) * n
                          for split, n in (("train", min(configs["paper"].train_eval_size, len(data.train["label"]))),
                                           ("test", len(data.test["label"]))))
                for name, f in frames.items()}
        kept = rows["book"] / rows["paper"]  # share of the evaluated rows the book's schedule keeps
        from_parts = [(t - e + e * kept) / t for t, e in zip(times["paper"], evals["paper"])]
        out[chapter] = {
            "settings": {"common": common, "book": book}, "steps_per_epoch": steps_per_epoch,
            "evaluations": {k: int(f["step"].nunique()) for k, f in frames.items()},
            "seconds": times, "eval_seconds": evals,
            "time_ratio_all": ratio, "time_ratio": median(ratio), "evaluated_rows": rows,
            "time_ratio_from_parts_all": from_parts, "time_ratio_from_parts": median(from_parts),
            "eval_share_paper": median([e / t for e, t in zip(evals["paper"], times["paper"])]),
            "curves_identical_at_schedule_steps": bool(same),
            **base,
        }
        print(f"{chapter}: book schedule / paper cadence = {median(ratio):.2f} (per repetition "
              f"{', '.join(f'{r:.2f}' for r in ratio)}); from each paper run's parts {median(from_parts):.2f}; "
              f"evaluations {out[chapter]['evaluations']}, rows evaluated {rows}; "
              f"curves identical at the schedule's steps: {same}")
        if base:
            b = base["baseline"]
            print(f"{chapter}: book schedule / paper cadence with the code at {baseline} = {b['time_ratio']:.2f} "
                  f"(per repetition {', '.join(f'{r:.2f}' for r in b['time_ratio_all'])}); its curves are this "
                  f"code's paper-cadence curves: {b['same_curves_as_paper_run']}")
    result = {"targets": {"time_ratio": targets.SCHEDULE_TIME_RATIO}, "load_average": load,
              "repeats": args.repeats, "chapters": out}
    print(f"load average during the run: {load}")
    print(f"wrote {write_result('schedule', result)}")


if __name__ == "__main__":
    main()
