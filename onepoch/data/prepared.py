"""The paper's own data sets (Amazon Book, Taobao): multi-GB raw files, prepared once.

    raw files --stream--> Prepared arrays --cache--> Interactions --samples.py--> CTRData

A preparer (`onepoch.data.amazon_book`, `onepoch.data.taobao`) streams its
raw files with bounded memory (the raw text is never held whole; what is kept
is compact numpy arrays, a few bytes per interaction) and returns `Prepared`:
each user's time-ordered item sequence plus an item -> category table. It is
cached under `$ONEPOCH_CACHE/data/prepared/`, keyed by the raw files' sha256
and `PREP_VERSION`, so the slow pass runs once; `load()` then builds samples
from it with the shared constructions of `onepoch.data.samples`.

Files: a missing file with a public URL is downloaded (with `download=True`)
to `<file>.part`, resuming an interrupted download with an HTTP Range
request; a known sha256 is verified, and the sha256 of a file without a
published one is printed so that it can be pinned in `sources.py`. A file
behind a login (Taobao) is looked for under each of its accepted names; when
it is missing, a `DataError` says where to get it and where to put it.
Hashing a multi-GB file takes a while: its sum is remembered on disk by
(path, size, modification time).
"""
from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import importlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from onepoch import atomic, settings
from onepoch.data import sources
from onepoch.errors import DataError

# Bump when a preparer's output changes (parsing rules, orderings, ...).
PREP_VERSION = 1
# reader name (sources.DatasetSource.reader) -> module with `prepare(paths) -> Prepared`
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


# -- messages and progress -----------------------------------------------------

def say(message: str) -> None:
    """A one-line note on stderr (preparation happens once, so it is always shown)."""
    print(message, file=sys.stderr, flush=True)


class _NoBar:
    n = 0

    def update(self, n=1):
        self.n += n

    def close(self):
        pass


def progress_bar(total: int | None, desc: str, initial: int = 0):
    """A byte-counting tqdm bar, or a silent stand-in when ONEPOCH_PROGRESS=0."""
    if not settings.progress_enabled():
        bar = _NoBar()
        bar.n = initial
        return bar
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                file=sys.stderr, leave=False, mininterval=1.0)


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


# -- checksums remembered on disk ------------------------------------------------------

def prepared_dir() -> Path:
    from onepoch.data.dataset import cache_dir

    return cache_dir() / "prepared"


def _memo_path() -> Path:
    return prepared_dir() / "sha256.json"


def _read_memo() -> dict:
    try:
        return json.loads(_memo_path().read_text())
    except (OSError, ValueError):
        return {}


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a (large) file, remembered on disk by (path, size, mtime, ctime) -- any write
    changes the ctime -- and handed to `sources`' in-process memo, so `load()` does not hash again."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    text_key = "|".join(map(str, key))
    sha = _read_memo().get(text_key)
    if sha is None:
        if st.st_size > 100 * _CHUNK:
            say(f"computing the sha256 of {path} ({st.st_size / 1e9:.2f} GB); it is remembered afterwards")
        sha = sources._hash_file(path)
        memo = _read_memo() | {text_key: sha}
        atomic.write_bytes(_memo_path(), json.dumps(memo, indent=1, sort_keys=True).encode())
    _share(key, sha)
    return sha


def _share(key: tuple, sha: str) -> None:
    # sources.file_sha256 memoises on (path, size, mtime) or, in newer code, (path, size, mtime, ctime)
    sources._SHA_CACHE[key[:3]] = sources._SHA_CACHE[key] = sha


# -- finding and fetching files ---------------------------------------------------------

def ensure_files(src: sources.DatasetSource, folder: Path, download: bool = False) -> dict[str, Path]:
    """Paths of the raw files by role; downloads what is missing and has a URL when `download`."""
    found, missing = {}, []
    for f in src.files:
        path = next((folder / p for p in (f.path, *f.alternatives) if (folder / p).is_file()), None)
        if path is None:
            missing.append(f)
        else:
            found[f.role] = path
    if missing and (not download or any(f.url is None for f in missing)):
        raise DataError(missing_message(src, missing, folder, download))
    for f in missing:
        try:
            found[f.role] = fetch(f.url, folder / f.path, f.sha256, f.size)
        except DataError as exc:
            left = [g for g in missing if g.role not in found]
            raise DataError(f"{exc}\n\n{missing_message(src, left, folder, download=True)}") from exc
    for f in src.files:  # hashed once per file version (remembered on disk): the data's cache key needs it
        actual = file_sha256(found[f.role])
        if f.sha256 is not None and actual != f.sha256:
            raise DataError(f"checksum mismatch for {found[f.role]}: expected sha256 {f.sha256}, got {actual}. "
                            "The file is corrupted or a different version: delete it and get it again")
    return found


