"""Your own data sets: a log or a sequence file, added once, then used by name like a built-in one.

    onepoch data add mylog events.csv --user user_id --item item_id --time ts --category cat
    onepoch.data.add("mylog", "events.csv", user="user_id", item="item_id", time="ts", category="cat")

`add` (`onepoch.data.register`) checks the file, records its format,
columns and sha256 in `datasets.toml` in the data folder
(`onepoch.data.registry`), and from then on the name works in `load`,
`RunConfig(dataset=...)`, `onepoch data` and a chapter's `-p datasets=[...]`.
This module reads the files.

Formats:
  interactions  CSV / TSV / Parquet, one interaction per row: user, item,
                time and optionally category columns; each user's items sorted
                by time (stable) become one sequence.
  sequences     the S3-Rec layout: `user item item ...` per line, oldest first;
                optionally a JSON file {"item": [attribute, ...]} whose LAST
                attribute is the item's category (as for the shared data).
  tabular       one impression per row: a 0/1 label, categorical columns and
                optionally numeric ones (Criteo / Avazu / BARS); `onepoch.data.tabular`.

Adding one (checking it, writing `datasets.toml`) is `onepoch.data.register`.

Raw IDs may be any text (or integers of any size): they are numbered densely
(in sorted order of their text) before any table is sized, so memory does not
depend on the raw values.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from onepoch.data import files, registry
from onepoch.data.interactions import Interactions
from onepoch.errors import DataError

DELIMITED = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": "\t"}
# column options by format: (name, required)
COLUMNS = {"interactions": (("user", True), ("item", True), ("time", True), ("category", False)),
           "sequences": (), "tabular": (("label", True), ("user", False), ("time", False))}



# -- reading a delimited file ---------------------------------------------------------------

def read_table(path: Path, options: dict) -> pd.DataFrame:
    """The file's columns as text ('' for an empty cell), with one-line errors naming file and line."""
    path = Path(path)
    if path.suffix == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except ImportError:
            raise DataError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow), or save the file as CSV") from None
        except Exception as exc:
            raise DataError(f"{path}: not a readable Parquet file ({exc}); check the file or save it as CSV") from None
        return frame.astype(str).replace({"nan": "", "None": "", "NaT": ""})
    sep = options.get("sep") or DELIMITED.get(path.suffix, ",")
    header = options.get("header", True)
    names = options.get("columns")
    try:
        frame = pd.read_csv(path, sep=sep, header=0 if header else None, names=names, dtype=str,
                            keep_default_na=False, na_filter=False, engine="c")
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: empty file; expected {'a header line and ' if header else ''}rows") from None
    except pd.errors.ParserError as exc:
        found = re.search(r"line (\d+), saw (\d+)", str(exc))
        where = f", line {found.group(1)}" if found else ""
        cause = f"{found.group(2)} columns where the lines above have fewer or more" if found else str(exc)
        raise DataError(f"{path}{where}: {cause} (separator {sep!r}); fix the line, or pass --sep if the "
                        "file uses another separator") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start}); is it the right, uncompressed file?") from None
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror or exc}); check the path") from None
    _check_widths(path, sep, len(frame.columns))
    return frame


def _check_widths(path: Path, sep: str, width: int, chunk: int = 1 << 23) -> None:
    """A line with fewer columns than the others (pandas pads it silently) is an error naming the line.
    Counts separators per line in chunks; files with quoted fields (which may hold separators) are skipped."""
    if len(sep) != 1:
        return
    line, rest = 0, b""
    with open(path, "rb") as f:
        while block := f.read(chunk):
            block = rest + block
            end = block.rfind(b"\n") + 1
            whole, rest = block[:end], block[end:]
            if b'"' in whole:
                return
            data = np.frombuffer(whole, dtype=np.uint8)
            newlines = np.flatnonzero(data == 10)
            per_line = np.diff(np.searchsorted(np.flatnonzero(data == ord(sep)), newlines), prepend=0)
            empty = np.diff(newlines, prepend=-1) <= 1 + (data[np.maximum(newlines - 1, 0)] == 13)
            short = np.flatnonzero((per_line < width - 1) & ~empty)
            if len(short):
                raise DataError(f"{path}, line {line + int(short[0]) + 1}: {int(per_line[short[0]]) + 1} columns where "
                                f"the file has {width} (separator {sep!r}); fix the line or delete it")
            line += len(newlines)


def line_of(options: dict, row: int) -> int:
    """File line of data row `row` (0-based)."""
    return row + (2 if options.get("header", True) else 1)


def require(frame: pd.DataFrame, path: Path, column: str, option: str, headerless: bool = False) -> pd.Series:
    """The named column, or a one-line error with a preview of the columns found."""
    if column in frame.columns:
        return frame[column]
    first = frame.iloc[0].tolist() if len(frame) else []
    preview = ", ".join(f"{c}={v!r}" if first else str(c) for c, v in zip(frame.columns, first or frame.columns))
    raise DataError(f"{path}, line 1: no column {column!r} (the --{option} column); columns found (first row): "
                    f"{preview[:400]}; pass --{option} with one of them"
                    + (" (or name the columns of this file without a header with --columns)" if headerless else ""))


