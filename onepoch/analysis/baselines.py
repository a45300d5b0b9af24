"""Model-free baselines a reader should hold the models' AUC against.

`popularity_auc`: score every test row by how often its item occurs in the
training samples and compute the test AUC. Two counts are offered: every
occurrence of the item ID in the training samples' item fields (the target
item and the histories -- the frequency the shared vocabulary is ordered by),
or only its occurrences as a target (`fields=("item_id",)`). Negatives are
drawn by popularity, so an AUC below 0.5 means popularity is *anti*-informative
on these test sets, and 1 - AUC is what ranking by inverse popularity alone
reaches: a level a model with one weight per item ID (logistic regression
included) can reach by learning item frequencies, before it learns anything
about users.
"""
from __future__ import annotations

import numpy as np

from onepoch.metrics import auc

ITEM_FIELDS = ("item_id", "hist_item_ids")


def popularity_auc(data, fields=ITEM_FIELDS) -> float:
    """Test AUC of scoring each test row by its item's occurrences in the training samples' `fields`
    (padding and the unseen-ID default count zero)."""
    test_items = data.test["item_id"].numpy().ravel()
    ids = np.concatenate([data.train[f].numpy().ravel() for f in fields])
    counts = np.bincount(ids, minlength=int(max(ids.max(), test_items.max())) + 1)
    counts[:2] = 0  # 0 = padding, 1 = the default ID of anything unseen
    labels = data.test["label"].numpy().astype(bool).ravel()
    return float(auc(labels, counts[test_items].astype(float)))
