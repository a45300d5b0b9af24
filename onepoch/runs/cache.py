"""On-disk result cache, keyed by the hash of a run's full configuration. It holds data, not code.

An entry is two files in ``<root>/<key[:2]>/``:

- ``<key>.parquet``: the run's curves and probe records (columns step, epoch, split, metric, value);
- ``<key>.json``: what the run was (configuration, data checksum, versions, training seconds),
  the sha256 of the Parquet file, and its own sha256 (over its other fields).

Each is written whole or not at all (`onepoch.atomic`), the Parquet file first: the JSON file is
the entry's last word. Reading checks both against a fixed schema (:func:`check_meta`,
:func:`check_curves`) and never runs code from the file (no pickle anywhere): an entry that fails
(a truncated or altered file, or one crafted to look like an entry) is reported, removed and treated
as missing. Files of the old pickle format (``<key>.pkl``) are never read here; see
``onepoch.runs.migrate``.
"""
from __future__ import annotations

import errno
import hashlib
import io
import json
import math
import re
import warnings
from pathlib import Path

from onepoch import atomic, settings
from onepoch.errors import OnepochError

FORMAT = "onepoch-run"
FORMAT_VERSION = 1
CURVE_TYPES = {"step": "int64", "epoch": "double", "split": "string", "metric": "string", "value": "double"}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class CacheError(OnepochError):
    """The cache folder cannot be used, or an entry is not a cache entry."""


def cache_root() -> Path:
    return settings.cache_folder()


def _fail(why: str):
    raise CacheError(why)


