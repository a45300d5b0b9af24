"""Tables of the speed appendix, read from the benchmark results only.

The scripts in `benchmarks/` write `benchmarks/results/<name>.json`, each
with the targets it checked (stated once, in `benchmarks/targets.py`); the
appendix (`book/appendix_speed.ipynb`) shows them through these functions,
so it states no target and runs no benchmark itself.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"

NAMES = {
    "floor": "floor: the faster bare loop",
    "floor_bag": "bare loop, one embedding_bag",
    "floor_masked": "bare loop, lookup x mask",
    "bare_unfused_adam": "bare loop, unfused Adam",
    "bare_lean_adam": "bare loop, onepoch's lean Adam step",
    "onepoch": "onepoch trainer, paper cadence",
    "onepoch_training_only": "onepoch trainer, training steps only",
    "deepctr_torch": "DeepCTR-Torch, no evaluation",
    "fuxictr": "FuxiCTR, no evaluation",
    "fuxictr_with_eval": "FuxiCTR, evaluation every 50 steps",
}


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def status(ok: bool) -> str:
    return "met" if ok else "MISSED"


def rate(x: float) -> str:
    return f"{x / 1e3:,.1f}k"


def loads(result: dict) -> str:
    """Lowest and highest 1-minute load average seen during a benchmark."""
    one_minute = [row[0] for row in result["load_average"]]
    return f"{min(one_minute):.1f}-{max(one_minute):.1f}"


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def floor_target(tp: dict, batch: str) -> float:
    """The trainer / floor target at `batch` (older results state one figure for every batch size)."""
    t = tp["targets"]["onepoch_to_floor"]
    return t.get(batch, max(t.values())) if isinstance(t, dict) else t


def provenance(results: dict) -> pd.DataFrame:
    """When, where and under what load each benchmark was measured."""
    return pd.DataFrame([
        {"benchmark": name, "measured": r["date"], "commit": r["commit"], "load average": loads(r),
         "machine": f"{r['machine']['cpu']}, {r['machine']['cores']} cores, {r['machine']['memory_gib']} GiB, "
                    f"torch {r['machine']['torch']}"}
        for name, r in results.items() if r is not None])


def throughput_table(tp: dict) -> pd.DataFrame:
    """Samples per second of every contender, numeric (for charts)."""
    limit = tp["compute_limit_samples_per_s"]
    rows = []
    for bs, r in tp["batches"].items():
        for key, value in sorted(r["samples_per_s"].items(), key=lambda kv: -kv[1]):
            rows.append({"batch": int(bs), "contender": NAMES.get(key, key), "samples/s": value,
                         "x floor": r["ratio_to_floor"][key], "of compute limit": value / limit})
    return pd.DataFrame(rows)


def throughput_shown(throughput: pd.DataFrame) -> pd.DataFrame:
    return throughput.assign(**{"samples/s": throughput["samples/s"].map(rate),
                                "x floor": throughput["x floor"].map("{:.2f}".format),
                                "of compute limit": throughput["of compute limit"].map("{:.1%}".format)})


def evaluation_table(tp: dict) -> pd.DataFrame:
    flops = tp["model_flops_per_sample"]
    rows = []
    for bs, r in tp["batches"].items():
        b = int(bs)
        work = r["eval_rows"] * flops["forward_matmul"] / (50 * b * 3 * flops["forward_matmul"])
        rows.append({"batch": b, "ms per evaluation": f"{r['eval_ms_per_evaluation']:.0f}",
                     "rows per evaluation": f"{r['eval_rows']:,}", "eval work / training work": f"{work:.2f}",
                     "evaluation / training time": f"{r['eval_share_steady']:.1%}",
                     "target": f"<= {tp['targets']['eval_share']:.0%}",
                     "status": status(r["eval_share_steady"] <= tp["targets"]["eval_share"])})
    return pd.DataFrame(rows)


def evaluation_parts_table(evaluation: dict) -> pd.DataFrame:
    """One evaluation (both sets) part by part, in ms and as a share of the whole: what a faster
    evaluation could still remove. The matrix products are the arithmetic fp32 cannot skip."""
    ms = evaluation["ms"]
    parts = {"pooling the histories (embedding_bag)": ms["pooling"]}
    if "mlp_matrix_products" in ms:
        parts["MLP: the three matrix products"] = ms["mlp_matrix_products"]
        parts["MLP: Dice's batch norm, sigmoid and products"] = ms["mlp"] - ms["mlp_matrix_products"]
    else:
        parts["MLP"] = ms["mlp"]
    parts["metrics (AUC, log loss, GAUC)"] = ms["metrics"]
    parts["the rest (sigmoid of the logits, copies, calls)"] = max(ms["evaluation"] - sum(parts.values()), 0.0)
    total = ms["evaluation"]
    rows = [{"part": k, "ms": f"{v:.1f}", "share of the evaluation": f"{v / total:.0%}"} for k, v in parts.items()]
    rows.append({"part": f"one evaluation of {evaluation['rows']:,} rows (target <= "
                         f"{evaluation['targets']['eval_ms_idle']:g} ms)", "ms": f"{total:.1f}",
                 "share of the evaluation": "100%"})
    return pd.DataFrame(rows)


def precision_sentence(precision: dict) -> str:
    """Whether bfloat16 evaluation passes its test (benchmarks/eval_precision.py), and what it costs."""
    evals = precision["evaluations"]
    speed = sum(e["ms_bf16"] for e in evals) / sum(e["ms_fp32"] for e in evals)
    verdict = "within" if precision["within_tolerance"] else "beyond"
    return (f"bfloat16 evaluation: AUCs differ from fp32's by up to {precision['max_abs_auc_diff']:.1e} "
            f"({verdict} the tolerance {precision['tolerance']:g}) over {len(evals)} evaluations, and it took "
            f"{speed:.1f}x fp32's time on this machine.")


def _ratio_text(r: dict, unit: str = "") -> str:
    """A schedule result's median time ratio and, in brackets, the ratio of every repetition."""
    return f"{r['time_ratio']:.2f}{unit} (" + ", ".join(f"{x:.2f}" for x in r["time_ratio_all"]) + ")"


