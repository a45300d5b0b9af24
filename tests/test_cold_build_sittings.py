"""benchmarks/sittings.py: a cold build timed over several sittings counts only if the log shows one
finished build of one commit from an empty cache."""
import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("sittings", Path(__file__).parents[1] / "benchmarks" / "sittings.py")
log = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(log)

T0 = 1_796_000_000


def write(tmp_path, lines):
    path = tmp_path / "cold_build.sittings"
    path.write_text("\n".join(lines) + "\n")
    return log.read(path)


def start(t, commit="abc1234", runs=None):
    return f"start {t} X commit {commit} load 1 1 1" + ("" if runs is None else f" runs {runs}")


def test_one_sitting_is_timed_start_to_end(tmp_path):
    s = write(tmp_path, [start(T0, runs=0), f"beat {T0 + 30} X load 2 2 2", f"end {T0 + 100} X rc 0 load 2 2 2"])
    assert log.check_cold(s, [T0 + 50, T0 + 99]) == 100


def test_a_sitting_cut_short_counts_to_its_last_heartbeat(tmp_path):
    s = write(tmp_path, [start(T0), f"beat {T0 + 30} X load 1 1 1", f"beat {T0 + 60} X load 1 1 1",
                         start(T0 + 1000), f"end {T0 + 1100} X rc 0 load 1 1 1"])
    assert [x["cut_short"] for x in s] == [True, False]
    # a run finished between the last beat and the cut is within the first sitting
    assert log.check_cold(s, [T0 + 70, T0 + 1050]) == 60 + 100


def test_a_run_older_than_the_first_sitting_means_the_cache_was_not_empty(tmp_path):
    s = write(tmp_path, [start(T0), f"end {T0 + 100} X rc 0 load 1 1 1"])
    with pytest.raises(log.SittingsError, match="not a cold build"):
        log.check_cold(s, [T0 - 500, T0 + 50])


def test_an_unfinished_or_failed_build_is_not_timed(tmp_path):
    cut = write(tmp_path, [start(T0), f"beat {T0 + 30} X load 1 1 1"])
    with pytest.raises(log.SittingsError, match="has not ended"):
        log.check_cold(cut, [T0 + 10])
    failed = write(tmp_path, [start(T0), f"end {T0 + 100} X rc 1 load 1 1 1"])
    with pytest.raises(log.SittingsError, match="exit status 1"):
        log.check_cold(failed, [T0 + 10])


def test_sittings_of_different_commits_are_not_one_build(tmp_path):
    s = write(tmp_path, [start(T0, "aaa"), f"beat {T0 + 30} X load 1 1 1", start(T0 + 100, "bbb"),
                         f"end {T0 + 200} X rc 0 load 1 1 1"])
    with pytest.raises(log.SittingsError, match="different commits"):
        log.check_cold(s, [T0 + 150])


def test_a_first_sitting_that_found_runs_is_refused(tmp_path):
    s = write(tmp_path, [start(T0, runs=3), f"end {T0 + 100} X rc 0 load 1 1 1"])
    with pytest.raises(log.SittingsError, match="found 3 runs"):
        log.check_cold(s, [T0 + 10])


def test_a_heartbeat_racing_the_end_is_ignored_and_stray_lines_are_refused(tmp_path):
    s = write(tmp_path, [start(T0), f"end {T0 + 100} X rc 0 load 1 1 1", f"beat {T0 + 101} X load 1 1 1"])
    assert log.check_cold(s, [T0 + 10]) == 100
    with pytest.raises(log.SittingsError, match="outside a sitting"):
        write(tmp_path, [f"end {T0} X rc 0"])
    with pytest.raises(log.SittingsError, match="not a sittings line"):
        write(tmp_path, ["hello"])


def test_lines_round_trip():
    event = log.parse_line(log.line("start", commit="abc", load=[0.5, 1.0, 2.0], runs=0))
    assert (event["kind"], event["commit"], event["load"], event["runs"]) == ("start", "abc", [0.5, 1.0, 2.0], 0)
    assert log.parse_line(log.line("end", rc=0))["rc"] == 0
