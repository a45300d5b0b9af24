"""One-time migration of run-cache entries of the old pickle format (``<key>.pkl``) to the data
format of `onepoch.runs.cache` (`onepoch results migrate`).

Only for entries this package wrote on this machine: the old format is a pickle, and unpickling a
file from anywhere else could run code. Even so the unpickler here is restricted: it builds only
the classes a cached run holds (pandas frames, numpy arrays, builtins) and refuses any other
global, so a crafted file is refused rather than run. A migrated entry is checked like any entry
on read, and its old file is removed; one that fails stays where it is, reported.
"""
from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path

from onepoch.runs.cache import CacheError, ResultCache

_SAFE_MODULES = ("pandas", "numpy")
_SAFE_FUNCTIONS = {
    ("copyreg", "_reconstructor"), ("builtins", "object"), ("builtins", "slice"), ("builtins", "complex"),
    ("builtins", "frozenset"), ("builtins", "set"), ("builtins", "range"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"), ("numpy", "dtype"),
    ("pandas._libs.internals", "_unpickle_block"), ("pandas.core.internals.blocks", "new_block"),
    ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"), ("pandas.core.indexes.base", "_new_Index"),
    ("pandas._libs.tslibs.timestamps", "_unpickle_timestamp"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """Builds pandas / numpy classes and a few known constructors; refuses every other global."""

    def find_class(self, module: str, name: str):
        if (module, name) in _SAFE_FUNCTIONS:
            return super().find_class(module, name)
        if module.split(".")[0] in _SAFE_MODULES and "." not in name:
            obj = super().find_class(module, name)
            if isinstance(obj, type):  # a class (its constructor), never an arbitrary function
                return obj
        raise pickle.UnpicklingError(f"refused to load {module}.{name}: not part of a cached run")


def load_old(path: Path) -> dict:
    blob = path.read_bytes()
    digest, _, payload = blob.partition(b"\n")
    if hashlib.sha256(payload).hexdigest().encode() != digest:
        raise CacheError("checksum mismatch")
    try:
        value = RestrictedUnpickler(io.BytesIO(payload)).load()
    except (pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError, ValueError) as exc:
        raise CacheError(str(exc)) from None
    if not isinstance(value, dict) or not {"config", "data_checksum", "frame", "seconds"} <= set(value):
        raise CacheError("not a cached run")
    return value


def migrate(store: ResultCache | None = None) -> tuple[int, list[str]]:
    """Convert every ``<key>.pkl`` under the run cache; returns (migrated, failures as lines)."""
    store = store or ResultCache()
    done, failed = 0, []
    for path in sorted(store.dir.glob("??/*.pkl")):
        key = path.stem
        try:
            value = load_old(path)
            store.put(key, value)
            store.read(key)  # the new entry passes the same checks as any read
        except (CacheError, OSError, KeyError) as exc:
            store.remove(key)
            failed.append(f"{path}: {exc}")
            continue
        path.unlink()
        done += 1
    return done, failed