def schedule_table(sched: dict) -> pd.DataFrame:
    """The book's evaluation schedule against the paper's cadence, per chapter setting: run time with this
    code both ways (measured, and from the paper runs' parts), and against the paper-cadence runs trained
    by the code when the target was set, where measured."""
    rows = []
    for chapter, r in sched["chapters"].items():
        row = {"chapter setting": f"{chapter} ({r['steps_per_epoch']} steps per epoch)",
               "evaluations, paper / book": f"{r['evaluations']['paper']} / {r['evaluations']['book']}",
               "book / paper, measured": _ratio_text(r),
               "book / paper, from the paper runs' parts": f"{r['time_ratio_from_parts']:.2f}"
               if "time_ratio_from_parts" in r else "-"}
        if "baseline" in r:
            b = r["baseline"]
            row[f"book / paper with the code at {b['commit']}"] = (
                f"{_ratio_text(b)}; same curves: {b['same_curves_as_paper_run']}")
        row["evaluation share, paper cadence"] = f"{r['eval_share_paper']:.0%}"
        row["same curves at the book's steps"] = str(r["curves_identical_at_schedule_steps"])
        rows.append(row)
    return pd.DataFrame(rows)


def _throughput_rows(tp: dict) -> list[dict]:
    rows = []
    for bs, r in tp["batches"].items():
        ratio, want = r["ratio_to_floor"], floor_target(tp, bs)
        steady = ratio["onepoch_training_only"] / (1 + r["eval_share_steady"])
        rows.append({"target": f"trainer >= {want}x floor, batch {bs}", "measured": f"{ratio['onepoch']:.2f}x "
                     f"(steady state {steady:.2f}x; training steps alone {ratio['onepoch_training_only']:.2f}x)",
                     "status": status(ratio["onepoch"] >= want),
                     "why": "" if ratio["onepoch"] >= want else (
                         f"the measured run of {r['steps']} steps also pays the evaluation at step 0 and the set-up; "
                         f"per 50 steps {steady:.2f}x" if steady >= want else
                         f"evaluation at the paper's cadence costs more than the {1 - want:.0%} of the floor's time left")})
        runs = r["samples_per_s_all"]
        for lib in ("deepctr_torch", "fuxictr"):
            per_rep = [o / x for o, x in zip(runs["onepoch"], runs[lib])]
            with_eval = ""
            if lib == "fuxictr" and "fuxictr_with_eval" in runs:
                both = [o / f for o, f in zip(runs["onepoch"], runs["fuxictr_with_eval"])]
                per_rep = both  # the fair comparison: both evaluate at the same cadence
                with_eval = "; FuxiCTR evaluating at the same cadence"
            wins = sum(v > 1 for v in per_rep)
            rows.append({"target": f"trainer faster than {NAMES[lib].split(',')[0]} in every repetition, batch {bs}",
                         "measured": f"{_median(per_rep):.2f}x, faster in {wins} of {len(per_rep)} repetitions{with_eval}",
                         "status": status(wins == len(per_rep)), "why": ""})
        share = tp["targets"]["eval_share"]
        rows.append({"target": f"evaluation <= {share:.0%} of training time, batch {bs}",
                     "measured": f"{r['eval_share_steady']:.1%}", "status": status(r["eval_share_steady"] <= share),
                     "why": "" if r["eval_share_steady"] <= share else
                     f"each evaluation predicts {r['eval_rows']:,} rows after {50 * int(bs):,} training samples"})
    return rows


