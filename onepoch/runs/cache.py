"""On-disk result cache, keyed by the hash of a run's full configuration.

Each entry is one file: a sha256 of the payload on the first line, then the
pickled payload. It is written whole or not at all (`onepoch.atomic`): a
reader sees either nothing or a whole entry, whatever kills the writer. An entry
whose hash does not match its payload (a truncated or altered file) is
reported, removed and treated as missing.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import warnings
from pathlib import Path

from onepoch import atomic, settings


def cache_root() -> Path:
    return settings.cache_folder()


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
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return atomic.write_bytes(self.path(key), hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload,
                                  fsync=True)
