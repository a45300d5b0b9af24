"""The paper's Table 2 (unique IDs and mean occurrences per field) measured on a data set's samples."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from onepoch import atomic
from onepoch.data import readers, registry
from onepoch.data.prepared import PREP_VERSION, _json_default, check_memory
from onepoch.data.samples import build_samples, validate
from onepoch.data.sources import ensure_files

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
    from onepoch.data.dataset import DATA_VERSION  # the samples' version (dataset imports this module lazily)

    args = registry.load_arguments(name, construction, max_history, min_history)
    validate(args["construction"], args["max_history"], args["min_history"], test_users, max_users, seed)
    paths = ensure_files(name, data_dir=data_dir, download=download)
    params = dict(args, test_users=float(test_users), max_users=max_users, seed=int(seed))
    payload = json.dumps({"name": name, "files": readers.files_checksum(paths), "params": params,
                          "version": [DATA_VERSION, PREP_VERSION]}, sort_keys=True)
    path = registry.cache_dir() / "table2" / f"{hashlib.sha256(payload.encode()).hexdigest()}.json"
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
