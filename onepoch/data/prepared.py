"""The paper's own data sets (Amazon Book, Taobao): multi-GB raw files, prepared once.

    raw files --stream--> Prepared arrays --cache--> Interactions --samples.py--> CTRData

A preparer (`onepoch.data.amazon_book`, `onepoch.data.taobao`) streams its
raw files with bounded memory (the raw text is never held whole; what is kept
is compact numpy arrays, a few bytes per interaction) and returns `Prepared`:
each user's time-ordered item sequence plus an item -> category table. It is
cached under `$ONEPOCH_CACHE/data/prepared/`, keyed by the raw files' sha256
and `PREP_VERSION`, so the slow pass runs once; `load()` then builds samples
from it with the shared constructions of `onepoch.data.samples`.

Getting the raw files (resumed downloads, checksums printed to pin, what to
do when a file behind a login is missing) is `onepoch.data.files`, as for
every data set; the paper's Table 2 is `onepoch.data.paper_table2`.
"""
from __future__ import annotations

import contextlib
import hashlib
import gzip
import importlib
import json
import os
import time
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from onepoch import atomic, settings
from onepoch.data import files, registry
from onepoch.data.files import fetch, file_sha256, progress_bar, say  # noqa: F401 (the preparers' helpers)
from onepoch.data.interactions import Interactions
from onepoch.errors import DataError


# Bump when a preparer's output changes (parsing rules, orderings, ...).
PREP_VERSION = 1
# reader name (registry.DatasetSource.reader) -> module with `prepare(paths) -> Prepared`
PREPARERS = {"amazon_book": "onepoch.data.amazon_book", "taobao": "onepoch.data.taobao"}
# a raw file with more malformed rows than this share (and more than MAX_BAD_ROWS) is rejected as
# the wrong or a damaged file; fewer are skipped with a warning
MAX_BAD_SHARE = 0.01
MAX_BAD_ROWS = 10
_CHUNK = 1 << 20


@dataclass
class Prepared:
    """Per-user item sequences in raw id space, oldest first (see `interactions`)."""

    users: np.ndarray  # int64 (U,): raw user id of each sequence
    offsets: np.ndarray  # int64 (U + 1,): sequence u is items[offsets[u]:offsets[u + 1]]
    items: np.ndarray  # int32 (T,): raw item ids >= 1 (0 is padding)
    item_category: np.ndarray  # int64, indexed by raw item id; 0 = unknown
    info: dict = field(default_factory=dict)  # what was read, skipped and kept (JSON-able)
    names: dict = field(default_factory=dict)  # optional: kind -> array of raw string ids, indexed by id

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


# -- progress ---------------------------------------------------------------------

def _advance(bar, position: int) -> None:
    if position > bar.n:
        bar.update(position - bar.n)


# -- malformed rows --------------------------------------------------------------

class BadRows:
    """Counts skipped rows of one raw file; warns, or rejects the file when too many are bad."""

    EXAMPLES = 5

    def __init__(self, path: Path, what: str = "row"):
        self.path, self.what = Path(path), what
        self.count = 0
        self.examples: list[str] = []

    def add(self, line: int, reason: str) -> None:
        self.count += 1
        if len(self.examples) < self.EXAMPLES:
            self.examples.append(f"line {line}: {reason}")

    def check(self, rows: int) -> None:
        """`rows`: every non-empty row looked at, good or bad."""
        good = rows - self.count
        where = "; ".join(self.examples)
        if good <= 0:
            raise DataError(f"{self.path}: no valid {self.what}s ({rows} rows read; {where or 'empty file'}). "
                            "Is it the right file? Delete it and get it again")
        if self.count > max(MAX_BAD_SHARE * rows, MAX_BAD_ROWS):
            raise DataError(f"{self.path}: {self.count} of {rows} {self.what}s are malformed (more than "
                            f"{MAX_BAD_SHARE:.0%}; {where}). Is it the right, complete file? Delete it and get it again")
        if self.count:
            warnings.warn(f"{self.path}: skipped {self.count} malformed {self.what}(s) of {rows} ({where})",
                          stacklevel=3)

    def as_dict(self) -> dict:
        return {"malformed": self.count, "malformed_examples": self.examples}


