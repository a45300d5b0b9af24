"""What training a chapter's runs cost, from their run records: the sentence each chapter's Exercises
lead shows instead of a typed-in run time (a typed time goes stale as soon as the code or the machine
changes, and the project forbids typed-in numbers in chapters).

The runs are those the chapter actually used: `onepoch run` and `onepoch build` give each execution a
run log ($ONEPOCH_RUN_LOG) in which `onepoch.run_log.note_use` notes every run a chapter takes, trained or cached,
with the training seconds its cache record holds (one core: runs train single-threaded)."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from onepoch import run_log, settings


@dataclass(frozen=True)
class RunCost:
    runs: int
    seconds: float  # one-core training seconds of all the runs together
    median: float  # training seconds of the median run


def cost(seconds) -> RunCost:
    """The cost of runs that took `seconds` each (one value per distinct run)."""
    values = [float(s) for s in seconds]
    if any(s < 0 for s in values):
        raise ValueError(f"run seconds {values} include a negative duration: pass the runs' recorded seconds")
    return RunCost(len(values), sum(values), statistics.median(values) if values else 0.0)


def used_runs(log: str | Path | None = None) -> dict[str, float] | None:
    """Training seconds of each distinct run noted in the run log (default: this execution's,
    $ONEPOCH_RUN_LOG), by run key; None when there is no run log (a notebook run outside
    `onepoch run` / `onepoch build`, e.g. in JupyterLab)."""
    log = log if log is not None else settings.run_log()
    if not log:
        return None
    return {key: run["seconds"] for key, run in run_log.read(log).items()}


def duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} minutes"
    return f"{seconds / 3600:.1f} hours"


def sentence(c: RunCost | None, quick: bool | None = None) -> str:
    """One readable sentence on what the runs cost and what an exercise adding runs would cost;
    `quick` names the mode the runs were in (None: not said)."""
    if c is None:
        return ("This chapter's training cost is shown when it runs through `onepoch run` or `onepoch build`, "
                "which note every run it uses.")
    if c.runs == 0:
        return "This chapter trains no runs: it only reads stored results."
    per = duration(c.median)
    mode = "" if quick is None else ("quick-mode " if quick else "full-mode ")
    runs = f"one {mode}run" if c.runs == 1 else f"{c.runs:,} {mode}runs"
    return (f"This chapter's {runs} took {duration(c.seconds)} of one core in all when they were trained "
            f"(median {per} per run); from the run cache they cost nothing, and an exercise that adds "
            f"n runs of the same size adds about n × {per} of training.")


def chapter_cost_text(quick: bool | None = None, log: str | Path | None = None) -> str:
    """The sentence for the runs this chapter's execution has used so far (all of them, when called
    from its last cell); `quick`: the chapter's parameter of that name."""
    runs = used_runs(log)
    return sentence(None if runs is None else cost(runs.values()), quick)