def check_meta(meta, key: str) -> dict:
    """``meta`` if it is a run entry's JSON for ``key`` (exact keys and types), else CacheError."""
    want = {"format", "format_version", "key", "config", "data_checksum", "seconds", "versions",
            "curves_sha256", "rows", "sha256"}
    if not isinstance(meta, dict) or set(meta) != want:
        _fail(f"fields {sorted(meta) if isinstance(meta, dict) else type(meta).__name__}, expected {sorted(want)}")
    if meta["sha256"] != meta_checksum(meta):
        _fail("checksum mismatch of the entry's JSON")
    if meta["format"] != FORMAT or meta["format_version"] != FORMAT_VERSION:
        _fail(f"format {meta['format']!r} version {meta['format_version']!r}")
    if meta["key"] != key:
        _fail(f"it is the entry of key {str(meta['key'])[:16]}..., filed under {key[:16]}...")
    if not isinstance(meta["config"], dict) or not all(isinstance(k, str) for k in meta["config"]):
        _fail("config is not a mapping of setting names")
    if not isinstance(meta["data_checksum"], str):
        _fail("data_checksum is not text")
    seconds = meta["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0:
        _fail(f"seconds {seconds!r} is not a duration")
    versions = meta["versions"]
    if not isinstance(versions, dict) or not all(isinstance(k, str) and isinstance(v, (str, int))
                                                 for k, v in versions.items()):
        _fail("versions is not a mapping of names to versions")
    if not isinstance(meta["curves_sha256"], str) or not _HEX64.match(meta["curves_sha256"]):
        _fail("curves_sha256 is not a sha256")
    if isinstance(meta["rows"], bool) or not isinstance(meta["rows"], int) or meta["rows"] < 0:
        _fail("rows is not a count")
    return meta


def meta_checksum(meta: dict) -> str:
    """sha256 of the entry's JSON without its own checksum field (canonical form: sorted keys)."""
    body = {k: v for k, v in meta.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def check_curves(blob: bytes, meta: dict):
    """The curves frame in ``blob`` (Parquet) if it matches ``meta``'s checksum, row count and the
    curve schema, else CacheError."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if hashlib.sha256(blob).hexdigest() != meta["curves_sha256"]:
        _fail("checksum mismatch of the curves file")
    try:
        table = pq.read_table(io.BytesIO(blob))
    except (pa.ArrowException, OSError, ValueError) as exc:
        _fail(f"the curves file is not Parquet ({exc})")
    got = {f.name: str(f.type) for f in table.schema}
    if list(got) != list(CURVE_TYPES) or any(got[c] not in (t, "large_string" if t == "string" else t)
                                             for c, t in CURVE_TYPES.items()):
        _fail(f"curve columns {got}, expected {CURVE_TYPES}")
    if table.num_rows != meta["rows"]:
        _fail(f"{table.num_rows} curve rows, the entry says {meta['rows']}")
    return frame_of(table)


def frame_of(table):
    """A pandas frame exactly like a freshly trained run's (text columns Python-backed)."""
    from onepoch.train.trainer import CURVE_COLUMNS, curves_frame

    return curves_frame(list(zip(*(table.column(c).to_pylist() for c in CURVE_COLUMNS))))


def curves_parquet(frame) -> bytes:
    """A run's curves as Parquet bytes, with the fixed schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from onepoch.train.trainer import CURVE_COLUMNS

    if list(frame.columns) != list(CURVE_COLUMNS):
        raise CacheError(f"a run's curves have columns {list(CURVE_COLUMNS)}, got {list(frame.columns)}")
    schema = pa.schema([(c, getattr(pa, {"double": "float64"}.get(t, t))()) for c, t in CURVE_TYPES.items()])
    table = pa.table({c: frame[c].tolist() for c in CURVE_COLUMNS}, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def versions() -> dict:
    from onepoch import __version__
    from onepoch.config import RESULT_VERSION

    return {"onepoch": __version__, "result_version": RESULT_VERSION}


class ResultCache:
    def __init__(self, root: Path | str | None = None, kind: str = "runs"):
        self.dir = Path(root) if root is not None else cache_root() / kind

    def path(self, key: str) -> Path:
        """The entry's JSON file (its last-written part)."""
        return self.dir / key[:2] / f"{key}.json"

    def curves_path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.parquet"

    def __contains__(self, key: str) -> bool:
        return self.path(key).is_file()

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.dir.glob("??/*.json") if _HEX64.match(p.stem))

    def read(self, key: str) -> dict:
        """The checked entry ``{"config", "data_checksum", "frame", "seconds", "versions"}``;
        FileNotFoundError when missing, CacheError when it is not a valid entry."""
        meta_path, curves_path = self.path(key), self.curves_path(key)
        for path in (meta_path, curves_path):
            if path.exists() and not path.is_file():
                raise CacheError(f"cache entry {path} is a folder or other non-file: remove it "
                                 f"(rm -r '{path}'); the run is then trained again")
        try:
            meta = json.loads(meta_path.read_bytes())
        except ValueError as exc:
            _fail(f"not JSON ({exc})")
        check_meta(meta, key)
        frame = check_curves(curves_path.read_bytes(), meta)
        return {"config": meta["config"], "data_checksum": meta["data_checksum"], "frame": frame,
                "seconds": float(meta["seconds"]), "versions": meta["versions"]}

    def get(self, key: str):
        """The stored entry, or None when missing or invalid (an invalid one is removed)."""
        try:
            return self.read(key)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except CacheError as exc:
            if "folder or other non-file" in str(exc):
                raise
            warnings.warn(f"invalid cache entry {self.path(key)} ({exc}): removed, the run will be redone")
            self.remove(key)
            return None

    def remove(self, key: str) -> None:
        for path in (self.path(key), self.curves_path(key)):
            if path.is_file() or path.is_symlink():
                path.unlink(missing_ok=True)

    def put(self, key: str, value: dict) -> Path:
        """Store ``{"config", "data_checksum", "frame", "seconds"}`` under ``key``."""
        blob = curves_parquet(value["frame"])
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "key": key,
                "config": json.loads(json.dumps(value["config"])), "data_checksum": str(value["data_checksum"]),
                "seconds": float(value["seconds"]), "versions": value.get("versions") or versions(),
                "curves_sha256": hashlib.sha256(blob).hexdigest(), "rows": len(value["frame"])}
        meta["sha256"] = meta_checksum(meta)
        check_meta(meta, key)
        try:
            atomic.write_bytes(self.curves_path(key), blob, fsync=True)
            return atomic.write_bytes(self.path(key), json.dumps(meta, sort_keys=True).encode() + b"\n", fsync=True)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            self.remove(key)
            raise CacheError(f"no space left on the device of the cache {self.dir}: free some space, or set "
                             f"ONEPOCH_CACHE to a folder on another disk (the run's result was not stored)") from None

    def check_usable(self) -> None:
        """Fail now if the cache folder cannot even exist (ONEPOCH_CACHE, or a folder above it, a file)."""
        for parent in (self.dir, *self.dir.parents):
            if parent.exists():
                if not parent.is_dir():
                    raise CacheError(f"the cache folder {self.dir} cannot be created: {parent} is a file, not a "
                                     f"folder; set ONEPOCH_CACHE to a folder (or remove the file)")
                return

    def check_writable(self) -> None:
        """Fail now, naming the fix, if results could not be stored: before any training."""
        where = self.dir
        self.check_usable()
        try:
            where.mkdir(parents=True, exist_ok=True)
            probe = atomic.temp_name(where / "write-check")
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise CacheError(f"the cache folder {where} is not writable ({exc.strerror or exc}): give yourself "
                             f"write access, or set ONEPOCH_CACHE to a writable folder; nothing was trained") from None
