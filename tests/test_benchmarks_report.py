"""The speed appendix's tables take their targets from the benchmark results, never from a copy."""
from onepoch import benchmarks_report as report


def throughput_result(target):
    runs = {"floor": [10.0, 10.0], "onepoch": [7.0, 7.0], "onepoch_training_only": [9.0, 9.0],
            "deepctr_torch": [5.0, 8.0], "fuxictr": [3.0, 3.0], "fuxictr_with_eval": [2.0, 2.0]}
    batch = {"ratio_to_floor": {k: v[0] / 10 for k, v in runs.items()}, "eval_share_steady": 0.2,
             "samples_per_s_all": runs, "samples_per_s": {k: v[0] for k, v in runs.items()}, "steps": 400,
             "eval_rows": 60_000, "eval_ms_per_evaluation": 50.0}
    return {"targets": {"onepoch_to_floor": target, "eval_share": 0.25}, "batches": {"128": batch},
            "compute_limit_samples_per_s": 100.0, "model_flops_per_sample": {"forward_matmul": 1.0}}


def test_floor_target_comes_from_the_result_per_batch_or_as_one_figure():
    for target in ({"128": 0.6}, 0.6):
        table = report.targets_table(throughput_result(target), None, None, None, None)
        row = table[table.target.str.startswith("trainer >=")].iloc[0]
        assert row.target == "trainer >= 0.6x floor, batch 128" and row.status == "met"
    strict = report.targets_table(throughput_result({"128": 0.9}), None, None, None, None)
    assert strict[strict.target.str.startswith("trainer >=")].status.iloc[0] == "MISSED"


def test_libraries_must_lose_in_every_repetition():
    table = report.targets_table(throughput_result(0.6), None, None, None, None).set_index("target")
    assert table.loc["trainer faster than DeepCTR-Torch in every repetition, batch 128", "status"] == "MISSED"
    assert table.loc["trainer faster than FuxiCTR in every repetition, batch 128", "status"] == "met"


def test_committed_results_build_every_table():
    tp = report.load("throughput")
    if tp is None:
        return
    assert len(report.throughput_table(tp)) and len(report.evaluation_table(tp))
    table = report.targets_table(tp, report.load("book_quick"), report.load("book_full"), report.load("sweep"),
                                 report.load("scale"), report.load("schedule"))
    assert set(table.status) <= {"met", "MISSED", "-"}


def test_readme_targets_table_is_written_from_the_committed_results():
    """README.md states no target or figure by hand: its block equals what benchmarks/readme.py writes."""
    from pathlib import Path

    readme = (Path(report.__file__).resolve().parents[1] / "README.md").read_text()
    assert report.readme_with_targets(readme) == readme, "run: .venv/bin/python benchmarks/readme.py"


def test_markdown_tables_escape_pipes():
    import pandas as pd

    assert report.markdown(pd.DataFrame({"a": ["x|y"]})) == "| a |\n|---|\n| x\\|y |"


def test_an_estimated_full_build_has_its_targets_and_no_rebuild_rows():
    full = {"estimated": True, "cold_build_s": 7200.0, "ratio_to_floor": 2.0, "runs_seconds_sum": 9000.0,
            "floor_core_s": 4000.0, "load_average": [[1.0, 1.0, 1.0]],
            "targets": {"seconds": 3 * 3600, "floor_ratio": 1.5, "prose_rebuild_seconds": 30}}
    table = report.targets_table(None, None, full, None, None).set_index("target")
    assert table.loc["book (full) within 180 min", "status"] == "met"
    assert "(estimated)" in table.loc["book (full) within 180 min", "measured"]
    assert table.loc["book (full) within 1.5x the floor", "status"] == "MISSED"
    assert not any(t.startswith("prose-only rebuild (full)") for t in table.index)


def schedule_result(baseline_ratio, same=True):
    chapter = {"time_ratio": 0.7, "time_ratio_all": [0.7], "time_ratio_from_parts": 0.7, "eval_share_paper": 0.3,
               "steps_per_epoch": 10, "evaluations": {"paper": 5, "book": 3},
               "curves_identical_at_schedule_steps": True,
               "baseline": {"commit": "abc1234", "time_ratio": baseline_ratio, "time_ratio_all": [baseline_ratio],
                            "same_curves_as_paper_run": same}}
    return {"targets": {"time_ratio": 0.5}, "chapters": {"one_epoch": chapter}}


def test_the_schedule_against_the_older_code_counts_only_for_the_same_runs():
    def status(result):
        table = report.targets_table(None, None, None, None, None, result)
        return table[table.target.str.contains("abc1234")].status.iloc[0]

    assert status(schedule_result(0.45)) == "met"
    assert status(schedule_result(0.55)) == "MISSED"
    assert status(schedule_result(0.45, same=False)) == "MISSED"  # other curves: not the same runs
    table = report.schedule_table(schedule_result(0.45))
    assert table["book / paper with the code at abc1234"].iloc[0] == "0.45 (0.45); same curves: True"


