"""Reducing feature sparsity (paper Sec. 4.2, Fig. 11): filter or hash the IDs.

Both act on the global vocabulary, over all fields together, as in the
paper. Because global IDs are numbered by descending training frequency
(2 = most frequent; 0 = padding, 1 = default), "keep the top-m share of IDs"
is a threshold:

- filter(m): IDs 2 .. 2 + ceil(m * n) - 1 keep their own embedding, every
  rarer ID is mapped to the default ID 1 (n = number of real IDs);
- hash(m): every real ID is mapped to one of ceil(m * n) buckets by a fixed
  random hash function (seeded, so every run collides the same IDs), so
  several IDs share one embedding whatever their frequency.

Padding stays 0 and the default ID stays 1. m = 1 with "filter" is the
identity; m = 1 with "hash" still collides IDs (about 37% of buckets empty).
"""
from __future__ import annotations

import dataclasses
import hashlib
import math

import numpy as np
import torch

from onepoch.data.registry import PAPER_FIELDS
from onepoch.errors import DataError

KINDS = ("none", "filter", "hash")
ID_FIELDS = PAPER_FIELDS
HASH_SEED = 20220401


def check(kind: str, m: float) -> None:
    if kind not in KINDS:
        raise DataError(f"unknown sparsity transform {kind!r}; choose one of: {', '.join(KINDS)}")
    if not (isinstance(m, (int, float)) and 0.0 < m <= 1.0):
        raise DataError(f"sparsity_m must be in (0, 1] (the share of IDs kept or of buckets), got {m!r}")


def mapping(vocab_size: int, kind: str, m: float) -> tuple[torch.Tensor, int]:
    """old global id -> new id, and the new vocabulary size."""
    check(kind, m)
    n = vocab_size - 2
    ids = torch.arange(vocab_size)
    if kind == "none" or n <= 0:
        return ids, vocab_size
    size = max(1, math.ceil(m * n))
    if kind == "filter":
        return torch.where(ids < 2 + size, ids, torch.ones_like(ids)), 2 + size
    buckets = np.random.default_rng(HASH_SEED).integers(0, size, n)
    new = torch.cat([ids[:2], torch.from_numpy(buckets + 2)])
    return new, 2 + size


def checksum(base: str, kind: str, m: float) -> str:
    if kind == "none":
        return base
    return hashlib.sha256(f"{base}|{kind}|{m!r}|{HASH_SEED}".encode()).hexdigest()


def apply(data, kind: str = "none", m: float = 1.0):
    """A copy of `data` (CTRData) with its IDs filtered or hashed; `data` is untouched."""
    if kind == "none":
        check(kind, m)
        return data
    new_ids, size = mapping(data.vocab_size, kind, m)
    fields = tuple(getattr(data, "fields", None) or ID_FIELDS)  # any set of fields (tabular: its columns)

    def remap(split):
        return {k: (new_ids[v] if k in fields else v) for k, v in split.items()}

    return dataclasses.replace(data, train=remap(data.train), test=remap(data.test), vocab_size=size,
                               checksum=checksum(data.checksum, kind, m),
                               params={**data.params, "sparsity": kind, "sparsity_m": m})
