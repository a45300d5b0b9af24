"""One process at a time in a folder: an exclusive ``flock`` held for a ``with`` block.

The system releases an ``flock`` when its process ends, however it ends (SIGKILL included), so a
killed holder never leaves a stale lock. Not re-entrant: take it once, at the outermost level.
A no-op where ``fcntl`` is missing (not POSIX).
"""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path


@contextlib.contextmanager
def exclusive(path: str | os.PathLike, what: str = "another process", quiet: bool = False):
    """Hold the lock file ``path``; if another process holds it, say so (unless ``quiet``) and wait."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            if not quiet:
                print(f"{what} is running in {path.parent} ({holder}); waiting for it to finish", file=sys.stderr, flush=True)
            fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        yield  # closing the file releases the flock
