"""Stopping a build is safe whatever the signal: no process outlives `onepoch`, and a chapter
whose build was killed outright writes nothing into the book afterwards."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import notebook
from onepoch.book.processes import _alive

SLOW = notebook([
    ("markdown", "# Alpha", []),
    ("code", "quick = False", ["parameters"]),
    ("code", "import json, os, subprocess, time\n"
             "sleeper = subprocess.Popen(['sleep', '300'])\n"
             "path = os.environ['PIDS_FILE']\n"
             "open(path + '.tmp', 'w').write(json.dumps([os.getppid(), os.getpid(), sleeper.pid]))\n"
             "os.replace(path + '.tmp', path)\n"
             "time.sleep(20)", []),  # long enough for a loaded machine to act on the signal first
    ("code", "from onepoch.analysis import ledger\nledger.record('C3', 'x', 1, 'agrees', 'alpha')", []),
])

CLI = """
import signal
import sys
from pathlib import Path
from onepoch import book, cli
# as when started from a terminal: a test run launched as a background job or under nohup inherits
# SIGINT and SIGHUP ignored, and the command rightly keeps ignoring them (test below)
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGHUP, signal.SIG_DFL)
book.paths.ROOT = Path(sys.argv[1])
sys.argv = ["onepoch", "build", "--quick", "--no-strict"]
sys.exit(cli.main())
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_no_process_outlives_a_stopped_build(tiny_book, tmp_path, sig):
    (tiny_book / "book" / "alpha.ipynb").write_text(SLOW)
    pids_file = tmp_path / "pids.json"
    env = {**os.environ, "PIDS_FILE": str(pids_file), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", CLI, str(tiny_book)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    end = time.monotonic() + 120
    while not pids_file.is_file():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "the chapter never started"
        time.sleep(0.1)
    children = json.loads(pids_file.read_text())  # papermill's process, the kernel, the kernel's child
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig != signal.SIGKILL:
        assert proc.returncode == 128 + sig, err
        assert "interrupted" in err and "Traceback" not in err, err
    end = time.monotonic() + 10  # after SIGKILL the chapter's process notices its parent is gone
    while any(_alive(p) for p in children) and time.monotonic() < end:
        time.sleep(0.1)
    assert [p for p in children if _alive(p)] == []
    time.sleep(21)  # longer than the chapter would have taken: nothing writes its ledger rows
    ledger = tiny_book / "_build" / "quick" / "ledger"
    assert not (ledger / "alpha.json").exists()
    assert not (tiny_book / "_build" / "quick" / "executed" / "alpha.ipynb").exists()


def test_a_parallel_build_stops_every_chapter_at_once(tiny_book, tmp_path):
    """--jobs 2: a stop ends the chapter the other worker runs too, at once, not when it finishes."""
    slow_beta = SLOW.replace("PIDS_FILE']", "PIDS_FILE'] + '.beta'").replace("'alpha')", "'beta')")
    (tiny_book / "book" / "alpha.ipynb").write_text(SLOW.replace("time.sleep(20)", "time.sleep(60)"))
    (tiny_book / "book" / "beta.ipynb").write_text(slow_beta.replace("time.sleep(20)", "time.sleep(60)"))
    pids_file = tmp_path / "pids.json"
    env = {**os.environ, "PIDS_FILE": str(pids_file), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cli = CLI.replace('"--no-strict"]', '"--no-strict", "--jobs", "2"]')
    proc = subprocess.Popen([sys.executable, "-c", cli, str(tiny_book)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    beta_file = Path(str(pids_file) + ".beta")
    end = time.monotonic() + 120
    while not (pids_file.is_file() and beta_file.is_file()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "the chapters never started"
        time.sleep(0.1)
    children = json.loads(pids_file.read_text()) + json.loads(beta_file.read_text())
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM and time.monotonic() - start < 20, err
    assert [p for p in children if _alive(p)] == []


def test_a_signal_started_ignored_stays_ignored():
    """`nohup onepoch build`: SIGHUP was ignored at start and must stay so; SIGTERM is always handled."""
    code = ("import signal\n"
            "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
            "from onepoch.book.processes import handle_stop_signals\n"
            "handle_stop_signals()\n"
            "print(signal.getsignal(signal.SIGHUP) == signal.SIG_IGN, "
            "signal.getsignal(signal.SIGTERM) not in (signal.SIG_IGN, signal.SIG_DFL))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert out.stdout.split() == ["True", "True"]
