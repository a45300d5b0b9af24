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
