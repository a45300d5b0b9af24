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
Writes results/schedule.json.
"""
from __future__ import annotations

import argparse
import random
import time

from common import load_avg, median, one_thread, timed_evaluations, write_result

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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--chapters", nargs="+", default=list(SETTINGS))
    args = ap.parse_args(argv)
    one_thread()
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
        order = list(configs)
        rng = random.Random(0)
        for rep in range(args.repeats):
            rng.shuffle(order)
            for name in order:
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
        }
        print(f"{chapter}: book schedule / paper cadence = {median(ratio):.2f} (per repetition "
              f"{', '.join(f'{r:.2f}' for r in ratio)}); from each paper run's parts {median(from_parts):.2f}; "
              f"evaluations {out[chapter]['evaluations']}, rows evaluated {rows}; "
              f"curves identical at the schedule's steps: {same}")
    result = {"targets": {"time_ratio": targets.SCHEDULE_TIME_RATIO}, "load_average": load,
              "repeats": args.repeats, "chapters": out}
    print(f"load average during the run: {load}")
    print(f"wrote {write_result('schedule', result)}")


if __name__ == "__main__":
    main()
