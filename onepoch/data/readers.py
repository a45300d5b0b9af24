"""Readers for the shared raw formats, all returning `Interactions`.

Each reader checks the format as it parses: a malformed line raises a
`DataError` naming the file, the line number and the fix. Parsing is done in
bulk with numpy, falling back to a line-by-line scan only to locate an error.
"""
from __future__ import annotations

import itertools
import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from onepoch.data import prepared, registry, sources, userdata
from onepoch.data.files import files_checksum
from onepoch.data.interactions import Interactions  # noqa: F401 (re-exported)
from onepoch.errors import DataError

_FIX = "fix the line or delete the file and download it again (download=True)"
# an attribute (item) file that describes fewer of the items than this is not the items' file
MAX_UNDESCRIBED = 0.5


def read_dataset(name: str, data_dir=None, download: bool = False) -> Interactions:
    """Verify (or download) the files of a registered data set and read them."""
    return read_files(name, sources.ensure_files(name, data_dir=data_dir, download=download))


def read_files(name: str, paths: Mapping[str, os.PathLike]) -> Interactions:
    """Read already verified files of registered data set `name` with its reader."""
    src = registry.source(name)
    if src.prepared:  # multi-GB raw files: streamed once, cached (onepoch.data.prepared)
        return prepared.interactions(name, dict(paths))
    if src.user_added:  # a user's own log or sequence file (datasets.toml)
        return userdata.read(src, dict(paths))
    reader = {"s3rec": read_s3rec, "ml100k": read_ml100k}[src.reader]
    return reader(paths, name=name)


# -- S3-Rec (Amazon / Yelp) ----------------------------------------------

def read_s3rec(paths: Mapping[str, os.PathLike], name: str = "s3rec") -> Interactions:
    """`sequences`: lines `user item item ...` (oldest first); `attributes`: `{"item": [attr, ...]}`.

    An item's category is the LAST attribute of its list: for Amazon the list
    is an optional brand followed by the item's sub-categories from coarse to
    fine, so the first element may be a brand while the last one is the most
    specific category (the role DIN/DIEN's category field plays). For Yelp the
    list is a set of business categories and the last one is simply one of
    them. Items without attributes get category 0 (unknown).
    """
    seq_path, attr_path = Path(paths["sequences"]), Path(paths["attributes"])
    rows = _split_lines(seq_path)
    if not rows:
        raise DataError(f"{seq_path}: no users in the file; {_FIX}")
    for row, number in zip(rows, itertools.count(1)):
        if len(row) < 2:
            what = "an empty line" if not row else "a user without items"
            raise DataError(f"{seq_path}, line {number}: {what}; expected `user item item ...`; {_FIX}")
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    values = _to_int(list(itertools.chain.from_iterable(rows)), seq_path, _line_of_token(lengths), "id")
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    users = values[starts]
    is_item = np.ones(len(values), dtype=bool)
    is_item[starts] = False
    items = values[is_item]
    _check_ids(users, seq_path, lambda i: i + 1, "user id", minimum=0)
    _check_ids(items, seq_path, lambda i: int(np.searchsorted(np.cumsum(lengths - 1), i, side="right")) + 1,
               "item id", minimum=1)
    _check_unique_users(users, seq_path, lambda i: i + 1)
    sequences = np.split(items, np.cumsum(lengths - 1)[:-1])

    attributes = _read_attributes(attr_path)
    _check_coverage(items, np.fromiter(attributes, dtype=np.int64, count=len(attributes)), seq_path, attr_path)
    size = max(int(items.max()), max(attributes, default=0)) + 1
    item_category = np.zeros(size, dtype=np.int64)
    for item, attrs in attributes.items():
        item_category[item] = attrs[-1] if attrs else 0
    return Interactions(name, sequences, users, item_category, files_checksum(paths))


def _check_coverage(items: np.ndarray, described: np.ndarray, items_path: Path, attr_path: Path) -> None:
    """Most items must have an entry in the attribute file: else the two files do not belong together."""
    used = np.unique(items)
    missing = used[~np.isin(used, described)]
    if len(missing) > MAX_UNDESCRIBED * len(used):
        raise DataError(
            f"{attr_path} does not match {items_path}: {len(missing)} of the {len(used)} items there have no entry "
            f"in it (e.g. item {missing[0]}). Are both files from the same data set and complete? Delete them and "
            "download them again (download=True)")


def _read_attributes(path: Path) -> dict[int, list[int]]:
    try:
        raw = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}, line {exc.lineno}: invalid JSON ({exc.msg}); {_FIX}") from exc
    if not isinstance(raw, dict):
        raise DataError(f"{path}: expected a JSON object {{\"item_id\": [attribute_id, ...]}}; {_FIX}")
    out = {}
    for key, attrs in raw.items():
        ok_key = key.isdigit() and int(key) >= 1
        ok_attrs = isinstance(attrs, list) and all(type(a) is int and a >= 1 for a in attrs)
        if not (ok_key and ok_attrs):
            raise DataError(f"{path}: entry {key!r}: {attrs!r} is not `\"item_id\": [attribute ids >= 1]`; {_FIX}")
        out[int(key)] = attrs
    return out


# -- MovieLens 100K, RecBole atomic files ------------------------------------

