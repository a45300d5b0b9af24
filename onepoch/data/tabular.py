"""Tabular CTR data (Criteo, Avazu, the BARS layouts): one impression per row, a 0/1 label.

Every column but the label (and those skipped) is a feature field of its
own, named after the column; the models take any set of fields
(`onepoch.models.fields`). Fields:

- categorical columns: each distinct text is one ID; an empty cell is
  "missing" and maps to padding (id 0: the field contributes a zero vector);
- numeric columns (`numeric=[...]`, e.g. Criteo's I1-I13) are bucketized by
  the rule of the Criteo competition's winners that FuxiCTR / BARS use: a
  value v > 2 goes to bucket floor(ln(v)^2), a value v <= 2 is its own bucket
  (its integer part); an empty cell is missing. A numeric column is never
  skipped silently: list it in `skip` to leave it out.

One global vocabulary over all fields, as for the sequence data sets
(`onepoch.data.vocab`): tokens are (field, value) pairs counted over the
training rows and numbered 2.. by descending count (ties by field order,
then value); 0 = missing, 1 = unseen in training. So the filter / hash
tools (`onepoch.data.sparsity`) and the frequency-based probes work unchanged.

Split: the last `test_share` of the rows are the test set (by the `time`
column when one is named, else in file order: the Criteo and Avazu files are
in time order). `max_rows` keeps a seeded random subset of the rows (order
kept). GAUC (and the A-distance probe's folds) group by the `user` column
when one is named; without one each impression is its own group, so GAUC is
undefined (NaN) and the probe's folds split impressions.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from onepoch.data.userdata import line_of, parse_time, read_table, require
from onepoch.errors import DataError

RESERVED = ("label", "user_raw")  # tensor keys next to the fields
# Bump when a change here changes the tensors a tabular file gives (it joins the data's cache key).
TABULAR_VERSION = 2


def describe(path: Path, entry: dict) -> dict:
    """Check a tabular file as `add` registers it: the fields and their kinds, and every value."""
    frame = read_table(path, entry)
    if frame.empty:
        raise DataError(f"{path}: no rows; expected one impression per row")
    fields, numeric = field_columns(frame, path, entry)
    encode_columns(frame, path, entry, fields, numeric)
    return dict(categorical=[f for f in fields if f not in numeric], numeric=numeric,
                description=f"your tabular file: {len(frame):,} impressions, {len(fields)} fields "
                            f"({len(numeric)} numeric, bucketized)")


def field_columns(frame: pd.DataFrame, path: Path, entry: dict) -> tuple[list[str], list[str]]:
    """(all feature fields in column order, the numeric ones)."""
    label, headerless = entry["label"], not entry.get("header", True)
    require(frame, path, label, "label", headerless)
    for opt in ("user", "time"):
        if entry.get(opt):
            require(frame, path, entry[opt], opt, headerless)
    skip = set(entry.get("skip", ())) | {label} | ({entry["time"]} if entry.get("time") else set())
    numeric = list(entry.get("numeric", ()))
    for col in numeric + list(entry.get("categorical", ())):
        require(frame, path, col, "numeric" if col in numeric else "categorical", headerless)
    named = entry.get("categorical")
    fields = [c for c in frame.columns if c not in skip and (named is None or c in named or c in numeric)]
    clash = [f for f in fields if f in RESERVED]
    if clash:
        raise DataError(f"{path}: column {clash[0]!r} would clash with the label tensor; rename it or --skip it")
    if not fields:
        raise DataError(f"{path}: no feature columns left besides the label; name them with --categorical")
    return [str(f) for f in fields], [str(n) for n in numeric]


def encode_columns(frame, path, entry, fields, numeric) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per field, the raw tokens as text ('' = missing); and the labels as float32 0/1."""
    labels = frame[entry["label"]]
    bad = np.flatnonzero(~labels.isin(["0", "1", "0.0", "1.0"]).to_numpy())
    if len(bad):
        row = int(bad[0])
        raise DataError(f"{path}, line {line_of(entry, row)}: label {labels.iloc[row]!r} ({entry['label']!r}) is not "
                        "0 or 1; fix the row, or name the click column with --label")
    tokens = {}
    for f in fields:
        tokens[f] = bucketize(frame[f], path, entry, f) if f in numeric else frame[f].to_numpy(dtype=object)
    return tokens, labels.astype(float).to_numpy(dtype=np.float32)


def bucketize(values: pd.Series, path: Path, entry: dict, column: str) -> np.ndarray:
    """Numeric text -> bucket text: floor(ln(v)^2) for v > 2, else int(v); '' stays missing."""
    number = pd.to_numeric(values.replace("", np.nan), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(number) & (values != "").to_numpy())
    if len(bad):
        row = int(bad[0])
        raise DataError(f"{path}, line {line_of(entry, row)}: numeric column {column!r} holds {values.iloc[row]!r}; "
                        "fix the row, or list the column as categorical (drop it from --numeric)")
    with np.errstate(invalid="ignore", divide="ignore"):
        bucket = np.where(number > 2, np.floor(np.log(np.where(number > 2, number, 3)) ** 2), np.trunc(number))
    out = np.array([f"{int(b)}" if not math.isnan(b) else "" for b in bucket], dtype=object)
    return out


