"""Getting a data set's files: find, download (resumable), extract, hash, explain what is missing.

The one way in for files. `ensure(src, folder, download)` returns the paths
of a registered data set's files by role, each verified against its sha256
where one is known. A missing file with a public URL is downloaded (with
`download=True`) to `<file>.part`, resuming an interrupted download with an
HTTP Range request, and renamed only after its size and sha256 match; a file
that sits inside an archive is extracted from it. A file without a public
source (behind a login, or a user's own file) is looked for under each of its
accepted names; when it is missing, the `DataError` says where it was looked
for, where to get it and where to put it.

Hashing: `file_sha256` remembers sums in the process, and those of large
files (a multi-GB raw file takes a while) also on disk, keyed by (path, size,
modification time, change time): any write changes the change time.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from pathlib import Path

from onepoch import atomic, settings
from onepoch.data.registry import ENV_DATA, DataFile, DatasetSource, cache_dir
from onepoch.errors import DataError

_CHUNK = 1 << 20
_TIMEOUT_S = 60  # per socket operation: fail rather than hang on a dead connection
REMEMBER_ON_DISK = 64 * _CHUNK  # files at least this large have their sha256 remembered on disk


# -- messages and progress -----------------------------------------------------------------

def say(message: str) -> None:
    """A one-line note on stderr (downloads and preparation happen once, so it is always shown)."""
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


# -- checksums -------------------------------------------------------------------------------

# (resolved path, size, mtime_ns, ctime_ns) -> sha256, so repeated loads do not re-hash
_SHA_CACHE: dict[tuple, str] = {}


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _memo_path() -> Path:
    return cache_dir() / "prepared" / "sha256.json"


def _read_memo() -> dict:
    try:
        return json.loads(_memo_path().read_text())
    except (OSError, ValueError):
        return {}


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file, memoised on (path, size, mtime, ctime); large files' sums also on disk."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if key in _SHA_CACHE:
        return _SHA_CACHE[key]
    large = st.st_size >= REMEMBER_ON_DISK
    text_key = "|".join(map(str, key))
    sha = _read_memo().get(text_key) if large else None
    if sha is None:
        if large:
            say(f"computing the sha256 of {path} ({st.st_size / 1e9:.2f} GB); it is remembered afterwards")
        sha = _hash_file(path)
        if large:
            atomic.write_bytes(_memo_path(), json.dumps(_read_memo() | {text_key: sha}, indent=1,
                                                         sort_keys=True).encode())
    _SHA_CACHE[key] = sha
    return sha


def files_checksum(paths: Mapping[str, os.PathLike]) -> str:
    """sha256 over the files' sha256 (by role), i.e. over their contents."""
    text = "\n".join(f"{role} {file_sha256(paths[role])}" for role in sorted(paths))
    return hashlib.sha256(text.encode()).hexdigest()


def _check_sha(path: Path, expected: str | None, src: DatasetSource) -> None:
    try:
        actual = file_sha256(path)
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror or exc}): check that it is a readable file, "
                        "or delete it and download it again (download=True)") from None
    if expected is not None and actual != expected:
        fix = (f"it changed since it was added: run onepoch data add {src.name} ... again" if src.user_added else
               "The file is corrupted or a different version: delete it and download it again "
               "(load(..., download=True) or onepoch.data.ensure_files(name, download=True))")
        raise DataError(f"checksum mismatch for {path}: expected sha256 {expected}, got {actual}. {fix}.")


# -- finding and fetching ------------------------------------------------------------------

def ensure(src: DatasetSource, folder: Path, download: bool = False) -> dict[str, Path]:
    """Paths of the data set's files by role, each verified against its sha256 where known.

    Missing files are downloaded when `download` is true and they have a URL,
    else a `DataError` says what is missing, where it was looked for and how to get it.
    """
    found, missing = {}, []
    for f in src.files:
        path = next((folder / p for p in (f.path, *f.alternatives) if (folder / p).is_file()), None)
        if path is None:
            missing.append(f)
        else:
            found[f.role] = path
    if missing and (not download or any(f.url is None for f in missing)):
        raise DataError(missing_message(src, missing, folder, download))
    archives: dict[str, Path] = {}  # url -> verified local archive, fetched once per call
    try:
        for f in missing:
            try:
                found[f.role] = _get(f, folder, archives)
            except DataError as exc:
                left = [g for g in missing if g.role not in found]
                raise DataError(f"{exc}\n\n{missing_message(src, left, folder, download=True)}") from exc
    finally:
        for archive in archives.values():
            archive.unlink(missing_ok=True)
    for f in src.files:
        _check_sha(found[f.role], f.sha256, src)
    return found


def _get(f: DataFile, folder: Path, archives: dict) -> Path:
    target = folder / f.path
    if f.member is None:
        return fetch(f.url, target, f.sha256, f.size)
    if f.url not in archives:
        archive = target.parent / (Path(f.url).name + ".download")
        try:
            fetch(f.url, archive, f.archive_sha256, quiet=True)
        except DataError as exc:
            raise DataError(f"{exc}\n{f.path} is the member {f.member} of that archive (a zip file): "
                            f"unzip it and put it at {target}") from exc
        archives[f.url] = archive
    extract(archives[f.url], f.member, target, f.sha256)
    return target