def missing_message(src: sources.DatasetSource, missing: list, folder: Path, download: bool = False) -> str:
    exists = "" if folder.is_dir() else ", which does not exist"
    env = sources.ENV_DATA
    lines = [f"data set {src.name!r} ({src.description}): missing file(s) in the data folder {folder}{exists} "
             f"(the data_dir argument, else ${env}={settings.data_folder() or '<unset>'}):"]
    for f in missing:
        also = f" (or {', '.join(f.alternatives)})" if f.alternatives else ""
        lines.append(f"  {folder / f.path}{also}" + (f"  <- {f.url}" if f.url else ""))
    manual = [f for f in missing if f.url is None]
    if manual:
        lines.append(f"{'They' if len(manual) > 1 else 'It'} cannot be downloaded automatically. Get "
                     f"{'them' if len(manual) > 1 else 'it'} from {src.manual}, and put "
                     f"{'them' if len(manual) > 1 else 'it'} at the path above.")
    else:
        lines.append(("Pass download=True (or run onepoch.data.fetch_dataset) to download them: interrupted downloads "
                      "resume, and the files' sha256 is printed so that it can be pinned. "
                      if not download else "")
                     + f"Without internet on this machine, download them elsewhere (from the URLs above; "
                     f"source: {src.manual}) and copy them to the paths above.")
    lines.append("Preparing the samples then runs once (it streams the raw files) and is cached.")
    return "\n".join(lines)


def fetch(url: str, target: str | os.PathLike, sha256: str | None = None, size: int | None = None,
          opener=None) -> Path:
    """Download `url` to `target` through `target.part`, resuming a partial `.part` file.

    An existing `.part` file is continued with an HTTP Range request (a server
    that ignores it sends the whole file, which restarts the download). The
    file is renamed to `target` only after its size and sha256 match the known
    ones; without a known sha256 the computed one is printed. A network error
    keeps the `.part` file, so the next call resumes. `opener` defaults to
    `urllib.request.urlopen` (tests pass their own); it receives a `Request`.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    opener = opener or functools.partial(urllib.request.urlopen, timeout=sources._TIMEOUT_S)
    have = part.stat().st_size if part.is_file() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with opener(urllib.request.Request(url, headers=headers)) as response:
            status = getattr(response, "status", None) or response.getcode()
            resumed = bool(have) and status == 206 and _range_start(response) == have
            if have and not resumed:
                say(f"{url}: the server did not resume at byte {have}; downloading it again from the start")
                have = 0
            length = response.headers.get("Content-Length")
            total = have + int(length) if length and length.isdigit() else size
            bar = progress_bar(total, f"downloading {target.name}", initial=have)
            try:
                with open(part, "ab" if resumed else "wb") as out:
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        bar.update(len(chunk))
            finally:
                bar.close()
    except urllib.error.HTTPError as exc:
        if not (exc.code == 416 and have):  # 416 on a resume: the .part file is already complete
            raise DataError(_fetch_failed(url, target, part, exc)) from exc
    except (OSError, ValueError) as exc:  # URLError is an OSError
        raise DataError(_fetch_failed(url, target, part, exc)) from exc
    actual_size = part.stat().st_size
    digest = sources._hash_file(part)
    if (size is not None and actual_size != size) or (sha256 is not None and digest != sha256):
        part.unlink(missing_ok=True)
        raise DataError(f"downloaded {url} has {actual_size} bytes and sha256 {digest}, expected "
                        f"{size if size is not None else 'any size'} and {sha256 or 'any sha256'}; it was deleted. "
                        "The source may have changed: fetch it again or get a copy with the expected checksum")
    os.replace(part, target)
    st = target.stat()
    _share((str(target.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns), digest)
    if sha256 is None:
        print(f"{target}: {actual_size} bytes, sha256 {digest}\n  (no published checksum: pin it as "
              f"sha256 / size of this file in onepoch/data/sources.py to verify later downloads)", flush=True)
    return target


def _range_start(response) -> int | None:
    value = response.headers.get("Content-Range", "")  # "bytes 100-999/1000"
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _fetch_failed(url: str, target: Path, part: Path, exc: Exception) -> str:
    kept = part.is_file() and part.stat().st_size > 0
    resume = f" {part.stat().st_size} bytes are kept in {part}: run it again to resume." if kept else ""
    return (f"could not download {url}: {exc}.{resume} Without network access on this machine, download it "
            f"elsewhere and put it at {target}")


# -- preparing and caching ------------------------------------------------------------------

def raw_checksum(paths: dict[str, Path]) -> str:
    """sha256 over the raw files' sha256 (by role) and PREP_VERSION."""
    text = "\n".join(f"{role} {file_sha256(paths[role])}" for role in sorted(paths)) + f"\nprep {PREP_VERSION}"
    return hashlib.sha256(text.encode()).hexdigest()


