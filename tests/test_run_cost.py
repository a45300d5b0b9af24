"""The Exercises lead's training cost: computed from the run records a chapter's execution noted,
never typed in. Known seconds in a constructed run log give known numbers and a known sentence."""
from __future__ import annotations

import json

import pytest

from onepoch.analysis import run_cost


def write_log(path, entries):
    path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")


def test_cost_counts_sums_and_takes_the_median():
    c = run_cost.cost([2.0, 4.0, 30.0])
    assert (c.runs, c.seconds, c.median) == (3, 36.0, 4.0)


def test_a_negative_duration_is_refused():
    with pytest.raises(ValueError, match="negative"):
        run_cost.cost([1.0, -2.0])


def test_the_log_counts_each_run_once_and_skips_a_cut_line(tmp_path):
    log = tmp_path / "runs.jsonl"
    write_log(log, [{"key": "a", "seconds": 3.0, "trained": True},
                    {"key": "b", "seconds": 5.0, "trained": False},
                    {"key": "a", "seconds": 3.0, "trained": False}])  # a run used twice is one run
    with log.open("a", encoding="utf-8") as f:
        f.write('{"key": "c", "seco')  # a worker killed mid-line
    assert run_cost.used_runs(log) == {"a": 3.0, "b": 5.0}


def test_the_sentence_states_the_recorded_cost(tmp_path):
    log = tmp_path / "runs.jsonl"
    write_log(log, [{"key": f"k{i}", "seconds": s, "trained": False}
                    for i, s in enumerate([4.0, 4.2, 4.4, 300.0])])
    assert run_cost.chapter_cost_text(quick=True, log=log) == (
        "This chapter's 4 quick-mode runs took 5.2 minutes of one core in all when they were trained "
        "(median 4.3 s per run); from the run cache they cost nothing, and an exercise that adds "
        "n runs of the same size adds about n × 4.3 s of training.")


def test_units_follow_the_size():
    assert run_cost.duration(4.25) == "4.2 s"
    assert run_cost.duration(75) == "75 s"
    assert run_cost.duration(600) == "10.0 minutes"
    assert run_cost.duration(4 * 3600) == "4.0 hours"


def test_no_runs_and_no_log_say_so(tmp_path, monkeypatch):
    empty = tmp_path / "runs.jsonl"  # the chapter used no run: nothing was noted, not even the file
    assert "trains no runs" in run_cost.chapter_cost_text(log=empty)
    monkeypatch.delenv("ONEPOCH_RUN_LOG", raising=False)
    assert run_cost.used_runs() is None
    assert "`onepoch run`" in run_cost.chapter_cost_text()


def test_the_log_of_this_execution_is_the_default(tmp_path, monkeypatch):
    log = tmp_path / "runs.jsonl"
    write_log(log, [{"key": "a", "seconds": 12.0, "trained": True}])
    monkeypatch.setenv("ONEPOCH_RUN_LOG", str(log))
    assert run_cost.chapter_cost_text(quick=False).startswith("This chapter's one full-mode run took 12 s of one core")


def test_without_a_mode_the_sentence_names_none():
    assert run_cost.sentence(run_cost.cost([5.0, 7.0])).startswith("This chapter's 2 runs took 12 s of one core")
