"""The data sets at a glance (the intro): size, sparsity, ID occurrences and the popularity baseline.

Every function loads each data set in `datasets` (`data.load`, at most `max_users` users; None: all) under
the constructions in CONSTRUCTIONS: "last" (the paper's, each user's last interaction) and "positions"
(every position of a history a sample).
"""
from __future__ import annotations

import pandas as pd

from onepoch import data
from onepoch.analysis.baselines import popularity_auc

CONSTRUCTIONS = ("last", "positions")
REVIEW_EXCLUDED = "ml-100k"  # MovieLens is the dense control, not a review set


def statistics(datasets, max_users: int | None = None) -> pd.DataFrame:
    """One row per data set and construction: samples, users, items, categories, mean history length and the
    share of occurrences held by the rarest half of the IDs."""
    rows = []
    for name in datasets:
        for construction in CONSTRUCTIONS:
            d = data.load(name, construction=construction, max_users=max_users)
            s = d.summary()
            rows.append({
                "data set": name, "construction": construction,
                "train samples": int(s["train_samples"]), "test samples": int(s["test_samples"]),
                "users": int(s["users"]), "items": int(s["items_in_vocab"]),
                "categories": int(s["categories_in_vocab"]),
                "mean history length": round(float(s["mean_history_length"]), 1),
                "rarest 50% of IDs: share of occurrences": f"{100 * d.bottom_share(0.5):.1f}%"})
    return pd.DataFrame(rows)


def popularity(datasets, max_users: int | None = None) -> pd.DataFrame:
    """Per data set (paper's construction), `baselines.popularity_auc` counting the item's occurrences in the
    item and history fields, and as a target only."""
    rows = []
    for name in datasets:
        d = data.load(name, construction="last", max_users=max_users)
        rows.append({"data set": name, "by occurrences in item and history fields": popularity_auc(d),
                     "by occurrences as a target": popularity_auc(d, fields=("item_id",))})
    return pd.DataFrame(rows)


def popularity_text(pop: pd.DataFrame) -> str:
    """What the `popularity` table says: its AUC range on the review data sets (item and history fields),
    why it lies below 0.5, and the level a logistic regression should be read against."""
    review = pop[pop["data set"] != REVIEW_EXCLUDED].iloc[:, 1]
    low, high = review.min(), review.max()
    return (
        f"Scoring each test row by its item's popularity in the training samples alone gives a test AUC of "
        f"{low:.2f}-{high:.2f} on the review data sets (counting the item's occurrences as a target and in histories; "
        "the table also counts targets only). Below 0.5: the negatives are drawn by popularity, so test positives are "
        "*rarer* than their negatives, and ranking by inverse popularity alone reaches "
        f"{1 - high:.2f}-{1 - low:.2f}. A logistic regression "
        "has one weight per item ID and can learn exactly that; its AUC (one_epoch chapter) should be read against "
        "this level, not against 0.5, before it is credited with learning anything about users.")


def field_occurrences(datasets, max_users: int | None = None) -> pd.DataFrame:
    """One row per data set, construction and ID field: its unique IDs and mean occurrences per ID."""
    rows = []
    for name in datasets:
        for construction in CONSTRUCTIONS:
            stats = data.load(name, construction=construction, max_users=max_users).field_stats()
            for field, r in stats.iterrows():
                rows.append({"data set": name, "construction": construction, "field": field,
                             "unique IDs": int(r["unique_ids"]), "mean occurrences": r["mean_occurrences"]})
    return pd.DataFrame(rows)


def occurrences_by_construction(per_field: pd.DataFrame) -> pd.DataFrame:
    """`field_occurrences` side by side: per data set and field, the mean occurrences under each construction
    (rounded to 0.1)."""
    wide = per_field.pivot_table(index=["data set", "field"], columns="construction",
                                 values="mean occurrences", sort=False).round(1).reset_index()
    wide.columns = ["data set", "field", *(f"mean occurrences ({c})" for c in wide.columns[2:])]
    return wide


def occurrences_text(per_field: pd.DataFrame) -> str:
    """Mean occurrences of a user and an item ID in the training data (`field_occurrences`), averaged over the
    review data sets, under each construction; and why the chapters use the paper's."""
    fine = per_field[per_field.field.isin(["user_id", "item_id"]) & (per_field["data set"] != REVIEW_EXCLUDED)]

    def mean(construction: str, field: str) -> float:
        part = fine[(fine.construction == construction) & (fine.field == field)]
        return part["mean occurrences"].mean()

    return (
        f"Under the paper's construction a user ID occurs {mean('last', 'user_id'):.1f} "
        f"times on average in the training data and an item ID {mean('last', 'item_id'):.1f} "
        f"times (mean over the review data sets above, MovieLens excluded); under the all-positions construction "
        f"{mean('positions', 'user_id'):.1f} and "
        f"{mean('positions', 'item_id'):.1f}. The paper's Amazon Book data has about two "
        "occurrences per user and item ID, like our `last` construction, which is why the chapters use it by default.")