def load_prepared(name: str, paths: dict[str, Path]) -> Prepared:
    """The prepared arrays of data set `name`: from the cache, else streamed from the raw files once."""
    src = sources.source(name)
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
    from onepoch.data.readers import Interactions, files_checksum

    prep = load_prepared(name, paths)
    items = prep.items.astype(np.int64)
    sequences = np.split(items, prep.offsets[1:-1]) if len(prep.users) else []
    return Interactions(name, sequences, prep.users.astype(np.int64), prep.item_category.astype(np.int64),
                        files_checksum(paths))


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
    src = sources.source(name)
    if not src.prepared:
        raise DataError(f"{name!r} is not one of the prepared data sets; use onepoch.data.ensure_files")
    folder = sources.data_dir(data_dir)
    paths = ensure_files(src, folder, download=True)
    for role, p in paths.items():
        print(f"{name} {role}: {p} ({p.stat().st_size:,} bytes) sha256 {file_sha256(p)}", flush=True)
    prep = load_prepared(name, paths)
    print(f"{name}: {len(prep.users):,} users, {len(prep.items):,} interactions, "
          f"{int((prep.item_category > 0).sum()):,} items with a category", flush=True)
    return prep


# -- the paper's Table 2 --------------------------------------------------------------------

TABLE2_FIELDS = ("user_id", "hist_item_ids", "hist_cat_ids", "item_id", "cat_id")
# paper Table 2 (number of unique IDs, mean occurrences per ID) over all samples, train and test;
# Taobao has no user ID field (each user has one sample there), and its "all" leaves users out
PAPER_TABLE2 = {
    "amazon-book": {"samples": 150_016, "fields": {
        "user_id": (75_008, 2.00), "hist_item_ids": (347_016, 19.35), "hist_cat_ids": (1_573, 4_269.04),
        "item_id": (85_473, 1.75), "cat_id": (959, 156.43), "all": (425_970, 32.76)}},
    "taobao": {"samples": 987_648, "fields": {
        "user_id": (None, None), "hist_item_ids": (4_039_879, 22.24), "hist_cat_ids": (9_411, 9_548.70),
        "item_id": (725_540, 1.36), "cat_id": (7_849, 125.8), "all": (4_049_291, 44.99)}},
}
ALL_LEAVES_OUT = {"taobao": ("user_id",)}
_TABLE2_DTYPES = {"unique_ids": "int64", "occurrences": "int64", "mean_occurrences": "float64",
                  "paper_unique_ids": "Int64", "paper_mean_occurrences": "Float64"}
_RAW = {"user_id": ("user_raw", "user"), "item_id": ("item", "item"), "cat_id": ("category", "category"),
        "hist_item_ids": ("hist_items", "item"), "hist_cat_ids": ("hist_cats", "category")}


def raw_field_stats(samples: list[dict], leave_out_of_all=()) -> pd.DataFrame:
    """Unique raw IDs and mean occurrences per field over all given raw sample dicts (Table 2 style).

    Counts raw ids as the paper's `cal_occurrence.py` does: over train and
    test together, padding (0) excluded; an item in `item_id` and in
    `hist_item_ids` is one ID in "all" (so is a category).
    """
    rows, per_kind = [], {}
    for name in TABLE2_FIELDS:
        key, kind = _RAW[name]
        values = np.concatenate([np.asarray(s[key]).reshape(-1) for s in samples]).astype(np.int64)
        if kind != "user":
            values = values[values != 0]
        counts = np.bincount(values) if len(values) else np.zeros(1, np.int64)
        unique, total = int((counts > 0).sum()), int(counts.sum())
        rows.append(dict(field=name, unique_ids=unique, occurrences=total,
                         mean_occurrences=total / unique if unique else float("nan")))
        if name not in leave_out_of_all:
            prev = per_kind.get(kind, np.zeros(0, np.int64))
            size = max(len(prev), len(counts))
            per_kind[kind] = np.pad(prev, (0, size - len(prev))) + np.pad(counts, (0, size - len(counts)))
    unique = sum(int((c > 0).sum()) for c in per_kind.values())
    total = sum(int(c.sum()) for c in per_kind.values())
    rows.append(dict(field="all", unique_ids=unique, occurrences=total,
                     mean_occurrences=total / unique if unique else float("nan")))
    return pd.DataFrame(rows).set_index("field")


