"""Small synthetic CTR data for unit tests (no files needed)."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

FIELDS = ("user_id", "item_id", "cat_id", "hist_item_ids", "hist_cat_ids")


@dataclass
class TinyData:
    train: dict
    test: dict
    vocab_size: int
    checksum: str = "tiny"
    fields: tuple = FIELDS
    name: str = "tiny"
    construction: str = "positions"
    params: dict = field(default_factory=dict)


def tiny_split(n: int, seed: int, n_users: int = 200, n_items: int = 100, hist: int = 6) -> dict:
    """Learnable samples: the label is a fixed function of (user, item)."""
    g = torch.Generator().manual_seed(seed)
    users = torch.randint(0, n_users, (n,), generator=g)
    items = torch.randint(0, n_items, (n,), generator=g)
    lengths = torch.randint(0, hist + 1, (n,), generator=g)
    hist_items = torch.randint(0, n_items, (n, hist), generator=g) + 2 + n_users
    hist_items[torch.arange(hist)[None, :] >= lengths[:, None]] = 0  # right padding
    hist_cats = torch.where(hist_items > 0, hist_items % 10 + 2 + n_users + n_items, 0)
    label = ((users * 7 + items * 3) % 5 < 2).float()
    return dict(
        user_id=users + 2, item_id=items + 2 + n_users, cat_id=items % 10 + 2 + n_users + n_items,
        hist_item_ids=hist_items, hist_cat_ids=hist_cats, label=label, user_raw=users,
    )


def tiny_data(n_train: int = 4000, n_test: int = 1000) -> TinyData:
    return TinyData(train=tiny_split(n_train, 0), test=tiny_split(n_test, 1), vocab_size=2 + 200 + 100 + 10)
