"""Feature sparsity statistics of the encoded training samples (paper Tables 1-2, Fig. 10).

Every function takes a `CTRData` (its training samples are used) or a dict of
encoded tensors. They count ids as they appear in the tensors, so they also
describe data after a filter or hash transform. Padding (id 0) is excluded.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy import stats as _st

from onepoch.data.registry import PAPER_FIELDS
from onepoch.errors import DataError

FIELDS = PAPER_FIELDS
ALL = "all"


def _fields(data) -> tuple[str, ...]:
    """The data's feature fields (a tabular data set's are its columns), else the paper's five."""
    return tuple(getattr(data, "fields", None) or FIELDS)


def _samples(data) -> dict[str, torch.Tensor]:
    return data.train if hasattr(data, "train") else data


def field_counts(data, field: str) -> np.ndarray:
    """Occurrences of each global id in one field (or `"all"` fields), indexed by id; padding is 0."""
    samples = _samples(data)
    fields = [f for f in _fields(data) if f in samples] if field == ALL else [field]
    values = [samples[f].reshape(-1).numpy() for f in fields]
    size = max((int(v.max()) + 1 for v in values if len(v)), default=1)
    counts = sum(np.bincount(v, minlength=size) for v in values).astype(np.int64)
    counts[0] = 0
    return counts


def field_stats(data) -> pd.DataFrame:
    """Per field: unique ids, occurrences, mean occurrences per id (paper Tables 1-2)."""
    rows = []
    for field in [f for f in _fields(data) if f in _samples(data)] + [ALL]:
        counts = field_counts(data, field)
        unique, total = int((counts > 0).sum()), int(counts.sum())
        rows.append(dict(field=field, unique_ids=unique, occurrences=total,
                         mean_occurrences=total / unique if unique else float("nan")))
    return pd.DataFrame(rows).set_index("field")


def _cumulative(counts: np.ndarray) -> np.ndarray:
    """[0, share of occurrences of the rarest 1 id, rarest 2 ids, ...]."""
    ascending = np.sort(counts[counts > 0])
    return np.concatenate([[0.0], np.cumsum(ascending) / max(ascending.sum(), 1)])


def occurrence_share(data, fields=None, points: int | None = 201) -> pd.DataFrame:
    """Cumulative share of occurrences over ids sorted by ascending frequency (paper Fig. 10).

    Long format: field, id_share (x), occurrence_share (y). `fields`: names or
    `"all"` (default: all fields together, then each field). `points` evaluates
    each curve on an even grid of id shares (a compact frame for plotting);
    `None` keeps one point per id.
    """
    fields = [ALL, *[f for f in _fields(data) if f in _samples(data)]] if fields is None else (
        [fields] if isinstance(fields, str) else list(fields))
    frames = []
    for field in fields:
        cum = _cumulative(field_counts(data, field))
        n = len(cum) - 1
        if points is None:
            x, y = np.arange(n + 1) / max(n, 1), cum
        else:
            x = np.linspace(0.0, 1.0, points)
            y = cum[np.floor(x * n + 1e-9).astype(np.int64)]
        frames.append(pd.DataFrame({"field": field, "id_share": x, "occurrence_share": y}))
    return pd.concat(frames, ignore_index=True)


def bottom_share(data, share: float = 0.5, field: str = ALL) -> float:
    """Share of occurrences carried by the rarest `share` of ids (paper: 50% of ids -> ~2.5%)."""
    if not 0.0 <= share <= 1.0:
        raise DataError(f"share must be in [0, 1], got {share!r}")
    cum = _cumulative(field_counts(data, field))
    return float(cum[int(np.floor(share * (len(cum) - 1) + 1e-9))])


