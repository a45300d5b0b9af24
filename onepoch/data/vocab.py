"""One global id vocabulary shared by all fields, numbered by descending frequency.

As in the paper's original code, every field indexes ONE embedding table.
Tokens are namespaced by kind (user, item, category): an item in `item` and
in `hist_items` is the same token, so are categories. Ids:

    0   padding (empty history slots; also raw category 0 = unknown)
    1   default: anything not seen in the training samples
    2.. tokens by descending count over all fields of the training samples,
        ties by kind (user, item, category), then raw id

Frequency order is what turns "keep the top-m share of ids" into a threshold
on the id (the paper's filter experiment).
"""
from __future__ import annotations

import numpy as np
import torch

from onepoch.errors import DataError

KINDS = ("user", "item", "category")
USER, ITEM, CATEGORY = range(3)
PAD, DEFAULT = 0, 1
NO_KIND = -1  # kind of the padding and default ids

# raw-sample arrays feeding each kind; items and categories use 0 as padding
_SOURCES = {USER: ("user_raw",), ITEM: ("item", "hist_items"), CATEGORY: ("category", "hist_cats")}
_PADDED = {USER: False, ITEM: True, CATEGORY: True}
# encoded field <- raw array, kind
ENCODING = {
    "user_id": ("user_raw", USER),
    "item_id": ("item", ITEM),
    "cat_id": ("category", CATEGORY),
    "hist_item_ids": ("hist_items", ITEM),
    "hist_cat_ids": ("hist_cats", CATEGORY),
}


def _dense_limit(n: int) -> int:
    """Largest raw id + 1 for which a dense lookup table is used (a few times the ids it holds)."""
    return 8 * n + (1 << 20)


def _count(values: list[np.ndarray], padded: bool) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct raw ids over `values` and their counts (padding 0 left out where padded)."""
    flat = [v for v in values if len(v)]
    n = sum(len(v) for v in flat)
    top = max((int(v.max()) + 1 for v in flat), default=1)
    if top <= _dense_limit(n):
        count = sum((np.bincount(v, minlength=top) for v in flat), np.zeros(top, np.int64)).astype(np.int64)
        if padded:
            count[0] = 0
        seen = np.flatnonzero(count)
        return seen, count[seen]
    seen, count = np.unique(np.concatenate(flat), return_counts=True)
    keep = seen != 0 if padded else np.ones(len(seen), dtype=bool)
    return seen[keep], count[keep].astype(np.int64)


class Vocabulary:
    """Global ids; `counts`, `kind` and `raw` are arrays indexed by global id."""

    def __init__(self, kind: np.ndarray, raw: np.ndarray, counts: np.ndarray):
        self.kind = np.asarray(kind, dtype=np.int8)
        self.raw = np.asarray(raw, dtype=np.int64)
        self.counts = np.asarray(counts, dtype=np.int64)
        # raw -> id tables per kind: a dense array where raw ids are compact (array lookups keep
        # encoding millions of history slots fast), else sorted raw ids searched (memory then does
        # not depend on the raw values: an id near 2**62 costs 8 bytes, not 2**65)
        self._tables = []
        for k in range(len(KINDS)):
            ids = np.flatnonzero(self.kind == k)
            top = int(self.raw[ids].max()) + 1 if len(ids) else 1
            if top <= _dense_limit(len(ids)):
                table = np.full(top, DEFAULT, dtype=np.int64)
                table[self.raw[ids]] = ids
                if _PADDED[k]:
                    table[0] = PAD
                self._tables.append(table)
            else:
                order = np.argsort(self.raw[ids], kind="stable")
                self._tables.append((self.raw[ids][order], ids[order]))

    @classmethod
    def fit(cls, train_raw: dict[str, np.ndarray]) -> "Vocabulary":
        """Count every token over all fields of the training samples (padding excluded)."""
        kinds, raws, counts = [], [], []
        for k, keys in _SOURCES.items():
            values = [np.asarray(train_raw[key]).reshape(-1) for key in keys]
            if any(len(v) and v.min() < 0 for v in values):
                raise DataError(f"negative raw {KINDS[k]} id in the samples; raw ids must be >= 0")
            seen, count = _count(values, _PADDED[k])
            kinds.append(np.full(len(seen), k))
            raws.append(seen)
            counts.append(count)
        kind, raw, count = map(np.concatenate, (kinds, raws, counts))
        order = np.lexsort((raw, kind, -count))  # last key sorts first: count desc, kind, raw
        head = np.array([NO_KIND, NO_KIND])
        return cls(np.concatenate([head, kind[order]]),
                   np.concatenate([[-1, -1], raw[order]]),
                   np.concatenate([[0, 0], count[order]]))

    def __len__(self) -> int:
        return len(self.counts)

    @property
    def size(self) -> int:
        """Rows of the shared embedding table."""
        return len(self.counts)

    def lookup(self, kind: str | int, raw_ids) -> np.ndarray:
        """Global ids of raw ids of one kind; unseen -> 1, padding (items, categories) -> 0."""
        k = KINDS.index(kind) if isinstance(kind, str) else int(kind)
        table = self._tables[k]
        values = np.asarray(raw_ids, dtype=np.int64)
        if isinstance(table, tuple):  # sorted raw ids (sparse, large raw values)
            raws, ids = table
            at = np.clip(np.searchsorted(raws, values), 0, max(len(raws) - 1, 0))
            found = (raws[at] == values) if len(raws) else np.zeros(values.shape, dtype=bool)
            out = np.where(found, ids[at] if len(ids) else DEFAULT, DEFAULT)
            if _PADDED[k]:
                out[values == 0] = PAD
            return out
        out = table[np.clip(values, 0, len(table) - 1)]
        outside = (values < 0) | (values >= len(table))
        if outside.any():
            out[outside] = DEFAULT
        return out

    def encode(self, raw: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        """Raw samples -> tensors with the data contract's keys (see DESIGN.md)."""
        out = {field: torch.from_numpy(self.lookup(kind, raw[key])) for field, (key, kind) in ENCODING.items()}
        out["label"] = torch.from_numpy(np.asarray(raw["label"], dtype=np.float32))
        out["user_raw"] = torch.from_numpy(np.asarray(raw["user_raw"], dtype=np.int64))
        return out

    def kind_sizes(self) -> dict[str, int]:
        """Number of ids of each kind."""
        return {name: int((self.kind == k).sum()) for k, name in enumerate(KINDS)}

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Tensors only, so it can be saved and loaded with `torch.load(weights_only=True)`."""
        return {"kind": torch.from_numpy(self.kind), "raw": torch.from_numpy(self.raw),
                "counts": torch.from_numpy(self.counts)}

    @classmethod
    def from_state_dict(cls, state: dict[str, torch.Tensor]) -> "Vocabulary":
        return cls(state["kind"].numpy(), state["raw"].numpy(), state["counts"].numpy())

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={n}" for k, n in self.kind_sizes().items())
        return f"Vocabulary(size={self.size}: {sizes})"