def codes(values: pd.Series, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Dense numbers of text values in sorted order (start, start + 1, ...), and the sorted values."""
    code, uniques = pd.factorize(values, sort=True)
    return code.astype(np.int64) + start, np.asarray(uniques)


def _no_empty(values: pd.Series, path: Path, options: dict, what: str) -> None:
    empty = np.flatnonzero((values == "").to_numpy())
    if len(empty):
        raise DataError(f"{path}, line {line_of(options, int(empty[0]))}: empty {what}; fill it in or delete the row")


# -- interactions: one row per (user, item, time) ------------------------------------------------

def read_interactions(path: Path, options: dict, name: str, checksum: str) -> Interactions:
    frame = read_table(path, options)
    if frame.empty:
        raise DataError(f"{path}: no rows; expected one interaction per row")
    cols = {opt: require(frame, path, options[opt], opt, not options.get("header", True))
            for opt, _ in COLUMNS["interactions"] if options.get(opt)}
    for opt in ("user", "item"):
        _no_empty(cols[opt], path, options, f"{opt} ({options[opt]!r})")
    time = parse_time(cols["time"], path, options)
    users, _ = codes(cols["user"])
    items, _ = codes(cols["item"], start=1)  # 0 is padding
    order = np.lexsort((time, users))  # by user, then time; stable: equal times keep file order
    users_sorted, items_sorted = users[order], items[order]
    user_ids, first = np.unique(users_sorted, return_index=True)
    item_category = np.zeros(int(items.max()) + 1, dtype=np.int64)
    if "category" in cols:
        known = (cols["category"] != "").to_numpy()
        cats = np.zeros(len(frame), dtype=np.int64)
        cats[known], _ = codes(cols["category"][known], start=1)
        # an item's category is the one of its first row in the file (an item rarely changes category)
        first_row = np.unique(items, return_index=True)[1]
        item_category[items[first_row]] = cats[first_row]
    return Interactions(name, np.split(items_sorted, first[1:]), user_ids, item_category, checksum)


def parse_time(values: pd.Series, path: Path, options: dict) -> np.ndarray:
    """Numbers (e.g. Unix seconds) or dates / date-times, as float64 for sorting."""
    number = pd.to_numeric(values, errors="coerce")
    if not number.isna().any():
        return number.to_numpy(dtype=np.float64)
    if number.notna().mean() >= 0.5:  # mostly numbers: the others are the bad rows
        bad = np.flatnonzero(number.isna().to_numpy())
    else:
        stamp = pd.to_datetime(values, errors="coerce", format="mixed")
        bad = np.flatnonzero(stamp.isna().to_numpy())
    if len(bad):
        row = int(bad[0])
        raise DataError(f"{path}, line {line_of(options, row)}: time {values.iloc[row]!r} ({options['time']!r}) is "
                        "neither a number nor a date; fix the row or name another --time column")
    return stamp.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)


# -- sequences: the S3-Rec layout ----------------------------------------------------------------

def read_sequences(path: Path, attributes: Path | None, name: str, checksum: str) -> Interactions:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start}); is it the right, uncompressed file?") from None
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataError(f"{path}: no users in the file; expected lines `user item item ...`")
    rows = [line.split() for line in lines]
    for number, row in enumerate(rows, start=1):
        if len(row) < 2:
            what = "an empty line" if not row else "a user without items"
            raise DataError(f"{path}, line {number}: {what}; expected `user item item ...`; fix or delete the line")
    users = pd.Series([row[0] for row in rows])
    dup = np.flatnonzero(users.duplicated().to_numpy())
    if len(dup):
        raise DataError(f"{path}, line {int(dup[0]) + 1}: user {users.iloc[int(dup[0])]!r} appears on more than one "
                        "line; each user must have exactly one line (merge them, oldest item first)")
    user_codes, _ = codes(users)
    lengths = np.fromiter((len(row) - 1 for row in rows), dtype=np.int64, count=len(rows))
    flat = pd.Series([item for row in rows for item in row[1:]])
    items, uniques = codes(flat, start=1)
    item_category = np.zeros(len(uniques) + 1, dtype=np.int64)
    if attributes is not None:
        attrs = _read_attributes(Path(attributes))
        last = {item: values[-1] for item, values in attrs.items() if values}
        idx = pd.Index(uniques).get_indexer(list(last))
        known = idx >= 0
        if not known.any() and len(last):
            raise DataError(f"{attributes} does not match {path}: none of its items appears there (e.g. "
                            f"{next(iter(last))!r}); are both files from the same data set?")
        cat_codes, _ = codes(pd.Series([str(v) for v in last.values()]), start=1)
        item_category[idx[known] + 1] = cat_codes[known]
    sequences = np.split(items, np.cumsum(lengths)[:-1])
    return Interactions(name, sequences, user_codes, item_category, checksum)


def _read_attributes(path: Path) -> dict[str, list]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}, line {exc.lineno}: invalid JSON ({exc.msg}); fix the file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path} as UTF-8 JSON ({exc}); check the file") from None
    if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
        raise DataError(f"{path}: expected a JSON object {{\"item\": [attribute, ...]}}; fix the file")
    return {str(k): v for k, v in raw.items()}


# -- the registry's entry point -------------------------------------------------------------------

def checksum(src: registry.DatasetSource, paths: dict) -> str:
    """sha256 over the files and the columns chosen: other columns, other data."""
    import hashlib

    spec = {k: v for k, v in src.options.items() if not k.endswith("sha256") and k not in ("file", "attributes",
                                                                                           "description")}
    text = files.files_checksum(paths) + json.dumps(spec, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def read(src: registry.DatasetSource, paths: dict) -> Interactions:
    """Interactions of a user's data set in the interactions or sequences format."""
    if src.reader == "interactions":
        return read_interactions(paths["file"], src.options, src.name, checksum(src, paths))
    if src.reader == "sequences":
        return read_sequences(paths["file"], paths.get("attributes"), src.name, checksum(src, paths))
    raise DataError(f"data set {src.name!r} is {src.reader!r}, not a sequence format; load it with onepoch.data.load")