def _evaluation_why(ms: dict, want: float) -> str:
    """Why one evaluation misses its target: the MLP's passes, and whether its matrix products alone fit."""
    products = ms.get("mlp_matrix_products")
    if products is None:  # results written before the products were timed apart
        return "the MLP's passes over every row dominate"
    below = "more than" if products > want else "within"
    return (f"the MLP's three matrix products alone take {products:.0f} ms in fp32 on one core, {below} the "
            f"target; Dice's elementwise passes add {ms['mlp'] - products:.0f} ms")


def _how_measured(book: dict) -> str:
    """' (estimated)' for a build trained in pieces, ' (3 sittings)' for a cold build measured over several."""
    if book.get("estimated"):
        return " (estimated)"
    n = len(book.get("sittings") or [])
    return f" ({n} sittings)" if n > 1 else ""


def book_rows(r: dict) -> pd.DataFrame:
    """One book build's measurements against their targets: the cold build, build / floor, and (for a
    build measured by benchmarks/book.py itself) the rebuilds."""
    t = r["targets"]
    if r.get("estimated"):
        cold = "cold build, estimated: chapters with cached runs + every run's recorded training time / cores"
    elif r.get("sittings"):
        n = len(r["sittings"])
        cold = (f"cold build from an empty cache (commit {r['built_commit']}), measured: "
                + ("one sitting" if n == 1 else f"{n} sittings added up, "
                   f"{sum(bool(s['cut_short']) for s in r['sittings'])} cut short (timed to their last 30-s heartbeat)"))
    else:
        cold = "cold build (every run trained)"
    rows = [
        {"measure": cold, "measured": f"{r['cold_build_s']:.0f} s",
         "target": f"<= {t['seconds']:.0f} s", "status": status(r["cold_build_s"] <= t["seconds"])},
        {"measure": "build / floor time for the same samples",
         "measured": f"{r['ratio_to_floor']:.2f} ({r['cold_build_s']:.0f} s / {r['floor_wall_s']:.0f} s; "
                     f"{r['runs_trained']} runs, {r['training_samples'] / 1e6:.1f}M samples)",
         "target": f"<= {t['floor_ratio']}", "status": status(r["ratio_to_floor"] <= t["floor_ratio"])},
    ]
    if "noop_build_s" in r:  # measured by book.py's own cold build, which then rebuilds
        rows += [
            {"measure": "rebuild, nothing changed", "measured": f"{r['noop_build_s']:.1f} s, executed "
                        f"{', '.join(r['noop_executed']) or 'nothing'}", "target": "", "status": ""},
            {"measure": "rebuild after a prose-only change",
             "measured": f"{r['prose_build_s']:.1f} s, executed {', '.join(r['prose_executed']) or 'nothing'}, "
                         f"{r['prose_runs_trained']} runs trained",
             "target": f"<= {t['prose_rebuild_seconds']} s, no run trained",
             "status": status(r["prose_build_s"] <= t["prose_rebuild_seconds"] and r["prose_runs_trained"] == 0)},
            {"measure": f"re-run {r['param_change']['chapter']} with {r['param_change']['param']}",
             "measured": f"{r['param_change']['seconds']:.0f} s, {r['param_change']['runs_trained']} runs trained "
                         f"(of {r['runs_trained']} in the book)", "target": "only changed runs trained", "status": ""},
        ]
    return pd.DataFrame(rows)