def table2(name: str, construction: str | None = None, max_history: int | None = None,
           min_history: int | None = None, test_users: float = 0.1, max_users: int | None = None,
           seed: int = 0, data_dir=None, download: bool = False) -> pd.DataFrame:
    """The paper's Table 2 for data set `name`, measured on its samples, beside the paper's numbers.

    Same arguments as `onepoch.data.load`. Counts raw IDs over train AND
    test samples (as the paper did), not the training vocabulary that
    `CTRData.field_stats()` describes. `frame.attrs` holds the sample counts.
    The result is cached (small JSON) next to the data cache.
    """
    from onepoch.data import readers
    from onepoch.data.dataset import DATA_VERSION, cache_dir
    from onepoch.data.samples import build_samples, validate

    args = sources.load_arguments(name, construction, max_history, min_history)
    validate(args["construction"], args["max_history"], args["min_history"], test_users, max_users, seed)
    paths = sources.ensure_files(name, data_dir=data_dir, download=download)
    params = dict(args, test_users=float(test_users), max_users=max_users, seed=int(seed))
    payload = json.dumps({"name": name, "files": readers.files_checksum(paths), "params": params,
                          "version": [DATA_VERSION, PREP_VERSION]}, sort_keys=True)
    path = cache_dir() / "table2" / f"{hashlib.sha256(payload.encode()).hexdigest()}.json"
    try:
        stored = json.loads(path.read_text())
        frame = pd.DataFrame(stored["rows"]).set_index("field").astype(_TABLE2_DTYPES)
        frame.attrs.update(stored["attrs"])
        return frame
    except (OSError, ValueError, KeyError):
        pass
    inter = readers.read_files(name, paths)
    check_memory(name, inter, args["construction"], args["max_history"], args["min_history"], max_users)
    train, test = build_samples(inter, **params)
    del inter
    frame = raw_field_stats([train, test], ALL_LEAVES_OUT.get(name, ()))
    paper = PAPER_TABLE2.get(name, {"samples": None, "fields": {}})
    frame["paper_unique_ids"] = [paper["fields"].get(f, (None, None))[0] for f in frame.index]
    frame["paper_mean_occurrences"] = [paper["fields"].get(f, (None, None))[1] for f in frame.index]
    frame = frame.astype(_TABLE2_DTYPES)
    frame.attrs.update(name=name, samples=int(len(train["label"]) + len(test["label"])),
                       train_samples=int(len(train["label"])), test_samples=int(len(test["label"])),
                       paper_samples=paper["samples"], params=params)
    rows = [{k: None if pd.isna(v) else v for k, v in row.items()}  # exact floats, NA as null
            for row in frame.reset_index().astype(object).to_dict("records")]
    atomic.write_bytes(path, json.dumps({"rows": rows, "attrs": frame.attrs}, indent=1, default=_json_default).encode())
    return frame


def print_table2(name: str, **load_args) -> pd.DataFrame:
    """Print `table2(name, ...)` with its sample counts (for the book); returns the frame."""
    frame = table2(name, **load_args)
    a = frame.attrs
    paper = f" (paper: {a['paper_samples']:,})" if a.get("paper_samples") else ""
    print(f"{name}: {a['samples']:,} samples{paper}; train {a['train_samples']:,}, test {a['test_samples']:,}"
          + ("; 'all' leaves out user_id, as the paper's Taobao row does" if name in ALL_LEAVES_OUT else ""))
    with pd.option_context("display.width", 120, "display.max_columns", 10):
        print(frame.to_string(float_format=lambda x: f"{x:,.2f}"))
    return frame


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
    if not sources.source(name).prepared:
        return
    lengths = np.fromiter(map(len, inter.sequences), dtype=np.int64, count=inter.n_users)
    need, budget = estimated_bytes(lengths, construction, max_history, min_history, max_users), memory_budget()
    if need > budget:
        raise DataError(
            f"building {name!r} with construction={construction!r}, max_history={max_history}, "
            f"max_users={max_users} needs about {need / 1e9:.0f} GB of memory, more than the "
            f"{budget / 1e9:.0f} GB allowed (${ENV_MAX_GB}, default 75 % of this machine's RAM). Use "
            "construction='last' (the paper's), a smaller max_history, or max_users (a subset of users)")
