"""One cold build of the book from an empty run cache, timed, in as many sittings as it takes.

    ONEPOCH_DATA=../shared/data .venv/bin/python benchmarks/cold_build.py --cache /scratch/cold
    # cut short (a session ended, the machine went away)? Run the same command again: the build skips
    # the chapters it executed and the runs it trained, and the log gets another sitting. Then:
    .venv/bin/python benchmarks/book.py --mode full --measured-build _build --cache /scratch/cold \\
        --sittings /scratch/cold/cold_build.sittings

A full cold build takes hours on two cores; `book.py`'s own cold build (a copy of the book in a
temporary folder) has to finish in one go, this one does not: it builds a checkout (this one, or
`--checkout` with its own .venv, so that work on this one can go on meanwhile), with the run cache
given (its data cache may be a link to one already built: preparing samples is not training).
Every sitting appends to the log (format and checks in `sittings.py`): its start (commit, load, runs in
the cache), a heartbeat every 30 s, and its end with the build's exit status. The first sitting needs
an empty run cache; later ones need the same commit, so that the sittings build one book.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
from pathlib import Path

from common import REPO, load_avg

import sittings as log  # noqa: E402


def runs_in(cache: Path) -> int:
    return sum(1 for _ in (cache / "runs").glob("*/*.json")) if (cache / "runs").is_dir() else 0


def checkout_python(checkout: Path) -> tuple[str, str]:
    """The checkout's commit and the Python whose `onepoch` is the checkout's own (its .venv, else this
    one), so that the book built is the commit logged."""
    commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=True).stdout.strip()
    if dirty:
        raise SystemExit(f"{checkout} has uncommitted changes: the log names a commit, so build a clean checkout")
    venv = checkout / ".venv" / "bin" / "python"
    python = str(venv) if venv.exists() else sys.executable
    where = subprocess.run([python, "-c", "import onepoch; print(onepoch.__file__)"], capture_output=True,
                           text=True, check=True).stdout.strip()
    if not Path(where).resolve().is_relative_to(checkout.resolve()):
        raise SystemExit(f"{python} imports onepoch from {where}, not from {checkout}: make that checkout's "
                         f".venv (make venv) so the book built is the commit logged")
    return commit, python


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, required=True, help="the run cache to fill (ONEPOCH_CACHE); empty at first")
    ap.add_argument("--mode", choices=["quick", "full"], default="full")
    ap.add_argument("--log", type=Path, default=None, help="the sittings log (default CACHE/cold_build.sittings)")
    ap.add_argument("--checkout", type=Path, default=REPO, help="the checkout to build (default this one)")
    args = ap.parse_args(argv)
    cache = args.cache.resolve()
    path = args.log or cache / "cold_build.sittings"
    commit, python = checkout_python(args.checkout)
    runs = runs_in(cache)
    before = log.read(path) if path.exists() else []
    if not before and runs:
        raise SystemExit(f"{cache} already holds {runs} runs: a cold build starts from an empty run cache "
                         "(give a new --cache folder)")
    if before and before[0]["commit"] != commit:
        raise SystemExit(f"the log's build is of commit {before[0]['commit']}, this checkout is {commit}: "
                         f"check that commit out to continue it, or start again with a new --cache")
    if before and before[-1]["rc"] == 0:
        raise SystemExit(f"the build in {path} has finished: measure it with benchmarks/book.py --sittings {path}")
    cache.mkdir(parents=True, exist_ok=True)

    def write(text: str) -> None:
        with open(path, "a") as f:
            f.write(text + "\n")

    write(log.line("start", commit=commit, load=load_avg(), runs=runs))
    done = threading.Event()

    def beat():
        while not done.wait(log.BEAT):
            write(log.line("beat", load=load_avg()))

    threading.Thread(target=beat, daemon=True).start()
    env = {**os.environ, "ONEPOCH_CACHE": str(cache), "ONEPOCH_PROGRESS": "0", "PYTHONHASHSEED": "0"}
    cmd = [python, "-m", "onepoch.cli", "build", "--jobs", "1"] + (["--quick"] if args.mode == "quick" else [])
    rc = subprocess.call(cmd, cwd=args.checkout, env=env)
    done.set()
    write(log.line("end", rc=rc, load=load_avg()))
    print(f"sitting ended with exit status {rc}; log: {path}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
