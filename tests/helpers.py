"""Small synthetic CTR data for unit tests (no files needed), and where the shared real data is."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

# Tests that need real data read $ONEPOCH_DATA, else ../shared/data beside the checkout.
REAL = Path(os.environ.get("ONEPOCH_DATA") or Path(__file__).resolve().parents[1].parent / "shared" / "data")


def needs_shared(*parts: str):
    """Skip unless the shared data folder holds `parts` (a folder or a file under it)."""
    return pytest.mark.skipif(not REAL.joinpath(*parts).exists(), reason=f"no shared data at {REAL}")

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


def tiny_runs_cache(tmp_path, monkeypatch, n_train: int, n_test: int = 400):
    """An empty run cache under tmp_path, and every run's data replaced by `tiny_data(n_train, n_test)`
    (loading and checksum both): sweeps then train on it. Returns (cache folder, data)."""
    from onepoch.runs import runner

    monkeypatch.setenv("ONEPOCH_CACHE", str(tmp_path / "cache"))
    data = tiny_data(n_train, n_test)
    monkeypatch.setattr(runner, "load_data", lambda config: data)
    monkeypatch.setattr(runner, "data_checksum", lambda config: data.checksum)
    return tmp_path / "cache", data
