"""CTR samples from interaction sequences: positives plus popularity negatives.

A positive is an interaction at position t >= min_history of a user's
sequence; its history is the items before it (the last `max_history`). Each
positive gets one negative with the same user and history whose item is drawn
by popularity (uniformly from all interactions, as DIN/DIEN's Amazon
preprocessing does) and differs from the positive.

Constructions:
  "positions"  every eligible position is a sample; each user's last position
               goes to test, the earlier ones to train (leave-last-out).
  "last"       only each user's last position (DIEN / the paper's Amazon Book);
               a seeded share `test_users` of the users goes to test.

Everything stays in raw id space; `onepoch.data.vocab` encodes it.
"""
from __future__ import annotations

import numpy as np

from onepoch.data.interactions import Interactions
from onepoch.errors import DataError

CONSTRUCTIONS = ("positions", "last")
KEYS = ("user_raw", "item", "category", "hist_items", "hist_cats", "label")


def validate(construction: str, max_history: int, min_history: int, test_users: float, max_users, seed) -> None:
    """Raise `DataError` for a parameter `build_samples` cannot honour."""
    if construction not in CONSTRUCTIONS:
        raise DataError(f"unknown construction {construction!r}; choose one of: {', '.join(CONSTRUCTIONS)}")
    for name, value, low in (("max_history", max_history, 1), ("min_history", min_history, 0)):
        if not _is_int(value) or value < low:
            raise DataError(f"{name} must be an integer >= {low}, got {value!r}")
    if isinstance(test_users, bool) or not isinstance(test_users, (int, float)) or not 0 < test_users < 1:
        raise DataError(f"test_users must be a share in (0, 1), got {test_users!r}")
    if max_users is not None and (not _is_int(max_users) or max_users < 1):
        raise DataError(f"max_users must be None (all users) or an integer >= 1, got {max_users!r}")
    if not _is_int(seed) or seed < 0:
        raise DataError(f"seed must be an integer >= 0, got {seed!r}")


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def build_samples(inter: Interactions, construction: str = "positions", max_history: int = 50,
                  min_history: int = 1, test_users: float = 0.1, max_users: int | None = None,
                  seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(train, test) dicts of raw-id arrays with keys `KEYS`; rows are positive, negative, ...

    hist_items / hist_cats are (N, L), right-padded with 0, most recent item
    last; L = max_history, or the longest history if all are shorter.
    """
    validate(construction, max_history, min_history, test_users, max_users, seed)
    # independent streams, so that e.g. the user subset does not shift the negatives' draws
    subset_rng, split_rng, negative_rng = map(np.random.default_rng, np.random.SeedSequence(seed).spawn(3))

    keep = np.arange(inter.n_users)
    if max_users is not None and max_users < inter.n_users:
        keep = np.sort(subset_rng.choice(inter.n_users, size=max_users, replace=False))
    sequences = [inter.sequences[i] for i in keep]
    users = np.asarray(inter.users, dtype=np.int64)[keep]
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    flat = np.concatenate(sequences).astype(np.int64, copy=False) if sequences else np.zeros(0, np.int64)
    starts = np.cumsum(lengths) - lengths

    if construction == "positions":
        per_user = np.maximum(lengths - min_history, 0)
        owner = np.repeat(np.arange(len(lengths)), per_user)
        first_row = np.cumsum(per_user) - per_user
        position = np.arange(len(owner)) - first_row[owner] + min_history
        in_test = position == lengths[owner] - 1
    else:
        owner = np.flatnonzero(lengths > min_history)
        position = lengths[owner] - 1
        in_test = _split_users(len(owner), test_users, split_rng)
    if len(owner) == 0:
        raise DataError(f"no user has more than min_history={min_history} interactions; lower min_history")

    at = starts[owner] + position  # index of each positive in `flat`
    item = flat[at]
    negative = _popular_negatives(flat, item, negative_rng)
    hist_len = np.minimum(position, max_history)
    width = max(int(hist_len.max()), 1)
    slots = np.arange(width)
    valid = slots < hist_len[:, None]
    hist_items = np.where(valid, flat[np.minimum((at - hist_len)[:, None] + slots, len(flat) - 1)], 0)

    category = inter.item_category
    positives = dict(user_raw=users[owner], item=item, hist_items=hist_items)
    return (_pairs(positives, negative, category, ~in_test),
            _pairs(positives, negative, category, in_test))


def _split_users(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    if n < 2:
        raise DataError(f"the 'last' construction needs at least 2 eligible users to split, found {n}")
    n_test = min(max(int(round(share * n)), 1), n - 1)
    in_test = np.zeros(n, dtype=bool)
    in_test[rng.permutation(n)[:n_test]] = True
    return in_test


def _popular_negatives(pool: np.ndarray, positive: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One item per positive drawn uniformly from all interactions (i.e. by popularity), != positive."""
    if len(np.unique(pool)) < 2:
        raise DataError("cannot sample negatives: the data holds fewer than 2 distinct items")
    negative = pool[rng.integers(0, len(pool), size=len(positive))]
    redraw = np.flatnonzero(negative == positive)
    while len(redraw):  # rejection, vectorised over the clashes left
        negative[redraw] = pool[rng.integers(0, len(pool), size=len(redraw))]
        redraw = redraw[negative[redraw] == positive[redraw]]
    return negative


def _pairs(positives: dict, negative: np.ndarray, item_category: np.ndarray, rows: np.ndarray) -> dict:
    """Interleave each selected positive with its negative: rows p0, n0, p1, n1, ..."""
    item = np.stack([positives["item"][rows], negative[rows]], axis=1).reshape(-1)
    hist_items = np.repeat(positives["hist_items"][rows], 2, axis=0)
    label = np.tile(np.array([1.0, 0.0], dtype=np.float32), int(rows.sum()))
    return dict(
        user_raw=np.repeat(positives["user_raw"][rows], 2),
        item=item,
        category=_categories(item_category, item),
        hist_items=hist_items,
        hist_cats=_categories(item_category, hist_items),
        label=label,
    )


def _categories(item_category: np.ndarray, items: np.ndarray) -> np.ndarray:
    # padding (item 0) maps to item_category[0] == 0; items beyond the table are unknown (0)
    if len(item_category) == 0:
        return np.zeros_like(items)
    out = item_category[np.minimum(items, len(item_category) - 1)]
    out[items >= len(item_category)] = 0
    return out
