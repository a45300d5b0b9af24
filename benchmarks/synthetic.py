"""A Taobao-sized synthetic CTR data set for the scale benchmark (not for the book).

    make_data(samples=1_000_000, ids=4_000_000, hist_len=50, seed=0)

Returns an object with the fields of `onepoch.data.CTRData` that the trainer
reads (`train`, `test`, `vocab_size`, `fields`, `checksum`). IDs are drawn
from bounded Zipf laws (exponent 1.1 for items, 0.9 for users; categories
are a fixed function of the item), so a few IDs are frequent and most are
rare, as in real click logs. The vocabulary is numbered like onepoch's:
0 padding, 1 default, then categories, items and users, each by descending
frequency. History lengths are uniform in 1..hist_len; histories are
right-padded. A label is 1 with probability sigmoid(item score + user
score) for hidden random scores, so a model has something to learn.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

FIELDS = ("user_id", "item_id", "cat_id", "hist_item_ids", "hist_cat_ids")


def zipf_ranks(rng: np.random.Generator, n_values: int, size: int, exponent: float,
               block: int = 10_000_000) -> np.ndarray:
    """`size` draws of 0-based ranks, P(rank k) ~ (k + 1)^-exponent for k < n_values
    (exponent != 1): the floor of a power law on [1, n_values + 1) drawn by its
    inverse CDF, O(1) per draw."""
    a = 1.0 - exponent
    top = (n_values + 1.0) ** a - 1.0
    out = np.empty(size, dtype=np.int64)
    for start in range(0, size, block):
        stop = min(start + block, size)
        x = (1.0 + rng.random(stop - start) * top) ** (1.0 / a)
        out[start:stop] = x.astype(np.int64) - 1
    return np.clip(out, 0, n_values - 1)


def _split(rng, n: int, layout: dict, hist_len: int, item_score, user_score) -> dict[str, torch.Tensor]:
    n_users, n_items, n_cats = layout["users"], layout["items"], layout["cats"]
    cat_of_item = layout["cat_of_item"]
    users = zipf_ranks(rng, n_users, n, 0.9)
    items = zipf_ranks(rng, n_items, n, 1.1)
    lengths = rng.integers(1, hist_len + 1, size=n)
    hist = zipf_ranks(rng, n_items, n * hist_len, 1.1).reshape(n, hist_len)
    pad = np.arange(hist_len)[None, :] >= lengths[:, None]
    logit = item_score[items] + user_score[users]
    label = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.float32)
    cat_base, item_base, user_base = 2, 2 + n_cats, 2 + n_cats + n_items
    hist_items = np.where(pad, 0, hist + item_base)
    hist_cats = np.where(pad, 0, cat_of_item[hist] + cat_base)
    del hist, pad
    return {
        "user_id": torch.from_numpy(users + user_base), "item_id": torch.from_numpy(items + item_base),
        "cat_id": torch.from_numpy(cat_of_item[items] + cat_base),
        "hist_item_ids": torch.from_numpy(hist_items), "hist_cat_ids": torch.from_numpy(hist_cats),
        "label": torch.from_numpy(label), "user_raw": torch.from_numpy(users),
    }


def make_data(samples: int = 1_000_000, ids: int = 4_000_000, hist_len: int = 50, test: int = 30_000,
              seed: int = 0, cats: int = 10_000, user_share: float = 0.25):
    """The data set: `samples` training rows, `test` test rows, a vocabulary of `ids` IDs."""
    rng = np.random.default_rng(seed)
    n_users = int(ids * user_share)
    n_items = ids - n_users - cats
    # categories: rank-ordered so that frequent items fall in frequent categories
    cat_of_item = zipf_ranks(rng, cats, n_items, 1.05)
    layout = {"users": n_users, "items": n_items, "cats": cats, "cat_of_item": cat_of_item}
    item_score = rng.normal(0.0, 1.0, n_items)
    user_score = rng.normal(0.0, 0.5, n_users)
    train = _split(rng, samples, layout, hist_len, item_score, user_score)
    test_split = _split(rng, test, layout, hist_len, item_score, user_score)
    return SimpleNamespace(train=train, test=test_split, vocab_size=2 + ids, fields=FIELDS,
                           checksum=f"synthetic-{samples}-{ids}-{hist_len}-{seed}", name="synthetic",
                           construction="synthetic")


def describe(data) -> dict:
    tr = data.train
    lengths = (tr["hist_item_ids"] != 0).sum(1).float()
    ids = torch.cat([tr[f].reshape(-1) for f in FIELDS])
    ids = ids[ids != 0]
    seen = torch.bincount(ids, minlength=data.vocab_size)
    return {"train_samples": len(tr["label"]), "test_samples": len(data.test["label"]),
            "vocab_size": data.vocab_size, "ids_seen_in_train": int((seen > 0).sum()),
            "mean_history": float(lengths.mean()), "positive_rate": float(tr["label"].mean()),
            "ids_per_sample": float(3 + 2 * lengths.mean())}