class FieldVocabulary:
    """Global ids of (field, value) tokens by descending training count; `kind` = field index."""

    def __init__(self, kind, raw, counts, fields: tuple[str, ...] = (), values: dict | None = None):
        self.kind = np.asarray(kind, dtype=np.int16)
        self.raw = np.asarray(raw, dtype=np.int64)  # the value's number within its field (sorted text order)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.fields = tuple(fields)
        self.values = values or {}  # field -> sorted distinct training values (only right after fit)

    @property
    def size(self) -> int:
        return len(self.counts)

    def __len__(self) -> int:
        return self.size

    def kind_sizes(self) -> dict[str, int]:
        return {name: int((self.kind == k).sum()) for k, name in enumerate(self.fields)}

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"kind": torch.from_numpy(self.kind.astype(np.int64)), "raw": torch.from_numpy(self.raw),
                "counts": torch.from_numpy(self.counts)}

    @classmethod
    def from_state_dict(cls, state, fields=()) -> "FieldVocabulary":
        return cls(state["kind"].numpy(), state["raw"].numpy(), state["counts"].numpy(), fields)

    def __repr__(self) -> str:
        return f"FieldVocabulary(size={self.size}, fields={len(self.fields)})"


def fit_and_encode(tokens: dict[str, np.ndarray], train: np.ndarray) -> tuple[FieldVocabulary, dict[str, np.ndarray]]:
    """Vocabulary over the training rows; every row's global ids per field (0 missing, 1 unseen)."""
    kinds, raws, counts, uniques = [], [], [], {}
    for k, (field, values) in enumerate(tokens.items()):
        seen = values[train]
        seen = seen[seen != ""]
        code, unique = pd.factorize(pd.Series(seen, dtype=object), sort=True)
        uniques[field] = np.asarray(unique, dtype=object)
        count = np.bincount(code, minlength=len(unique)).astype(np.int64)
        kinds.append(np.full(len(unique), k))
        raws.append(np.arange(len(unique)))
        counts.append(count)
    kind, raw, count = map(np.concatenate, (kinds, raws, counts))
    order = np.lexsort((raw, kind, -count))  # count desc, then field, then value
    global_id = np.empty(len(order), dtype=np.int64)
    global_id[order] = np.arange(2, len(order) + 2)
    vocab = FieldVocabulary(np.concatenate([[-1, -1], kind[order]]), np.concatenate([[-1, -1], raw[order]]),
                            np.concatenate([[0, 0], count[order]]), tuple(tokens), uniques)
    encoded, start = {}, 0
    for field, values in tokens.items():
        n = len(uniques[field])
        pos = pd.Index(uniques[field]).get_indexer(pd.Series(values, dtype=object))
        ids = np.where(pos >= 0, global_id[start + np.maximum(pos, 0)], 1)
        ids[values == ""] = 0
        encoded[field] = ids
        start += n
    return vocab, encoded


def build(src, paths: dict, params: dict):
    """(train tensors, test tensors, vocabulary, fields) of a registered tabular data set."""
    path, entry = Path(paths["file"]), src.options
    frame = read_table(path, entry)
    if frame.empty:
        raise DataError(f"{path}: no rows; expected one impression per row")
    fields, numeric = field_columns(frame, path, entry)
    tokens, labels = encode_columns(frame, path, entry, fields, numeric)
    n = len(labels)
    rows = np.arange(n)
    if entry.get("time"):
        rows = np.argsort(parse_time(frame[entry["time"]], path, entry), kind="stable")
    if params["max_rows"] is not None and params["max_rows"] < n:
        keep = np.sort(np.random.default_rng(params["seed"]).choice(n, size=params["max_rows"], replace=False))
        rows = rows[keep]
    n_test = min(max(int(round(params["test_share"] * len(rows))), 1), len(rows) - 1)
    if len(rows) < 2:
        raise DataError(f"{path}: {len(rows)} row(s); a training and a test set need at least 2")
    train_rows, test_rows = rows[: len(rows) - n_test], rows[len(rows) - n_test:]
    in_train = np.zeros(n, dtype=bool)
    in_train[train_rows] = True
    vocab, encoded = fit_and_encode(tokens, in_train)
    users = np.arange(n, dtype=np.int64)  # no user column: each impression its own group
    if entry.get("user"):
        users = pd.factorize(frame[entry["user"]], sort=True)[0].astype(np.int64)

    def split(idx):
        out = {f: torch.from_numpy(encoded[f][idx]) for f in fields}
        out["label"] = torch.from_numpy(labels[idx])
        out["user_raw"] = torch.from_numpy(users[idx])
        return out

    return split(train_rows), split(test_rows), vocab, tuple(fields)