def chapter_times(books: dict) -> pd.DataFrame:
    """Each chapter's execution time in each mode's measured cold build ({mode: book result or None})."""
    rows: dict = {}
    for mode, r in books.items():
        for chapter, seconds in ((r or {}).get("chapters_cold") or {}).items():
            rows.setdefault(chapter, {"chapter": chapter})[f"{mode} (s)"] = f"{seconds:.0f}" if seconds else ""
    return pd.DataFrame(list(rows.values())).fillna("") if rows else pd.DataFrame({"chapter": []})


def targets_table(tp, book_quick, book_full, sweep_result, scale, schedule=None, evaluation=None) -> pd.DataFrame:
    """Every target, its measured figure and whether it is met; a missed target carries its reason."""
    rows = _throughput_rows(tp) if tp is not None else []
    if evaluation is not None:
        want, ms = evaluation["targets"]["eval_ms_idle"], evaluation["ms"]
        rows.append({"target": f"one {evaluation['rows']:,}-row evaluation <= {want:g} ms, idle machine",
                     "measured": f"{ms['evaluation']:.0f} ms at load {loads(evaluation)} (model {ms['mlp']:.0f} ms, "
                                 f"pooling {ms['pooling']:.0f} ms, metrics {ms['metrics']:.1f} ms)",
                     "status": status(ms["evaluation"] <= want),
                     "why": "" if ms["evaluation"] <= want else _evaluation_why(ms, want)})
    for mode, r in (("quick", book_quick), ("full", book_full)):
        if r is None:
            rows.append({"target": f"book ({mode})", "measured": "not measured yet", "status": "-",
                         "why": f"a cold build trains every run: benchmarks/book.py --mode {mode}; the Execution times "
                                "page adds up the recorded training time of the runs each chapter uses"})
            continue
        t = r["targets"]
        rows.append({"target": f"book ({mode}) within {t['seconds'] / 60:.0f} min",
                     "measured": f"{r['cold_build_s'] / 60:.1f} min" + _how_measured(r) + (
                         " (without " + ", ".join(r["skipped_chapters"]) + ")" if r.get("skipped_chapters") else ""),
                     "status": status(r["cold_build_s"] <= t["seconds"]),
                     "why": "" if r["cold_build_s"] <= t["seconds"] else f"load average {loads(r)} on 2 cores"})
        rows.append({"target": f"book ({mode}) within {t['floor_ratio']}x the floor",
                     "measured": f"{r['ratio_to_floor']:.2f}x", "status": status(r["ratio_to_floor"] <= t["floor_ratio"]),
                     "why": "" if r["ratio_to_floor"] <= t["floor_ratio"] else
                     f"the runs took {r['runs_seconds_sum']:.0f} core-s where the floor trains their samples in "
                     f"{r['floor_core_s']:.0f}: evaluation at the chapters' cadence and each run's set-up; "
                     f"the rest is kernel starts and the HTML build"})
        if "prose_build_s" not in r:  # a build trained in pieces or by cold_build.py: no rebuild measured
            continue
        rows.append({"target": f"prose-only rebuild ({mode}) within {t['prose_rebuild_seconds']} s",
                     "measured": f"{r['prose_build_s']:.0f} s",
                     "status": status(r["prose_build_s"] <= t["prose_rebuild_seconds"] and r["prose_runs_trained"] == 0),
                     "why": ""})
    if schedule is not None:
        want = schedule["targets"]["time_ratio"]
        for chapter, r in schedule["chapters"].items():
            x = r.get("time_ratio_from_parts", r["time_ratio"])
            rows.append({"target": f"{chapter}'s runs with the book's schedule in <= {want}x the paper cadence's time",
                         "measured": f"{x:.2f}x from each run's parts ({r['time_ratio']:.2f}x measured, load-dependent)",
                         "status": status(x <= want),
                         "why": "" if x <= want else
                         f"evaluation was {r['eval_share_paper']:.0%} of a paper-cadence run; the schedule removes "
                         "only part of it, training steps stay"})
            if "baseline" in r:  # "the same runs today": the paper-cadence runs with the code when the target was set
                b = r["baseline"]
                ok = b["time_ratio"] <= want and b["same_curves_as_paper_run"]
                rows.append({"target": f"{chapter}'s runs with the book's schedule in <= {want}x the time of the same "
                                       f"runs at the paper's cadence with the code at {b['commit']}",
                             "measured": f"{_ratio_text(b, 'x')}; same curves: {b['same_curves_as_paper_run']}",
                             "status": status(ok),
                             "why": "" if ok else "training steps cost what they cost then; only evaluation was cut"})
    if sweep_result is not None:
        rows.append({"target": "sweeps: same curves with 1 and 2 workers", "measured": str(sweep_result["identical_1_vs_2"]),
                     "status": status(sweep_result["identical_1_vs_2"]), "why": ""})
    if scale is not None and "epoch" in scale:
        t = scale["targets"]
        for bs, e in scale["epoch"].items():
            ok = e["epoch_s"] <= t["epoch_seconds"] and e["peak_rss_gib"] <= t["peak_gib"]
            rows.append({"target": f"1M samples / 4M IDs: one epoch <= {t['epoch_seconds'] / 60:.0f} min and "
                                   f"{t['peak_gib']:.0f} GB, batch {bs}",
                         "measured": f"{e['epoch_s'] / 60:.1f} min, {e['peak_rss_gib']:.1f} GiB", "status": status(ok),
                         "why": "" if ok else "the dense gradient and dense Adam over 4M rows at every step (see above)"})
    return pd.DataFrame(rows)