def missing_message(src: DatasetSource, missing: list, folder: Path, download: bool = False) -> str:
    exists = "" if folder.is_dir() else ", which is a file, not a folder" if folder.exists() else ", which does not exist"
    lines = [f"data set {src.name!r}" + (f" ({src.description})" if src.description else "")
             + f": missing file(s) in the data folder {folder}{exists} (searched: the data_dir argument, else "
             f"${ENV_DATA}={settings.data_folder() or '<unset>'}):"]
    for f in missing:
        also = f" (or {', '.join(f.alternatives)})" if f.alternatives else ""
        origin = f"{f.url} (file {f.member} inside that archive)" if f.member else f.url
        lines.append(f"  {folder / f.path}{also}" + (f"  <- {origin}" if f.url else ""))
    manual = [f for f in missing if f.url is None]
    if manual:
        lines.append(f"{'They' if len(manual) > 1 else 'It'} cannot be downloaded automatically. Get "
                     f"{'them' if len(manual) > 1 else 'it'} from {src.manual}, and put "
                     f"{'them' if len(manual) > 1 else 'it'} at the path above.")
    else:
        lines.append(("Pass download=True to fetch them (interrupted downloads resume, checksums are verified), "
                      if not download else "")
                     + f"or point data_dir / {ENV_DATA} at a folder that holds them. Without internet on this "
                     "machine, download them elsewhere (from the URLs above"
                     + (f"; source: {src.manual}" if src.manual else "") + ") and copy them to the paths above.")
    if src.prepared:
        lines.append("Preparing the samples then runs once (it streams the raw files) and is cached.")
    return "\n".join(lines)


def fetch(url: str, target: str | os.PathLike, sha256: str | None = None, size: int | None = None,
          opener=None, quiet: bool = False) -> Path:
    """Download `url` to `target` through `target.part`, resuming a partial `.part` file.

    An existing `.part` file is continued with an HTTP Range request (a server
    that ignores it sends the whole file, which restarts the download). The
    file is renamed to `target` only after its size and sha256 match the known
    ones (a mismatch deletes it); without a known sha256 the computed one is
    printed. A network error keeps the `.part` file, so the next call resumes.
    `opener` defaults to `urllib.request.urlopen`; it receives a `Request`.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    opener = opener or functools.partial(urllib.request.urlopen, timeout=_TIMEOUT_S)
    have = part.stat().st_size if part.is_file() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with opener(urllib.request.Request(url, headers=headers)) as response:
            status = getattr(response, "status", None) or getattr(response, "getcode", lambda: None)()
            resumed = bool(have) and status == 206 and _range_start(response) == have
            if have and not resumed:
                say(f"{url}: the server did not resume at byte {have}; downloading it again from the start")
                have = 0
            length = getattr(response, "headers", {}).get("Content-Length")
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
    digest = _hash_file(part)
    if (size is not None and actual_size != size) or (sha256 is not None and digest != sha256):
        part.unlink(missing_ok=True)
        raise DataError(f"downloaded {url} has {actual_size} bytes and sha256 {digest}; expected "
                        + " and ".join(([f"{size} bytes"] if size is not None else [])
                                       + ([f"sha256 {sha256}"] if sha256 is not None else []))
                        + f"; nothing was "
                        f"written to {target}. The source may have changed: fetch it again or get a copy with the "
                        "expected checksum")
    os.replace(part, target)
    st = target.stat()
    _SHA_CACHE[(str(target.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns)] = digest
    if sha256 is None and not quiet:
        print(f"{target}: {actual_size} bytes, sha256 {digest}\n  (no published checksum: pin it as "
              f"sha256 / size of this file in onepoch/data/registry.py to verify later downloads)", flush=True)
    return target


def _range_start(response) -> int | None:
    value = getattr(response, "headers", {}).get("Content-Range", "")  # "bytes 100-999/1000"
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _fetch_failed(url: str, target: Path, part: Path, exc: Exception) -> str:
    kept = part.is_file() and part.stat().st_size > 0
    resume = f" {part.stat().st_size} bytes are kept in {part}: run it again to resume." if kept else ""
    return (f"could not download {url}: {exc}.{resume} Without network access on this machine, download it "
            f"elsewhere and put it at {target}")


def extract(archive: Path, member: str, target: Path, sha256: str | None) -> Path:
    """Copy `member` of zip `archive` to `target` through `target.part`, verified, then renamed."""
    part = target.with_name(target.name + ".part")
    try:
        with zipfile.ZipFile(archive) as zf, zf.open(member) as src, open(part, "wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
        actual = _hash_file(part)
        if sha256 is not None and actual != sha256:
            raise DataError(f"{member} in {archive.name} has sha256 {actual}, expected {sha256}")
    except (KeyError, zipfile.BadZipFile) as exc:
        part.unlink(missing_ok=True)
        raise DataError(f"cannot extract {member} from {archive}: {exc}") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, target)
    return target