# -- opening raw files ---------------------------------------------------------------

@contextlib.contextmanager
def open_binary(path: str | os.PathLike, member_suffix: str = ""):
    """(stream, position, total): a binary stream of the file's (decompressed) contents.

    `.gz` is decompressed on the fly, `.zip` opens its one member (or the one
    ending with `member_suffix`); `position()` / `total` measure progress in
    bytes of the file on disk (gzip) or of the member (zip).
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with open(path, "rb") as raw, gzip.GzipFile(fileobj=raw) as gz:  # GzipFile buffers
                yield gz, raw.tell, path.stat().st_size
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                info = _zip_member(zf, path, member_suffix)
                with zf.open(info) as member:  # a buffered stream of the uncompressed member
                    yield member, member.tell, info.file_size
        else:
            with open(path, "rb", buffering=_CHUNK) as f:
                yield f, f.tell, path.stat().st_size
    except (EOFError, gzip.BadGzipFile, zlib.error, zipfile.BadZipFile) as exc:
        raise DataError(f"{path} is truncated or corrupted ({type(exc).__name__}: {exc}). "
                        "Delete it and get it again (an interrupted download resumes from its .part file)") from exc


def _zip_member(zf: zipfile.ZipFile, path: Path, suffix: str) -> zipfile.ZipInfo:
    files = [i for i in zf.infolist() if not i.is_dir() and not Path(i.filename).name.startswith(".")]
    pick = [i for i in files if i.filename.endswith(suffix)] if suffix else files
    if len(pick) != 1:
        names = ", ".join(i.filename for i in files) or "none"
        raise DataError(f"{path}: expected one file{' ending with ' + suffix if suffix else ''} in the archive, "
                        f"found: {names}. Extract the right one next to it")
    return pick[0]


def prepared_dir() -> Path:
    return registry.cache_dir() / "prepared"


# -- preparing and caching ------------------------------------------------------------------

def raw_checksum(paths: dict[str, Path]) -> str:
    """sha256 over the raw files' sha256 (by role) and PREP_VERSION."""
    text = "\n".join(f"{role} {file_sha256(paths[role])}" for role in sorted(paths)) + f"\nprep {PREP_VERSION}"
    return hashlib.sha256(text.encode()).hexdigest()


def load_prepared(name: str, paths: dict[str, Path]) -> Prepared:
    """The prepared arrays of data set `name`: from the cache, else streamed from the raw files once."""
    src = registry.source(name)
    if src.reader not in PREPARERS:
        raise DataError(f"data set {name!r} is not a prepared data set")
    path = prepared_dir() / f"{name}-{raw_checksum(paths)[:24]}.npz"
    cached = _read(path)
    if cached is not None:
        return cached
    say(f"preparing {name} from {', '.join(str(p) for p in paths.values())} (once; cached in {path})")
    start = time.perf_counter()
    prep = importlib.import_module(PREPARERS[src.reader]).prepare(paths)
    prep.info.update(name=name, seconds=round(time.perf_counter() - start, 1), prep_version=PREP_VERSION,
                     files={role: {"path": str(p), "bytes": p.stat().st_size, "sha256": file_sha256(p)}
                            for role, p in paths.items()})
    _write(path, prep)
    say(f"prepared {name} in {prep.info['seconds']:.0f} s: {len(prep.users):,} users, "
        f"{len(prep.items):,} interactions")
    return prep


def interactions(name: str, paths: dict[str, Path]):
    """`Interactions` of a prepared data set (the reader `onepoch.data.readers.read_files` uses)."""
    prep = load_prepared(name, paths)
    items = prep.items.astype(np.int64)
    sequences = np.split(items, prep.offsets[1:-1]) if len(prep.users) else []
    return Interactions(name, sequences, prep.users.astype(np.int64), prep.item_category.astype(np.int64),
                        files.files_checksum(paths))


