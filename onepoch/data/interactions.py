"""`Interactions`: what every reader returns, time-ordered item sequences per user."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Interactions:
    """Time-ordered item sequences, one per user, in raw id space."""

    name: str
    sequences: list[np.ndarray]  # int64 raw item ids, oldest first
    users: np.ndarray  # int64 raw user ids, aligned with `sequences`
    item_category: np.ndarray  # int64, indexed by raw item id; 0 = unknown (and index 0 = padding)
    checksum: str  # sha256 over the source files' sha256

    @property
    def n_users(self) -> int:
        return len(self.sequences)

    @property
    def n_interactions(self) -> int:
        return int(sum(len(s) for s in self.sequences))
