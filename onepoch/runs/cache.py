"""On-disk result cache, keyed by the hash of a run's full configuration.

Each entry is one file: a sha256 of the payload on the first line, then the
pickled payload. It is written to a temporary file in the same folder and
moved into place with `os.replace`, so a reader sees either nothing or a
whole entry -- never a half-written one, whatever kills the writer. An entry
whose hash does not match its payload (a truncated or altered file) is
reported, removed and treated as missing.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import warnings
from pathlib import Path


def cache_root() -> Path:
    return Path(os.environ.get("ONEPOCH_CACHE", ".onepoch-cache"))


class ResultCache:
    def __init__(self, root: Path | str | None = None, kind: str = "runs"):
        self.dir = Path(root) if root is not None else cache_root() / kind

    def path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.pkl"

    def __contains__(self, key: str) -> bool:
        return self.path(key).exists()

    def get(self, key: str):
        """The stored object, or None when missing or corrupted."""
        path = self.path(key)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        digest, _, payload = blob.partition(b"\n")
        if hashlib.sha256(payload).hexdigest().encode() != digest:
            warnings.warn(f"corrupted cache entry {path} (checksum mismatch): removed, the run will be redone")
            path.unlink(missing_ok=True)
            return None
        try:
            return pickle.loads(payload)
        except Exception as exc:  # a payload that hashes right but does not load: a version change
            warnings.warn(f"unreadable cache entry {path} ({exc}): removed, the run will be redone")
            path.unlink(missing_ok=True)
            return None

    def put(self, key: str, value) -> Path:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:8]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path
