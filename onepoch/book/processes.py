"""Child processes that never outlive the command.

Every child the book starts (a chapter's papermill process, ``jupyter-book build``) runs in its own
session and process group, so a Ctrl-C at the terminal reaches only ``onepoch``, which then stops
the children itself: the whole tree below each child (papermill starts the kernel in a session of
its own, and the kernel its workers), SIGTERM first, SIGKILL after a grace period. SIGTERM and
SIGHUP are turned into the same :class:`Stopped` (a KeyboardInterrupt) as Ctrl-C, so every path
out of a build runs the same clean-up, and the build lock is released only after the children are
gone. A child whose parent is killed outright (SIGKILL) stops itself: see ``child.watch_parent``.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

GRACE_S = 3.0  # how long a child gets to exit on SIGTERM before SIGKILL

_LIVE: set[subprocess.Popen] = set()
_GUARD = threading.Lock()
_STOPPING = threading.Event()  # set while a stop is under way: no new child starts (parallel builds)


class Stopped(KeyboardInterrupt):
    """The command was asked to stop (SIGINT, SIGTERM or SIGHUP)."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stopped(signum, frame):
    raise Stopped(signum)


def handle_stop_signals() -> None:
    """SIGTERM and SIGHUP raise :class:`Stopped` like Ctrl-C (main thread only; the CLI calls it).

    A signal the command was started with ignored stays ignored: `nohup onepoch build` keeps SIGHUP
    ignored, so closing the terminal does not stop the build, and a shell's background job ignores Ctrl-C
    (SIGINT) as the shell intended. SIGTERM always stops it.
    """
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if sig != signal.SIGTERM and signal.getsignal(sig) == signal.SIG_IGN:
            continue
        signal.signal(sig, _raise_stopped)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc; empty elsewhere), parents before children."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a zombie has ended; only its parent's wait is missing
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        return stat[stat.rindex(b")") + 2:stat.rindex(b")") + 3] != b"Z"
    except OSError:
        return True


def kill_tree(pid: int, grace_s: float = GRACE_S, wait=None) -> None:
    """Stop ``pid`` and every process below it: SIGTERM to each (and its group), SIGKILL to those
    still there after ``grace_s``. ``wait`` reaps ``pid`` when it is our child."""
    tree = [pid, *descendants(pid)]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        tree += [p for p in descendants(pid) if p not in tree]  # started meanwhile
        for p in tree:
            for kill in (os.killpg, os.kill):
                try:
                    kill(p, sig)
                except (ProcessLookupError, PermissionError, OSError):
                    pass
        deadline = time.monotonic() + (grace_s if sig == signal.SIGTERM else 10.0)
        while time.monotonic() < deadline:
            if wait is not None:
                wait()
            if not any(_alive(p) for p in tree):
                return
            time.sleep(0.05)


def run(cmd: list[str], **kwargs) -> int:
    """Run ``cmd`` in a session of its own and wait; stopped (with its tree) if we are interrupted."""
    with _GUARD:
        if _STOPPING.is_set():
            raise Stopped()
        proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
        _LIVE.add(proc)
    try:
        return proc.wait()
    except BaseException:
        kill_tree(proc.pid, wait=lambda: proc.poll())
        raise
    finally:
        with _GUARD:
            _LIVE.discard(proc)


def stop_all() -> None:
    """Stop every child still running (those waited on by other threads of a parallel build), and
    start no new one until :func:`allow_starts`."""
    with _GUARD:
        _STOPPING.set()
        live = list(_LIVE)
    for proc in live:
        kill_tree(proc.pid, wait=lambda p=proc: p.poll())


def allow_starts() -> None:
    _STOPPING.clear()
