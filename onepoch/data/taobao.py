"""Taobao: the Tianchi "User Behavior Data from Taobao" clicks, prepared for the paper's experiments.

Raw file: `UserBehavior.csv` (Tianchi data set 649, https://tianchi.aliyun.com/dataset/649;
a free login is needed, so it cannot be downloaded automatically). No header;
columns `user_id, item_id, category_id, behavior_type, timestamp`, with
behavior_type one of pv (click), buy, cart, fav; about 100 M rows, 3.5 GB
(0.9 GB zipped). Put it in `<data folder>/taobao/` as `UserBehavior.csv`,
or the downloaded `UserBehavior.csv.zip` / a `.csv.gz`, read as they are.

The paper's code has no Taobao preprocessing; the paper says only that it
uses each user's clicks, with history item IDs and categories, one sample per
user (987,648 samples; Table 2). This module's design, which reuses the
"last" construction of the Amazon Book data:

- clicks only: rows with behavior_type "pv"; buy / cart / fav are ignored;
- each user's clicks are sorted by timestamp, ties kept in file order;
  repeated clicks on an item are kept (they are clicks); timestamps are not
  filtered (the data set's documented window is 2017-11-25 .. 2017-12-03;
  `Prepared.info` counts the clicks outside it);
- an item's category is the category_id on its last click row in the file
  (an item has one category in practice);
- the positive target of a user is their LAST click; its history is the
  clicks before it, the last 100 (`max_history`, the load default), at least
  1 (`min_history`); one negative per positive, drawn from all clicks (so by
  popularity) and never equal to the positive; users go 90 % / 10 % to train
  / test (seeded). See `onepoch.data.samples`.

So every user with at least 2 clicks gives a (positive, negative) pair:
about 2 x 987.6 k = 1.98 M samples, where the paper has 987,648 (one per
user; it does not say how a single sample per user gets a label). Both
labels are kept so that every user, in train and in test, has one of each.
The paper's Table 2 (22.24 mean occurrences for 4.04 M history item IDs,
i.e. about 91 history clicks per sample) implies (nearly) uncapped histories:
with the cap of 100 our histories are shorter on average; a larger
`max_history` comes closer at a cost in memory (the history tensors are
samples x max_history x 8 bytes each, 1.6 GB per field at 100).

Streaming: the file is read in blocks of whole lines (32 MiB), each parsed
by pandas' C parser with integer dtypes; a block holding a malformed row
(wrong number of fields, a non-integer, an unknown behavior type, an id out
of range) is re-parsed line by line so that exactly the bad rows are skipped
and counted (more than 1 %, and over 10, rejects the file). Only three
int32 columns per click are kept (user, item, timestamp: 12 bytes), plus an
item -> category table. When the file is grouped by user and time-ordered
within each user, as the published file is, no sort is needed; otherwise one
stable sort by (user, timestamp) runs at the end. Measured on generated files
of 5 and 15 M rows: about 115 MB plus 15 bytes a click, and 19 more bytes a
click when a sort is needed; for the published file's 89.7 M clicks, about
1.4 GB (3.1 GB unsorted) above the libraries. `onepoch.data.prepared` caches
the result.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from onepoch.data.prepared import BadRows, Prepared, _advance, open_binary, progress_bar, say
from onepoch.errors import DataError

COLUMNS = ("user_id", "item_id", "category_id", "behavior_type", "timestamp")
BEHAVIORS = ("pv", "buy", "cart", "fav")
CLICK = BEHAVIORS.index("pv")
BLOCK_BYTES = 32 << 20
INT32_MAX = 2**31 - 1
# item ids index the item -> category table: one odd id near 2**31 would ask for 16 GiB. The published
# file's item ids are below 5.2 million; a row above this bound is malformed (skipped and counted)
MAX_ITEM_ID = 2**26 - 1
# the data set's documented window (2017-11-25 00:00 to 2017-12-03 24:00, China time), for `info` only
WINDOW = (1511539200, 1512316800)
_DTYPES = {"user_id": np.int64, "item_id": np.int64, "category_id": np.int64, "behavior_type": "category",
           "timestamp": np.int64}


def prepare(paths: dict[str, Path], block_bytes: int = BLOCK_BYTES) -> Prepared:
    """Stream `paths["behavior"]` into per-user, time-ordered click sequences and an item -> category table."""
    path = Path(paths["behavior"])
    bad = BadRows(path, "row")
    rows = 0
    by_behavior = np.zeros(len(BEHAVIORS), dtype=np.int64)
    outside_window = 0
    with open_binary(path, member_suffix=".csv") as (stream, position, total):
        expected = int(total * (3 if path.suffix == ".gz" else 1) / 34 * 0.92)  # ~34 bytes a row, ~90 % clicks
        users, items, times = (_Column(np.int32, expected) for _ in range(3))
        item_category = _Column(np.int32, 0)
        bar = progress_bar(total, f"reading {path.name}")
        try:
            for first_line, block in _blocks(stream, block_bytes):
                user, item, category, behavior, timestamp, n = parse_block(block, first_line, bad)
                rows += n
                by_behavior += np.bincount(behavior, minlength=len(BEHAVIORS))
                click = behavior == CLICK
                user, item, category, timestamp = user[click], item[click], category[click], timestamp[click]
                outside_window += int(((timestamp < WINDOW[0]) | (timestamp >= WINDOW[1])).sum())
                users.extend(user)
                items.extend(item)
                times.extend(np.clip(timestamp, -INT32_MAX - 1, INT32_MAX))
                _last_category(item_category, item, category)
                _advance(bar, position())
        finally:
            bar.close()
    bad.check(rows)
    if not users.size:
        raise DataError(f"{path}: no clicks (behavior_type 'pv') in the file. Is it UserBehavior.csv?")
    say(f"{path.name}: {rows:,} rows, {users.size:,} clicks; ordering them by user and time")
    run_users, offsets, item, already_sorted = _order(users, items, times)  # releases the columns it sorts
    info = {"rows": rows, **bad.as_dict(), "clicks": int(len(item)),
            "rows_by_behavior": dict(zip(BEHAVIORS, map(int, by_behavior))),
            "clicks_outside_window": outside_window, "file_grouped_and_time_ordered": already_sorted,
            "users": int(len(run_users)), "items": int(len(np.unique(item))),
            "categories": int(len(np.unique(item_category.view()[np.unique(item)])))}
    return Prepared(run_users.astype(np.int64), offsets, item, item_category.view().astype(np.int64), info)


# -- reading ------------------------------------------------------------------------

def _blocks(stream, block_bytes: int):
    """(number of the block's first line, bytes of whole lines) for each block of the stream."""
    line = 1
    while True:
        block = stream.read(block_bytes)
        if not block:
            return
        if not block.endswith(b"\n"):
            block += stream.readline()
        yield line, block
        line += block.count(b"\n")


def parse_block(block: bytes, first_line: int, bad: BadRows):
    """(user, item, category, behavior code, timestamp, rows) of a block; bad rows skipped and counted."""
    try:
        frame = pd.read_csv(io.BytesIO(block), header=None, names=list(COLUMNS), dtype=_DTYPES, engine="c",
                            on_bad_lines="error")
        columns = _columns(frame)
        if columns is not None:
            return (*columns, len(frame))
    except (ValueError, OverflowError, pd.errors.ParserError):
        pass
    return _parse_lines(block, first_line, bad)  # something is malformed: find exactly what


def _columns(frame: pd.DataFrame):
    """The frame's columns when every row is valid, else None."""
    kinds = frame["behavior_type"].cat.categories
    if not set(kinds) <= set(BEHAVIORS):
        return None
    user, item, category, timestamp = (frame[c].to_numpy() for c in ("user_id", "item_id", "category_id", "timestamp"))
    if not (_valid_ids(user, 0) & _valid_ids(item, 1, MAX_ITEM_ID) & _valid_ids(category, 1)).all():
        return None
    codes = np.array([BEHAVIORS.index(k) for k in kinds], dtype=np.int8)
    behavior = codes[frame["behavior_type"].cat.codes.to_numpy()]
    return user, item, category, behavior, timestamp


def _valid_ids(values: np.ndarray, low: int, high: int = INT32_MAX) -> np.ndarray:
    return (values >= low) & (values <= high)


def _parse_lines(block: bytes, first_line: int, bad: BadRows):
    out, rows = [], 0
    for offset, raw in enumerate(block.split(b"\n")):
        line = raw.strip()
        if not line:
            continue
        rows += 1
        row = parse_row(line)
        if isinstance(row, str):
            bad.add(first_line + offset, row)
        else:
            out.append(row)
    table = np.array(out, dtype=np.int64).reshape(-1, 5)
    return table[:, 0], table[:, 1], table[:, 2], table[:, 3].astype(np.int8), table[:, 4], rows


def parse_row(line: bytes) -> tuple[int, int, int, int, int] | str:
    """(user, item, category, behavior code, timestamp) of one CSV line, or why it is malformed."""
    parts = [p.strip().strip(b'"') for p in line.split(b",")]
    if len(parts) != len(COLUMNS):
        return f"{len(parts)} fields, expected {len(COLUMNS)} ({', '.join(COLUMNS)})"
    try:
        user, item, category, timestamp = (int(parts[i]) for i in (0, 1, 2, 4))
    except ValueError:
        return "an id or the timestamp is not an integer"
    behavior = parts[3].decode("utf-8", "replace")
    if behavior not in BEHAVIORS:
        return f"unknown behavior_type {behavior!r} (expected one of {', '.join(BEHAVIORS)})"
    for what, value, low, high in (("user_id", user, 0, INT32_MAX), ("item_id", item, 1, MAX_ITEM_ID),
                                   ("category_id", category, 1, INT32_MAX)):
        if not low <= value <= high:
            return f"{what} {value} out of range [{low}, {high}]"
    if not -2**62 < timestamp < 2**62:
        return f"timestamp {timestamp} out of range"
    return user, item, category, BEHAVIORS.index(behavior), timestamp


# -- compact state ---------------------------------------------------------------------

class _Column:
    """A growable 1-d numpy array (amortised appends without Python objects)."""

    def __init__(self, dtype, capacity: int):
        self.data = np.empty(max(int(capacity), 1024), dtype=dtype)
        self.size = 0

    def _reserve(self, size: int) -> None:
        if size > len(self.data):
            grown = np.empty(max(size, int(len(self.data) * 1.5)), dtype=self.data.dtype)
            grown[:self.size] = self.data[:self.size]
            self.data = grown

    def extend(self, values: np.ndarray) -> None:
        self._reserve(self.size + len(values))
        self.data[self.size:self.size + len(values)] = values
        self.size += len(values)

    def view(self) -> np.ndarray:
        return self.data[:self.size]

    def release(self) -> None:
        self.data, self.size = np.empty(0, dtype=self.data.dtype), 0


def _last_category(table: _Column, item: np.ndarray, category: np.ndarray) -> None:
    """table[item] = category of the item's last row in this block (blocks come in file order)."""
    if not len(item):
        return
    top = int(item.max()) + 1
    if top > table.size:
        table._reserve(top)
        table.data[table.size:top] = 0
        table.size = top
    reverse_items = item[::-1]
    uniq, last = np.unique(reverse_items, return_index=True)
    table.data[uniq] = category[::-1][last]


def _order(users: _Column, items: _Column, times: _Column):
    """(users, offsets, items, already sorted) with each user's clicks contiguous and time-ordered.

    A file grouped by user and time-ordered within users (as published) needs
    no sort. Otherwise one stable sort by (user, timestamp), ties in file
    order; the columns are released as soon as they are not needed, so that
    the peak is about 28 bytes a click (the argsort's indices and key).
    """
    user, timestamp = users.view(), times.view()
    change = np.flatnonzero(user[1:] != user[:-1]) + 1
    starts = np.concatenate([[0], change])
    run_users = user[starts]
    decreasing = timestamp[1:] < timestamp[:-1]
    decreasing[change - 1] = False  # a new user may start at any time
    if not decreasing.any() and len(np.unique(run_users)) == len(run_users):
        return run_users, np.append(starts, len(user)).astype(np.int64), items.view(), True
    del change, starts, run_users, decreasing
    key = (user.astype(np.int64) << 32) | (timestamp.astype(np.int64) + 2**31)
    del timestamp
    times.release()
    order = np.argsort(key, kind="stable")  # by user, then time; ties in file order
    del key
    item = items.view()[order]
    items.release()
    user = user[order]
    users.release()
    del order
    starts = np.concatenate([[0], np.flatnonzero(user[1:] != user[:-1]) + 1])
    return user[starts], np.append(starts, len(user)).astype(np.int64), item, False