def test_a_missed_evaluation_target_says_whether_its_matrix_products_alone_fit():
    evaluation = {"rows": 60_000, "targets": {"eval_ms_idle": 50.0}, "load_average": [[1.0, 1.0, 1.0]],
                  "ms": {"evaluation": 98.0, "mlp": 79.0, "pooling": 10.0, "metrics": 4.0}}
    def why(products):
        ms = {**evaluation["ms"], **({"mlp_matrix_products": products} if products else {})}
        table = report.targets_table(None, None, None, None, None, None, {**evaluation, "ms": ms})
        return table[table.target.str.startswith("one 60,000-row")].why.iloc[0]

    assert "alone take 55 ms" in why(55.0) and "more than the target" in why(55.0)
    assert "within the target" in why(40.0) and "add 39 ms" in why(40.0)
    assert why(None) == "the MLP's passes over every row dominate"


def test_evaluation_parts_add_up_to_the_evaluation():
    evaluation = {"rows": 60_000, "targets": {"eval_ms_idle": 50.0},
                  "ms": {"evaluation": 100.0, "mlp": 80.0, "mlp_matrix_products": 45.0, "pooling": 10.0,
                         "metrics": 4.0}}
    table = report.evaluation_parts_table(evaluation)
    ms = [float(x) for x in table.ms]
    assert abs(sum(ms[:-1]) - ms[-1]) < 0.2 and ms[-1] == 100.0
    assert table.set_index("part").loc["MLP: the three matrix products", "ms"] == "45.0"
    assert table.part.iloc[-1].endswith("(target <= 50 ms)")


def test_precision_sentence_reads_the_verdict_and_cost_from_the_result():
    result = {"tolerance": 1e-4, "max_abs_auc_diff": 2e-3, "within_tolerance": False,
              "evaluations": [{"ms_fp32": 10.0, "ms_bf16": 30.0}, {"ms_fp32": 10.0, "ms_bf16": 50.0}]}
    text = report.precision_sentence(result)
    assert "beyond the tolerance 0.0001" in text and "4.0x fp32's time" in text and "2.0e-03" in text
    assert "within the tolerance" in report.precision_sentence({**result, "within_tolerance": True})


def cold_full(**extra):
    return {"cold_build_s": 9000.0, "ratio_to_floor": 1.9, "runs_seconds_sum": 17000.0, "floor_core_s": 9500.0,
            "floor_wall_s": 4750.0, "runs_trained": 900, "training_samples": 3.3e8, "load_average": [[1.0, 1.0, 1.0]],
            "targets": {"seconds": 3 * 3600, "floor_ratio": 1.5, "prose_rebuild_seconds": 30}, **extra}


def test_a_cold_build_measured_over_sittings_says_so_and_has_no_rebuild_rows():
    sittings = [{"seconds": 5000, "cut_short": True}, {"seconds": 4000, "cut_short": False}]
    full = cold_full(estimated=False, sittings=sittings, built_commit="abc1234")
    rows = report.book_rows(full)
    assert rows.measure.iloc[0] == ("cold build from an empty cache (commit abc1234), measured: 2 sittings added up, "
                                    "1 cut short (timed to their last 30-s heartbeat)")
    assert list(rows.status) == ["met", "MISSED"] and len(rows) == 2
    table = report.targets_table(None, None, full, None, None).set_index("target")
    assert table.loc["book (full) within 180 min", "measured"] == "150.0 min (2 sittings)"
    one = report.book_rows(cold_full(estimated=False, sittings=sittings[1:], built_commit="abc1234"))
    assert one.measure.iloc[0].endswith("measured: one sitting")


def test_a_build_measured_by_book_py_lists_its_rebuilds():
    full = cold_full(noop_build_s=5.0, noop_executed=[], prose_build_s=12.0, prose_executed=["one_epoch"],
                     prose_runs_trained=0, param_change={"chapter": "one_epoch", "param": "lr=0.002", "seconds": 60.0,
                                                         "runs_trained": 10})
    rows = report.book_rows(full)
    assert rows.measure.iloc[0] == "cold build (every run trained)"
    assert rows.set_index("measure").loc["rebuild after a prose-only change", "status"] == "met"
    assert len(rows) == 5


def test_chapter_times_put_each_mode_in_a_column():
    times = report.chapter_times({"quick": {"chapters_cold": {"intro": 12.4, "ledger": 0}},
                                  "full": {"chapters_cold": {"intro": 300.0}}, "other": None})
    assert times.to_dict("records") == [{"chapter": "intro", "quick (s)": "12", "full (s)": "300"},
                                        {"chapter": "ledger", "quick (s)": "", "full (s)": ""}]
    assert list(report.chapter_times({"quick": None}).columns) == ["chapter"]
