"""Writing a file whole or not at all.

Every file the package writes (run results, encoded data, prepared data
sets, executed chapters, ledger rows) goes through `replacing`: the content
is written to a hidden temporary file beside the target and moved into place
with `os.replace`, so a reader sees the old file or the whole new one, never
half of one, whatever stops the writer. A write that fails or is interrupted
(Ctrl-C) removes its temporary file. Only a writer killed outright (SIGKILL,
power loss) can leave one behind; `remove_stale` deletes those later, and
they are never read as results since they carry the `TEMP_SUFFIX`.
"""
from __future__ import annotations

import os
import secrets
import time
from contextlib import contextmanager
from pathlib import Path

TEMP_SUFFIX = ".tmp"
STALE_AFTER_S = 6 * 3600  # no single write takes this long: an older temporary file is an orphan


def temp_name(path: Path) -> Path:
    return path.parent / f".{path.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}"


def make_readable(path: str | os.PathLike) -> None:
    """The usual umask-based permissions, as a plain open() would give (mkstemp's are a private 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


@contextmanager
def replacing(path: str | os.PathLike, mode: str = "wb", *, encoding: str | None = None, fsync: bool = False):
    """``with replacing(path) as f: f.write(...)``: `path` gets the content only if the block ends
    normally. `fsync` also forces the bytes to disk before the move (run results: a power loss must
    not leave a whole-looking but empty file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:  # the temporary file is created inside the try: an interrupt at any point removes it
        with open(tmp, mode.replace("w", "x"), encoding=encoding) as f:
            make_readable(tmp)
            yield f
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike, data: bytes, *, fsync: bool = False) -> Path:
    with replacing(path, "wb", fsync=fsync) as f:
        f.write(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    with replacing(path, "w", encoding="utf-8") as f:
        f.write(text)
    return Path(path)


def remove_stale(folder: str | os.PathLike, older_than_s: float = STALE_AFTER_S) -> int:
    """Delete the temporary files under `folder` left by killed writers (older than `older_than_s`);
    returns how many. A live writer's file is younger, so it is never touched."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    removed = 0
    for tmp in folder.rglob(f".*{TEMP_SUFFIX}"):
        try:
            if tmp.is_file() and tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed += 1
        except FileNotFoundError:  # another process removed or finished it meanwhile
            pass
    return removed
