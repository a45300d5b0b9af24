"""The log of a cold build that may take several sittings (`cold_build.py` writes it, `book.py
--sittings` reads it).

One line per event, appended as it happens: a start, a heartbeat every `BEAT` seconds while the build
runs, and an end. A sitting cut short (a session ended, the machine went away) leaves no end; its time
is taken to its last heartbeat, so it is known to within `BEAT` seconds (and undercounted, never
overcounted: what it trained after its last beat is counted as free).

    start 1796149315 2026-12-01T18:21:55Z commit 7da1a25 load 0.30 0.81 0.94 runs 0
    beat 1796149345 2026-12-01T18:22:25Z load 1.10 0.90 0.95
    end 1796159473 2026-12-01T21:11:13Z rc 0 load 2.01 2.05 2.02

`runs` (runs in the cache when the sitting started) is optional: the first sittings were logged by a
shell script that did not count them. Whether the cache was empty at the start is checked another way
in `check_cold`: every run file in the cache was written during one of the sittings.
"""
from __future__ import annotations

import time
from pathlib import Path

FIELDS = {"commit": 1, "rc": 1, "load": 3, "runs": 1}
KINDS = ("start", "beat", "end")
BEAT = 30  # seconds between heartbeats


class SittingsError(ValueError):
    """The log does not describe one finished cold build."""


def line(kind: str, **fields) -> str:
    """One log line: kind, epoch seconds, UTC time, then the given fields in FIELDS' order."""
    now = time.time()
    parts = [kind, str(int(now)), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))]
    for name in FIELDS:
        if name in fields:
            value = fields[name]
            parts += [name] + [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    return " ".join(parts)


def parse_line(text: str, where: str = "") -> dict:
    parts = text.split()
    if len(parts) < 3 or parts[0] not in KINDS or not parts[1].isdigit():
        raise SittingsError(f"{where}: not a sittings line ('start|beat|end EPOCH UTC ...'): {text!r}")
    event = {"kind": parts[0], "epoch": int(parts[1]), "utc": parts[2]}
    i = 3
    while i < len(parts):
        name = parts[i]
        if name not in FIELDS:
            raise SittingsError(f"{where}: unknown field {name!r} (known: {', '.join(FIELDS)})")
        values = parts[i + 1 : i + 1 + FIELDS[name]]
        if len(values) != FIELDS[name]:
            raise SittingsError(f"{where}: field {name!r} needs {FIELDS[name]} value(s)")
        event[name] = [float(v) for v in values] if name == "load" else (values[0] if name == "commit" else int(values[0]))
        i += 1 + FIELDS[name]
    return event


def read(path: Path) -> list[dict]:
    """The sittings, each {start, end, seconds, commit, rc, load_start, load_end, runs_at_start, cut_short};
    a sitting that never logged its end is `cut_short`, timed to its last heartbeat (rc None)."""
    sittings: list[dict] = []
    for n, text in enumerate(Path(path).read_text().splitlines(), 1):
        if not text.strip():
            continue
        event = parse_line(text, f"{path}:{n}")
        if event["kind"] == "start":
            sittings.append({"start": event["epoch"], "start_utc": event["utc"], "commit": event.get("commit"),
                             "load_start": event.get("load"), "runs_at_start": event.get("runs"),
                             "end": event["epoch"], "end_utc": event["utc"], "seconds": 0, "rc": None,
                             "cut_short": True, "ended": False})
        elif sittings and sittings[-1]["ended"] and event["kind"] == "beat":
            continue  # a heartbeat that raced the end line
        elif not sittings or sittings[-1]["ended"]:
            raise SittingsError(f"{path}:{n}: a {event['kind']} line outside a sitting (no start before it)")
        else:
            s = sittings[-1]
            s.update(end=event["epoch"], end_utc=event["utc"], seconds=event["epoch"] - s["start"],
                     load_end=event.get("load"))
            if event["kind"] == "end":
                s.update(rc=event.get("rc"), cut_short=False, ended=True)
    return sittings


def check_cold(sittings: list[dict], run_mtimes: list[float]) -> float:
    """The cold build's time: the sittings' seconds added up, if they make one finished build of one
    commit from an empty cache; else SittingsError saying what is missing."""
    if not sittings:
        raise SittingsError("no sitting in the log: run benchmarks/cold_build.py first")
    if sittings[-1]["rc"] != 0:
        state = "has not ended" if sittings[-1]["cut_short"] else f"ended with exit status {sittings[-1]['rc']}"
        raise SittingsError(f"the last sitting {state}: run benchmarks/cold_build.py again until the build finishes")
    commits = {s["commit"] for s in sittings}
    if len(commits) != 1 or None in commits:
        raise SittingsError(f"the sittings built different commits ({sorted(map(str, commits))}): one build "
                            "means one book; start again with an empty cache")
    if sittings[0].get("runs_at_start") not in (None, 0):
        raise SittingsError(f"the first sitting found {sittings[0]['runs_at_start']} runs in the cache: not a cold build")
    # A sitting cut short ran on after its last heartbeat for up to BEAT seconds, training runs.
    spans = [(s["start"], s["end"] + (BEAT if s["cut_short"] else 0)) for s in sittings]
    outside = [t for t in run_mtimes if not any(a - 1 <= t <= b + 1 for a, b in spans)]
    if outside:
        raise SittingsError(f"{len(outside)} run(s) in the cache were not trained during these sittings: "
                            "the cache was not empty, so this is not a cold build")
    if not run_mtimes:
        raise SittingsError("the cache holds no runs: nothing was trained")
    return float(sum(s["seconds"] for s in sittings))
