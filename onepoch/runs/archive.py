"""Sharing the runs of a build: ``onepoch results export FILE`` / ``onepoch results import FILE``.

An archive is an uncompressed tar (the Parquet files are compressed already) holding
``manifest.json`` (format, mode, the sha256 of every file) and, per run, ``runs/<key>.json`` and
``runs/<key>.parquet`` exactly as the cache stores them. Export takes the runs the chapters of the
last build used (each chapter's run record lists them). Import reads members as bytes (nothing is
extracted by name), refuses any member that is not one of those files, checks every file against
its sha256 and every entry against the cache's schema, and only then writes the entries, each
whole or not at all; an archive with one bad entry adds nothing.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

from onepoch import atomic
from onepoch.runs.cache import CacheError, ResultCache, check_curves, check_meta, versions

FORMAT = "onepoch-runs-archive"
VERSION = 1
MAX_MEMBER_BYTES = 1 << 30  # no single run comes near this: a bigger member is not ours
_MEMBER = re.compile(r"^runs/([0-9a-f]{64})\.(json|parquet)$")


def _sha(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def build_keys(mode: str, root=None) -> list[str]:
    """The runs the chapters of the last ``mode`` build used (from their run records)."""
    from onepoch.book import chapters, layout, read_record

    lay = layout(mode, root=root)
    keys, missing = set(), []
    for name in chapters(lay.root):
        record = read_record(lay, name)
        if record is None or "keys" not in record:
            missing.append(name)
            continue
        keys.update(record["keys"])
    if missing:
        flag = " --quick" if mode == "quick" else ""
        raise CacheError(f"no record of the runs used by chapter(s) {', '.join(missing)} in {lay.build}: "
                         f"run `onepoch build{flag}` first (records from before this version list no runs)")
    return sorted(keys)


def export_build(mode: str, file, root=None, store: ResultCache | None = None,
                 everything: bool = False) -> tuple[int, int]:
    """Write the runs of the last ``mode`` build to ``file``; returns (runs, bytes).

    ``everything``: every run in the cache instead, whether or not a finished build used it, e.g.
    the runs an interrupted full build has trained so far, to go on with on another machine."""
    from onepoch.book.execution import book_cache

    store = store or book_cache(root)
    keys = store.keys() if everything else build_keys(mode, root)
    files: dict[str, bytes] = {}
    for key in keys:
        try:
            store.read(key)  # only checked entries leave this machine
            files[f"runs/{key}.json"] = store.path(key).read_bytes()
            files[f"runs/{key}.parquet"] = store.curves_path(key).read_bytes()
        except (OSError, CacheError) as exc:
            raise CacheError(f"run {key[:16]}... used by the {mode} build is not in the cache {store.dir} "
                             f"({exc}): run `onepoch build{' --quick' if mode == 'quick' else ''}` again") from None
    manifest = {"format": FORMAT, "version": VERSION, "mode": mode, "versions": versions(),
                "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "files": {name: _sha(blob) for name, blob in files.items()}}
    with atomic.replacing(file, "wb") as fh, tarfile.open(fileobj=fh, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, blob in [("manifest.json", json.dumps(manifest, indent=1, sort_keys=True).encode()),
                           *sorted(files.items())]:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(blob), 0o644, 0
            tar.addfile(info, io.BytesIO(blob))
    return len(keys), Path(file).stat().st_size


def read_archive(file) -> dict[str, tuple[bytes, bytes]]:
    """The verified entries of an archive, ``{key: (json bytes, parquet bytes)}``; CacheError on
    anything that is not exactly what export writes."""
    def refuse(why: str):
        raise CacheError(f"{file} refused: {why}; nothing was imported")

    blobs: dict[str, bytes] = {}
    try:
        with tarfile.open(file, mode="r:") as tar:
            for member in tar:
                if not member.isreg():
                    refuse(f"member {member.name!r} is not a plain file")
                if member.name != "manifest.json" and not _MEMBER.match(member.name):
                    refuse(f"unexpected member {member.name!r}")
                if member.size > MAX_MEMBER_BYTES or member.name in blobs:
                    refuse(f"member {member.name!r} is too big or repeated")
                blobs[member.name] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        refuse(f"not a readable archive ({exc})")
    try:
        manifest = json.loads(blobs.pop("manifest.json"))
    except (KeyError, ValueError):
        refuse("no valid manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        refuse("not an onepoch runs archive of this version")
    listed = manifest.get("files")
    if not isinstance(listed, dict) or set(listed) != set(blobs):
        refuse("the manifest does not list exactly the files in the archive")
    for name, blob in blobs.items():
        if _sha(blob) != listed[name]:
            refuse(f"checksum mismatch of {name}")
    entries = {}
    for name in sorted(blobs):
        key, kind = _MEMBER.match(name).groups()
        if kind != "json":
            continue
        if f"runs/{key}.parquet" not in blobs:
            refuse(f"run {key[:16]}... has no curves file")
        meta_blob, curves_blob = blobs[name], blobs[f"runs/{key}.parquet"]
        try:
            meta = check_meta(json.loads(meta_blob), key)
            check_curves(curves_blob, meta)
        except (CacheError, ValueError) as exc:
            refuse(f"run {key[:16]}... is not a valid entry ({exc})")
        entries[key] = (meta_blob, curves_blob)
    if len(entries) * 2 != len(blobs):
        refuse("a curves file without its entry")
    return entries


def import_archive(file, root=None, store: ResultCache | None = None) -> tuple[int, int]:
    """Add an archive's runs to the cache; returns (added, already present)."""
    from onepoch.book.execution import book_cache

    store = store or book_cache(root)
    entries = read_archive(file)
    store.check_writable()
    added = present = 0
    for key, (meta_blob, curves_blob) in entries.items():
        if store.get(key) is not None:
            present += 1
            continue
        atomic.write_bytes(store.curves_path(key), curves_blob, fsync=True)
        atomic.write_bytes(store.path(key), meta_blob, fsync=True)  # the entry's last word, last
        added += 1
    return added, present
