"""Adding your own data set: `onepoch data add NAME FILE ...` and `onepoch.data.add(NAME, FILE, ...)`.

The file is checked by reading it whole, as a run would (a bad file gets a
one-line error naming file, line, cause and fix, and nothing is written);
then its format, columns and sha256 are written to `datasets.toml` in the
data folder (`onepoch.data.registry`). Formats: `onepoch.data.userdata`
(interactions, sequences) and `onepoch.data.tabular`. See book/your_data.md.
"""
from __future__ import annotations

import os
from pathlib import Path

from onepoch.data import files, registry, tabular, userdata
from onepoch.errors import DataError

LAYOUTS = {  # the standard tabular layouts, so that `--layout criteo` needs no column names
    "criteo": dict(format="tabular", sep="\t", header=False, label="label",
                   columns=["label", *(f"I{i}" for i in range(1, 14)), *(f"C{i}" for i in range(1, 27))],
                   numeric=[f"I{i}" for i in range(1, 14)]),
    "avazu": dict(format="tabular", sep=",", header=True, label="click", skip=["id"]),
}


def add(name: str, file: str | os.PathLike, format: str | None = None, *, attributes=None, layout: str | None = None,
        data_dir=None, **columns) -> dict:
    """Check `file` and register it as data set `name` in the data folder's `datasets.toml`.

    `columns`: user, item, time, category (interactions); label, user, time,
    categorical, numeric, skip (tabular); sep, header, columns (how to read the
    file). Returns the entry written. A bad file raises `DataError` and writes nothing.
    """
    folder = registry.data_dir(data_dir)
    if not isinstance(name, str) or not registry.NAME_PATTERN.fullmatch(name):
        raise DataError(f"data set name {name!r}: use lower-case letters, digits, '-', '_' or '.' (e.g. 'my-log')")
    if name in registry.BUILTIN or name == "add":  # "add": `onepoch data add` would read it as the subcommand
        raise DataError(f"{name!r} is a built-in data set or a command; choose another name")
    entry = dict(LAYOUTS[layout]) if layout else {}
    if layout and layout not in LAYOUTS:
        raise DataError(f"unknown layout {layout!r}; choose one of: {', '.join(LAYOUTS)}")
    entry.update({k: v for k, v in columns.items() if v is not None})
    fmt = format or entry.get("format") or _guess_format(entry, attributes)
    if fmt not in registry.FORMATS:
        raise DataError(f"unknown format {fmt!r}; choose one of: {', '.join(registry.FORMATS)}")
    entry["format"] = fmt
    missing = [opt for opt, needed in userdata.COLUMNS[fmt] if needed and not entry.get(opt)]
    if missing:
        raise DataError(f"format {fmt!r} needs " + ", ".join(f"--{m} COLUMN" for m in missing))
    path = Path(file).expanduser().resolve()
    if not path.is_file():
        raise DataError(f"{file}: no such file; give the path of your data file")
    entry["file"] = _stored_path(path, folder)
    entry["file_sha256"] = files.file_sha256(path)
    if attributes is not None:
        apath = Path(attributes).expanduser().resolve()
        if not apath.is_file():
            raise DataError(f"{attributes}: no such file; give the path of the item attributes JSON")
        entry["attributes"], entry["attributes_sha256"] = _stored_path(apath, folder), files.file_sha256(apath)
    src = registry.DatasetSource(name, fmt, (), options=entry)
    paths = {"file": path} | ({"attributes": apath} if attributes is not None else {})
    if fmt == "tabular":  # fills in the categorical columns left unnamed, checks every value
        entry.update(tabular.describe(path, entry))
    else:
        inter = userdata.read(src, paths)
        entry["description"] = (f"your {fmt} file: {inter.n_users:,} users, {inter.n_interactions:,} interactions, "
                                f"{len(inter.item_category) - 1:,} items")
    registry.write_entry(name, entry, folder)
    return entry


def _guess_format(entry: dict, attributes) -> str:
    if entry.get("label"):
        return "tabular"
    if entry.get("user") or entry.get("item") or entry.get("time"):
        return "interactions"
    return "sequences"


def _stored_path(path: Path, folder: Path) -> str:
    """Relative to the data folder when inside it (the folder can then move), else absolute."""
    try:
        return str(path.relative_to(folder.expanduser().resolve()))
    except ValueError:
        return str(path)