def read_ml100k(paths: Mapping[str, os.PathLike], name: str = "ml-100k") -> Interactions:
    """`inter`: user, item, rating, timestamp; `item`: title, year, genres (`class`).

    Every rating is an interaction; a user's items are sorted by timestamp
    (stable: ties keep file order). An item's category is its first genre,
    numbered 1.. in sorted order of genre names; MovieLens' literal genre
    "unknown" (and an empty genre list) maps to 0 = unknown.
    """
    inter_path, item_path = Path(paths["inter"]), Path(paths["item"])
    inter = _read_atomic(inter_path, ("user_id", "item_id", "timestamp"))
    users = _to_int(inter["user_id"], inter_path, _row_line, "user_id")
    items = _to_int(inter["item_id"], inter_path, _row_line, "item_id")
    timestamps = _to_float(inter["timestamp"], inter_path, "timestamp")
    _check_ids(users, inter_path, _row_line, "user_id", minimum=0)
    _check_ids(items, inter_path, _row_line, "item_id", minimum=1)
    order = np.lexsort((timestamps, users))  # stable: equal timestamps keep file order
    users, items = users[order], items[order]
    user_ids, first = np.unique(users, return_index=True)
    sequences = np.split(items, first[1:])

    meta = _read_atomic(item_path, ("item_id", "class"))
    meta_items = _to_int(meta["item_id"], item_path, _row_line, "item_id")
    _check_ids(meta_items, item_path, _row_line, "item_id", minimum=1)
    _check_coverage(items, meta_items, inter_path, item_path)
    first_genre = np.array([(g.split(" ", 1)[0] if g else "") for g in meta["class"]], dtype=object)
    first_genre[first_genre == "unknown"] = ""
    names = sorted(set(first_genre) - {""})
    code = {g: i for i, g in enumerate(names, start=1)} | {"": 0}
    size = max(int(items.max()), int(meta_items.max())) + 1
    item_category = np.zeros(size, dtype=np.int64)
    item_category[meta_items] = [code[g] for g in first_genre]
    return Interactions(name, sequences, user_ids, item_category, files_checksum(paths))


def _read_atomic(path: Path, required: tuple[str, ...]) -> dict[str, list[str]]:
    """Columns of a tab-separated file with a typed header (`name:type`), as strings."""
    lines = _lines(path)
    if not lines:
        raise DataError(f"{path}: empty file, expected a header line; {_FIX}")
    header = [h.split(":", 1)[0] for h in lines[0].split("\t")]
    missing = [r for r in required if r not in header]
    if missing:
        raise DataError(f"{path}, line 1: header {lines[0]!r} lacks column(s) {missing}; {_FIX}")
    rows = [line.split("\t") for line in lines[1:]]
    width = len(header)
    if any(len(row) != width for row in rows):
        number, row = next((n, r) for n, r in zip(itertools.count(2), rows) if len(r) != width)
        what = "an empty line" if row == [""] else f"{len(row)} columns"
        raise DataError(f"{path}, line {number}: {what}, expected {width} tab-separated columns; {_FIX}")
    return {h: [row[i] for row in rows] for i, h in enumerate(header) if h in required}


def _row_line(index: int) -> int:
    return index + 2  # data rows start on line 2, after the header


# -- shared parsing helpers ----------------------------------------------------

def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}, line {line}: not UTF-8 text (byte {exc.start}); is it the right, "
                        f"uncompressed file? {_FIX}") from None
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror or exc}); {_FIX}") from None


def _lines(path: Path) -> list[str]:
    """The file's lines; trailing empty lines are allowed, empty lines in the middle are not."""
    lines = _read_text(path).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _split_lines(path: Path) -> list[list[str]]:
    return [line.split() for line in _lines(path)]


def _line_of_token(lengths: np.ndarray):
    ends = np.cumsum(lengths)
    return lambda i: int(np.searchsorted(ends, i, side="right")) + 1


def _to_int(tokens: list[str], path: Path, line_of, what: str) -> np.ndarray:
    try:
        return np.array(tokens, dtype=np.int64)
    except (ValueError, OverflowError):
        pass
    for i, token in enumerate(tokens):  # slow path, only to name the bad line
        try:
            np.int64(int(token))
        except (ValueError, OverflowError):
            raise DataError(f"{path}, line {line_of(i)}: {what} {token!r} is not an integer; {_FIX}") from None
    raise AssertionError("unreachable")


def _to_float(tokens: list[str], path: Path, what: str) -> np.ndarray:
    try:
        return np.array(tokens, dtype=np.float64)
    except ValueError:
        pass
    for i, token in enumerate(tokens):
        try:
            float(token)
        except ValueError:
            raise DataError(f"{path}, line {_row_line(i)}: {what} {token!r} is not a number; {_FIX}") from None
    raise AssertionError("unreachable")


def _check_ids(ids: np.ndarray, path: Path, line_of, what: str, minimum: int) -> None:
    bad = np.flatnonzero(ids < minimum)
    if len(bad):
        i = int(bad[0])
        why = " (0 is reserved for padding)" if minimum == 1 else ""
        raise DataError(f"{path}, line {line_of(i)}: {what} {ids[i]} must be >= {minimum}{why}; {_FIX}")


def _check_unique_users(users: np.ndarray, path: Path, line_of) -> None:
    _, first, counts = np.unique(users, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = users[first[counts > 1][0]]
        second = int(np.flatnonzero(users == dup)[1])
        raise DataError(f"{path}, line {line_of(second)}: user {dup} appears on more than one line; "
                        f"each user must have exactly one line; {_FIX}")
