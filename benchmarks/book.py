"""The book's build time against the floor, and what a rebuild costs.

    ONEPOCH_DATA=../shared/data .venv/bin/python benchmarks/book.py --mode quick   # ~10 min
    ONEPOCH_DATA=../shared/data .venv/bin/python benchmarks/book.py --mode full    # hours
    .venv/bin/python benchmarks/book.py --mode full --measured-build _build --cache CACHE
        # no build: reads a finished build's execution records and its run cache (a full book
        # trained in pieces, e.g. over several sittings) and measures only the floor
    .venv/bin/python benchmarks/book.py --mode full --measured-build _build --cache CACHE --sittings LOG
        # a cold build run by cold_build.py, in one sitting or several: its time is measured
        # (the sittings added up), not estimated

On a copy of the book (config, toc, chapters) in a temporary folder, with an
EMPTY run cache (the data cache is shared: building the samples is not
training), it measures:

1. a cold build (every run trained; chapters' sweeps use ONEPOCH_JOBS
   workers, default both cores), with each chapter's execution time;
2. the training samples of every run it trained (last step x batch size, read
   from the run cache) and the time the bare-loop floor needs for them: the
   floor's samples/s measured in this same process (batch 128 and 1024,
   before and after the build; other batch sizes interpolated), divided over
   the cores -- the book's target is <= 1.5x that;
3. a second build with nothing changed;
4. a build after a prose-only change (one markdown cell of one chapter):
   which chapters re-execute and how many runs train (should be none);
5. one chapter re-run with one changed parameter (`run_chapter(..., {lr})`):
   how many of its runs train (only those whose configuration changed).

Writes results/book_<mode>.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

from common import REPO, bare_loop, load_avg, median, one_thread, packed, paper_data, write_result

from targets import BOOK_FLOOR_RATIO as TARGET_FLOOR_RATIO, BOOK_PROSE_SECONDS as TARGET_PROSE_SECONDS  # noqa: E402
from targets import BOOK_SECONDS as TARGET_SECONDS  # noqa: E402


def floor_rates(samples: int = 51_200) -> dict[int, float]:
    """The floor's training samples/s (one thread) at batch 128 and 1024, now."""
    one_thread()
    d = paper_data(train_samples=samples)
    ids, y = packed(d.train), d.train["label"].float()
    return {bs: samples / bare_loop(ids, y, d.vocab_size, bs, samples // bs) for bs in (128, 1024)}


def rate_at(rates: dict[int, float], batch: int) -> float:
    """Log-log interpolation between the measured batch sizes (clamped outside)."""
    (b0, r0), (b1, r1) = sorted(rates.items())
    t = min(max((math.log(batch) - math.log(b0)) / (math.log(b1) - math.log(b0)), 0.0), 1.0)
    return math.exp(math.log(r0) + t * (math.log(r1) - math.log(r0)))


def cached_runs(cache: Path) -> dict[str, dict]:
    from onepoch.runs.cache import ResultCache

    runs = {}
    store = ResultCache(cache / "runs")
    for key in store.keys():
        entry = store.read(key)  # checked data (Parquet + JSON), never unpickled
        cfg, frame = entry["config"], entry["frame"]
        runs[key] = {"batch_size": cfg["batch_size"], "dataset": cfg["dataset"], "model": cfg["model"],
                           "samples": int(frame["step"].max()) * cfg["batch_size"],
                           "seconds": float(entry.get("seconds", float("nan")))}
    return runs


def records(build: Path) -> dict[str, dict]:
    return {p.name[: -len(".run.json")]: json.loads(p.read_text()) for p in (build / "executed").glob("*.run.json")}


def executed_between(before: dict, after: dict) -> list[str]:
    return sorted(n for n, r in after.items() if before.get(n) != r)


def timed_build(mode: str, root: Path, jobs: int) -> float:
    from onepoch import book

    start = time.perf_counter()
    book.build(mode, jobs, root=root, quiet=True)
    return time.perf_counter() - start


def prose_change(root: Path, chapter: str) -> None:
    path = root / "book" / f"{chapter}.ipynb"
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = src + "\n\n(An added sentence: a prose-only change.)"
    path.write_text(json.dumps(nb, indent=1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=["quick", "full"], default="quick")
    ap.add_argument("--jobs", type=int, default=1, help="chapters at once (onepoch build --jobs)")
    ap.add_argument("--chapter", default="one_epoch", help="chapter for the prose and parameter changes")
    ap.add_argument("--param", default="lr=0.002", help="the one changed parameter, NAME=VALUE")
    ap.add_argument("--skip", nargs="*", default=[],
                    help="chapters left out of the copy's _toc.yml (e.g. one that fails); recorded in the result")
    ap.add_argument("--measured-build", type=Path, default=None,
                    help="a finished build's folder (e.g. _build): report it instead of building (needs --cache)")
    ap.add_argument("--cache", type=Path, default=None, help="the run cache that build used (ONEPOCH_CACHE)")
    ap.add_argument("--sittings", type=Path, default=None,
                    help="with --measured-build: the log of the cold build (cold_build.py) that made it")
    args = ap.parse_args(argv)
    if args.measured_build is not None:
        return report_build(args) if args.sittings is None else report_sittings(args)
    if args.sittings is not None:
        raise SystemExit("--sittings needs --measured-build (the build folder) and --cache")
    from onepoch import book
    from onepoch.cli import parse_param
    from onepoch.data.dataset import cache_dir

    cores = int(os.environ.get("ONEPOCH_JOBS", os.cpu_count() or 1))
    load = [load_avg()]
    rates = [floor_rates()]
    data_cache = cache_dir().resolve()
    with tempfile.TemporaryDirectory(prefix="onepoch-book-bench-") as tmp:
        tmp = Path(tmp)
        root = tmp / "repo"
        root.mkdir()
        for name in ("_config.yml", "_toc.yml"):
            shutil.copy2(REPO / name, root / name)
        if args.skip:
            toc = root / "_toc.yml"
            toc.write_text("".join(line for line in toc.read_text().splitlines(keepends=True)
                                   if not any(line.strip() == f"- file: book/{c}" for c in args.skip)))
        shutil.copytree(REPO / "book", root / "book", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        cache = tmp / "cache"
        cache.mkdir()
        os.symlink(data_cache, cache / "data")
        os.environ["ONEPOCH_CACHE"] = str(cache)
        lay = book.layout(args.mode, root=root)

        cold = timed_build(args.mode, root, args.jobs)
        load.append(load_avg())
        rec_cold = records(lay.build)
        runs = cached_runs(cache)
        rates.append(floor_rates())
        load.append(load_avg())

        noop = timed_build(args.mode, root, args.jobs)
        rec_noop = records(lay.build)

        prose_change(root, args.chapter)
        n_before = len(cached_runs(cache))
        prose = timed_build(args.mode, root, args.jobs)
        rec_prose = records(lay.build)
        prose_trained = len(cached_runs(cache)) - n_before

        name, value = parse_param(args.param)
        before = cached_runs(cache)
        start = time.perf_counter()
        book.run_chapter(args.chapter, {name: value}, args.mode, root=root, quiet=True)
        param_s = time.perf_counter() - start
        after = cached_runs(cache)
        load.append(load_avg())

    rate = {bs: median([r[bs] for r in rates]) for bs in (128, 1024)}
    samples = sum(r["samples"] for r in runs.values())
    floor_core_s = sum(r["samples"] / rate_at(rate, r["batch_size"]) for r in runs.values())
    floor_wall_s = floor_core_s / cores
    run_core_s = sum(r["seconds"] for r in runs.values())
    result = {
        "mode": args.mode, "jobs": args.jobs, "cores": cores, "skipped_chapters": args.skip,
        "targets": {"floor_ratio": TARGET_FLOOR_RATIO, "seconds": TARGET_SECONDS[args.mode],
                    "prose_rebuild_seconds": TARGET_PROSE_SECONDS},
        "cold_build_s": cold, "runs_trained": len(runs), "training_samples": samples,
        "runs_seconds_sum": run_core_s, "floor_samples_per_s": rate, "floor_core_s": floor_core_s,
        "floor_wall_s": floor_wall_s, "ratio_to_floor": cold / floor_wall_s,
        "chapters_cold": {n: r.get("seconds") for n, r in rec_cold.items()},
        "noop_build_s": noop, "noop_executed": executed_between(rec_cold, rec_noop),
        "prose_build_s": prose, "prose_executed": executed_between(rec_noop, rec_prose),
        "prose_runs_trained": prose_trained,
        "param_change": {"chapter": args.chapter, "param": args.param, "seconds": param_s,
                         "runs_trained": len(after) - len(before), "runs_cached_before": len(before)},
        "load_average": load,
    }
    path = write_result(f"book_{args.mode}", result)
    print(f"[{args.mode}] cold build {cold:.0f} s (target {TARGET_SECONDS[args.mode]} s): {len(runs)} runs, "
          f"{samples / 1e6:.1f}M training samples; the floor needs {floor_core_s:.0f} core-s = {floor_wall_s:.0f} s "
          f"on {cores} cores -> build / floor = {cold / floor_wall_s:.2f} (target <= {TARGET_FLOOR_RATIO}); "
          f"the runs themselves took {run_core_s:.0f} core-s")
    print(f"  no change: {noop:.1f} s, executed {result['noop_executed'] or 'nothing'}")
    print(f"  prose-only change in {args.chapter}: {prose:.1f} s (target {TARGET_PROSE_SECONDS} s), executed "
          f"{result['prose_executed']}, runs trained {prose_trained}")
    print(f"  {args.chapter} with {args.param}: {param_s:.0f} s, trained {len(after) - len(before)} new runs "
          f"(cache held {len(before)})")
    print(f"load average: {load}\nwrote {path}")


def report_build(args) -> None:
    """A build that already ran, perhaps in pieces over several sittings: the time a cold build of
    it takes, estimated as every chapter's execution with its runs cached (its .run.json record,
    taken from a final pass that trained nothing) plus the training time of every run in the cache
    (their own recorded seconds) spread over the cores; and that time against the floor for the
    same training samples. Written as results/book_<mode>.json with `"estimated": true`; the
    rebuild measurements of a real cold build (no change, prose change, parameter change) are
    left out."""
    if args.cache is None:
        raise SystemExit("--measured-build needs --cache: the run cache that build used")
    cores = int(os.environ.get("ONEPOCH_JOBS", os.cpu_count() or 1))
    recs = records(args.measured_build if args.mode == "full" else args.measured_build / "quick")
    if not recs:
        raise SystemExit(f"no execution records (*.run.json) under {args.measured_build}: build the book first")
    if any(r.get("trained") for r in recs.values()):
        raise SystemExit("some chapters trained runs in their last execution: run the build once more (nothing "
                         "changed) so every record is a cached execution, then measure")
    runs = cached_runs(args.cache)
    load = [load_avg()]
    rate = {bs: median([r[bs] for r in (floor_rates(), floor_rates())]) for bs in (128, 1024)}
    load.append(load_avg())
    warm_s = sum(r.get("seconds") or 0 for r in recs.values())
    run_core_s = sum(r["seconds"] for r in runs.values())
    samples = sum(r["samples"] for r in runs.values())
    floor_core_s = sum(r["samples"] / rate_at(rate, r["batch_size"]) for r in runs.values())
    cold = warm_s + run_core_s / cores
    result = {
        "mode": args.mode, "estimated": True, "measured_build": str(args.measured_build), "cores": cores,
        "targets": {"floor_ratio": TARGET_FLOOR_RATIO, "seconds": TARGET_SECONDS[args.mode],
                    "prose_rebuild_seconds": TARGET_PROSE_SECONDS},
        "cold_build_s": cold, "warm_chapters_s": warm_s, "runs_trained": len(runs), "training_samples": samples,
        "runs_seconds_sum": run_core_s, "floor_samples_per_s": rate, "floor_core_s": floor_core_s,
        "floor_wall_s": floor_core_s / cores, "ratio_to_floor": cold / (floor_core_s / cores),
        "chapters_cold": {n: (r.get("seconds") or 0) + (r.get("run_seconds") or 0) / cores for n, r in recs.items()},
        "load_average": load,
    }
    path = write_result(f"book_{args.mode}", result)
    print(f"[{args.mode}] estimated cold build {cold:.0f} s = chapters with cached runs {warm_s:.0f} s + "
          f"{len(runs)} runs' training {run_core_s:.0f} core-s / {cores} cores; the floor needs {floor_core_s:.0f} "
          f"core-s for their {samples / 1e6:.1f}M samples -> build / floor = {result['ratio_to_floor']:.2f} "
          f"(target <= {TARGET_FLOOR_RATIO})\nwrote {path}")


def report_sittings(args) -> None:
    """A cold build run by `cold_build.py` (perhaps over several sittings), measured: its time is the
    sittings' seconds added up, checked to be one finished build of one commit from an empty cache
    (`sittings.check_cold`); each chapter's time is its execution record's (a chapter cut short and
    executed again shows its last execution). The floor is measured now, as in `report_build`."""
    import sittings as log

    if args.cache is None:
        raise SystemExit("--sittings needs --cache: the run cache the cold build filled")
    recs = records(args.measured_build if args.mode == "full" else args.measured_build / "quick")
    if not recs:
        raise SystemExit(f"no execution records (*.run.json) under {args.measured_build}")
    sittings = log.read(args.sittings)
    mtimes = [p.stat().st_mtime for p in (args.cache / "runs").glob("*/*") if p.is_file()]
    try:
        cold = log.check_cold(sittings, mtimes)
    except log.SittingsError as e:
        raise SystemExit(f"{args.sittings}: {e}") from None
    cores = int(os.environ.get("ONEPOCH_JOBS", os.cpu_count() or 1))
    runs = cached_runs(args.cache)
    load = [load_avg()]
    rate = {bs: median([r[bs] for r in (floor_rates(), floor_rates())]) for bs in (128, 1024)}
    load.append(load_avg())
    samples = sum(r["samples"] for r in runs.values())
    floor_core_s = sum(r["samples"] / rate_at(rate, r["batch_size"]) for r in runs.values())
    result = {
        "mode": args.mode, "estimated": False, "measured_build": str(args.measured_build), "cores": cores,
        "built_commit": sittings[0]["commit"],
        "sittings": [{k: s.get(k) for k in ("start_utc", "end_utc", "seconds", "rc", "cut_short", "load_start",
                                             "load_end")} for s in sittings],
        "targets": {"floor_ratio": TARGET_FLOOR_RATIO, "seconds": TARGET_SECONDS[args.mode],
                    "prose_rebuild_seconds": TARGET_PROSE_SECONDS},
        "cold_build_s": cold, "runs_trained": len(runs), "training_samples": samples,
        "runs_seconds_sum": sum(r["seconds"] for r in runs.values()), "floor_samples_per_s": rate,
        "floor_core_s": floor_core_s, "floor_wall_s": floor_core_s / cores, "ratio_to_floor": cold / (floor_core_s / cores),
        "chapters_cold": {n: r.get("seconds") for n, r in recs.items()},
        "load_average": [s["load_start"] for s in sittings] + [s["load_end"] for s in sittings] + load,
    }
    path = write_result(f"book_{args.mode}", result)
    print(f"[{args.mode}] cold build {cold:.0f} s in {len(sittings)} sitting(s), measured: {len(runs)} runs, "
          f"{samples / 1e6:.1f}M training samples; the floor needs {floor_core_s:.0f} core-s -> build / floor = "
          f"{result['ratio_to_floor']:.2f} (target <= {TARGET_FLOOR_RATIO})\nwrote {path}")


if __name__ == "__main__":
    main()