# -- the README's targets table ----------------------------------------------------------------

README_BEGIN = "<!-- targets table: written by benchmarks/readme.py from benchmarks/results/*.json; do not edit -->"
README_END = "<!-- end of targets table -->"


def _cell(x) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def markdown(frame: pd.DataFrame) -> str:
    """A DataFrame as a GitHub markdown table (no index)."""
    lines = ["| " + " | ".join(map(_cell, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(map(_cell, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def readme_targets() -> str:
    """The README's block: every target (benchmarks/targets.py, via the results) with its measured figure,
    and when, where and under what load each was measured -- from the committed results only."""
    names = {"throughput": "throughput", "evaluation": "one evaluation", "book_quick": "book (quick)",
             "book_full": "book (full)", "sweep": "sweeps", "scale": "scale", "schedule": "evaluation schedule"}
    results = {key: load(key) for key in names}
    table = targets_table(*(results[k] for k in ("throughput", "book_quick", "book_full", "sweep", "scale",
                                                "schedule", "evaluation")))
    where = provenance({names[k]: r for k, r in results.items()})
    return "\n\n".join([README_BEGIN, markdown(table), markdown(where), README_END])


def readme_with_targets(text: str) -> str:
    """`text` (the README) with its targets block replaced by `readme_targets()`."""
    if README_BEGIN not in text or README_END not in text:
        raise ValueError("README.md has no targets block: put the two marker lines of onepoch.benchmarks_report "
                         "(README_BEGIN, README_END) where the table belongs")
    head, rest = text.split(README_BEGIN, 1)
    return head + readme_targets() + rest.split(README_END, 1)[1]