def _user_id_counts(data, field: str):
    """(user index, id, occurrences) for every id of `field` (or all fields) in each user's training rows."""
    samples = _samples(data)
    if "user_raw" not in samples:
        raise DataError("a bootstrap over users needs the training samples' 'user_raw' column; "
                        "pass a loaded data set (onepoch.data.load) rather than bare tensors")
    _, user = np.unique(samples["user_raw"].numpy(), return_inverse=True)
    fields = [f for f in _fields(data) if f in samples] if field == ALL else [field]
    users, ids = [], []
    for f in fields:
        values = samples[f].numpy().reshape(len(user), -1)
        users.append(np.repeat(user, values.shape[1]))
        ids.append(values.reshape(-1))
    users, ids = np.concatenate(users).astype(np.int64), np.concatenate(ids).astype(np.int64)
    keep = ids != 0  # padding
    size = int(ids.max()) + 1 if len(ids) else 1
    keys, counts = np.unique(users[keep] * size + ids[keep], return_counts=True)
    return keys // size, keys % size, counts, int(user.max()) + 1 if len(user) else 0


def bottom_share_interval(data, share: float = 0.5, field: str = ALL, replicates: int = 200,
                          seed: int = 0, confidence: float = 0.95) -> tuple[float, float, float]:
    """`bottom_share` with a bootstrap interval over users: (estimate, low, high).

    The data set is a sample of users, so the share is resampled by drawing the
    training users with replacement (`replicates` draws, fixed `seed`). An id
    seen in several users' rows gets the occurrences of every draw of those
    users; an id private to one user (its user ID, an item only it has) is copied
    once per draw of that user, as a new user would bring ids of its own. With
    every user drawn once this is exactly `bottom_share`.

    The interval is the normal one, estimate +- z x the draws' standard
    deviation, not their percentiles: resampling users adds dispersion to the
    counts, which shifts the draws of this share below the estimate (on
    MovieLens-100K every draw fell below it), so the bootstrap is used for the
    spread only.
    """
    if not 0.0 <= share <= 1.0:
        raise DataError(f"share must be in [0, 1], got {share!r}")
    user, ids, counts, n_users = _user_id_counts(data, field)
    estimate = bottom_share(data, share, field)
    if n_users < 2:
        return estimate, float("nan"), float("nan")
    private = np.bincount(ids)[ids] == 1  # ids in exactly one user's rows
    shared_ids, shared_users, shared_counts = ids[~private], user[~private], counts[~private]
    private_users, private_counts = user[private], counts[private]
    rng = np.random.default_rng(seed)
    draws = np.empty(replicates)
    for r in range(replicates):
        weight = np.bincount(rng.integers(0, n_users, n_users), minlength=n_users)
        shared = np.bincount(shared_ids, weights=weight[shared_users] * shared_counts)
        copied = np.repeat(private_counts, weight[private_users])
        cum = _cumulative(np.concatenate([shared, copied]))
        draws[r] = cum[int(np.floor(share * (len(cum) - 1) + 1e-9))]
    half = float(_st.norm.ppf(0.5 + confidence / 2)) * float(draws.std(ddof=1))
    return estimate, estimate - half, estimate + half


def summary(data) -> pd.Series:
    """Sample counts, users, items, vocabulary size, positive rate, unseen test items."""
    train, test = data.train, data.test
    users = torch.unique(torch.cat([train["user_raw"], test["user_raw"]]))
    sizes = data.vocab.kind_sizes() if getattr(data, "vocab", None) is not None else {}
    labels = torch.cat([train["label"], test["label"]])
    return pd.Series({
        "name": getattr(data, "name", ""),
        "construction": getattr(data, "construction", ""),
        "train_samples": len(train["label"]),
        "test_samples": len(test["label"]),
        "users": len(users),
        "train_users": len(torch.unique(train["user_raw"])),
        "test_users": len(torch.unique(test["user_raw"])),
        "items_in_vocab": sizes.get("item"),
        "categories_in_vocab": sizes.get("category"),
        "vocab_size": data.vocab_size,
        "positive_rate": float(labels.mean()) if len(labels) else float("nan"),
        # share of test rows whose item was never seen in training (encoded as the default id)
        "test_unseen_item_share": float((test["item_id"] == 1).float().mean()) if len(test["label"]) else float("nan"),
        "mean_history_length": float((train["hist_item_ids"] > 0).sum(1).float().mean()) if len(train["label"]) else float("nan"),
    }, name=getattr(data, "name", None))