def _write(path: Path, prep: Prepared) -> None:
    arrays = dict(users=prep.users, offsets=prep.offsets, items=prep.items, item_category=prep.item_category,
                  info=np.array(json.dumps(prep.info, default=_json_default)))
    arrays.update({f"names_{k}": np.asarray(v, dtype=str) for k, v in prep.names.items()})
    with atomic.replacing(path) as f:
        np.savez(f, **arrays)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _read(path: Path) -> Prepared | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            names = {k[len("names_"):]: z[k] for k in z.files if k.startswith("names_")}
            prep = Prepared(z["users"], z["offsets"], z["items"], z["item_category"], json.loads(str(z["info"])),
                            names)
        if prep.info.get("prep_version") != PREP_VERSION or len(prep.offsets) != len(prep.users) + 1:
            raise ValueError("stale or inconsistent entry")
    except Exception as exc:  # anything unreadable: prepare again rather than fail
        warnings.warn(f"prepared data file {path} is unreadable ({type(exc).__name__}: {exc}); "
                      "deleting it and preparing again", stacklevel=3)
        path.unlink(missing_ok=True)
        return None
    return prep


def fetch_dataset(name: str, data_dir=None) -> Prepared:
    """Download (where possible) and prepare data set `name` now; prints what was done.

    For users with internet: `onepoch.data.fetch("amazon-book")` downloads
    the raw files (resuming), prints their sha256, prepares and caches the
    arrays, so that chapters start at once. Without internet it raises the
    same `DataError` as `load()`, saying what to download and where to put it.
    """
    src = registry.source(name)
    if not src.prepared:
        raise DataError(f"{name!r} is not one of the prepared data sets; use onepoch.data.ensure_files")
    folder = registry.data_dir(data_dir)
    paths = files.ensure(src, folder, download=True)
    for role, p in paths.items():
        print(f"{name} {role}: {p} ({p.stat().st_size:,} bytes) sha256 {file_sha256(p)}", flush=True)
    prep = load_prepared(name, paths)
    print(f"{name}: {len(prep.users):,} users, {len(prep.items):,} interactions, "
          f"{int((prep.item_category > 0).sum()):,} items with a category", flush=True)
    return prep


# -- limits ---------------------------------------------------------------------------------

ENV_MAX_GB = "ONEPOCH_MAX_DATA_GB"


def memory_budget() -> float:
    """Bytes `load()` may use to build a prepared data set's samples: `$ONEPOCH_MAX_DATA_GB`, else 75 % of RAM."""
    if settings.max_data_bytes() is not None:
        return settings.max_data_bytes()
    try:
        return 0.75 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return float("inf")


def estimated_bytes(lengths: np.ndarray, construction: str, max_history: int, min_history: int,
                    max_users: int | None) -> float:
    """Memory to build the samples: int64 histories of every (positive, negative) row, about 5 copies
    (positives, raw pairs of two fields, encoded tensors), plus the sequences twice."""
    share = min(1.0, max_users / len(lengths)) if max_users and len(lengths) else 1.0
    if construction == "positions":
        positives = float(np.maximum(lengths - min_history, 0).sum())
    else:
        positives = float((lengths > min_history).sum())
    width = min(max_history, max(int(lengths.max()) - 1, 1)) if len(lengths) else 1
    return share * (2 * positives * (width + 3) * 8 * 5 + float(lengths.sum()) * 16)


def check_memory(name: str, inter, construction: str, max_history: int, min_history: int,
                 max_users: int | None) -> None:
    """Refuse, with the fix, samples of a prepared data set that would not fit in memory."""
    if not registry.source(name).prepared:
        return
    lengths = np.fromiter(map(len, inter.sequences), dtype=np.int64, count=inter.n_users)
    need, budget = estimated_bytes(lengths, construction, max_history, min_history, max_users), memory_budget()
    if need > budget:
        raise DataError(
            f"building {name!r} with construction={construction!r}, max_history={max_history}, "
            f"max_users={max_users} needs about {need / 1e9:.0f} GB of memory, more than the "
            f"{budget / 1e9:.0f} GB allowed (${ENV_MAX_GB}, default 75 % of this machine's RAM). Use "
            "construction='last' (the paper's), a smaller max_history, or max_users (a subset of users)")
