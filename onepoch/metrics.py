"""Evaluation metrics: AUC, log loss and user-weighted AUC (GAUC).

All three take numpy arrays and are vectorised (a 100k-sample test set is
scored in milliseconds), because the trainer evaluates every 50 steps.

User-weighted AUC (the paper's Fig. 2 metric, defined but never used in the
original code) is

    GAUC = sum_u n_u * AUC_u / sum_u n_u

where AUC_u is the AUC over user u's samples and n_u the number of u's
samples (impressions). Users whose samples are all of one class have no AUC
and are skipped, in the numerator and the denominator. Tied scores count
one half, as in the usual rank-based AUC.
"""
from __future__ import annotations

import numpy as np


def _average_ranks(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """1-based ranks of `values` (sorted by `order`), ties share their mean rank."""
    sorted_vals = values[order]
    # start of each run of equal values in sorted order
    new_run = np.empty(len(values), dtype=bool)
    new_run[:1] = True
    np.not_equal(sorted_vals[1:], sorted_vals[:-1], out=new_run[1:])
    run_id = np.cumsum(new_run) - 1
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], len(values))
    mean_rank = (starts + ends + 1) / 2.0  # mean of ranks start+1 .. end
    ranks = np.empty(len(values))
    ranks[order] = mean_rank[run_id]
    return ranks


def auc(labels, scores) -> float:
    """Area under the ROC curve; NaN when only one class is present."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(scores, np.argsort(scores, kind="stable"))
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def logloss(labels, probs, eps: float = 1e-7) -> float:
    """Mean binary cross-entropy of probabilities (clipped away from 0 and 1)."""
    y = np.asarray(labels, dtype=np.float64)
    p = np.clip(np.asarray(probs, dtype=np.float64), eps, 1.0 - eps)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def user_weighted_auc(labels, scores, users) -> float:
    """GAUC: per-user AUC weighted by the user's number of samples (see module doc)."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    users = np.asarray(users)
    if len(labels) == 0:
        return float("nan")
    # sort by user, then score: ranks within a user are positions within its block
    order = np.lexsort((scores, users))
    u, s, y = users[order], scores[order], labels[order]
    new_user = np.empty(len(u), dtype=bool)
    new_user[:1] = True
    np.not_equal(u[1:], u[:-1], out=new_user[1:])
    user_idx = np.cumsum(new_user) - 1
    user_start = np.flatnonzero(new_user)
    # tie groups: same user and same score
    new_tie = new_user.copy()
    new_tie[1:] |= s[1:] != s[:-1]
    tie_id = np.cumsum(new_tie) - 1
    tie_start = np.flatnonzero(new_tie)
    tie_end = np.append(tie_start[1:], len(u))
    tie_mean_rank = (tie_start + tie_end + 1) / 2.0 - user_start[user_idx[tie_start]]
    rank = tie_mean_rank[tie_id]
    n_users = len(user_start)
    n = np.bincount(user_idx, minlength=n_users).astype(np.float64)
    n_pos = np.bincount(user_idx, weights=y.astype(np.float64), minlength=n_users)
    n_neg = n - n_pos
    pos_rank_sum = np.bincount(user_idx, weights=np.where(y, rank, 0.0), minlength=n_users)
    valid = (n_pos > 0) & (n_neg > 0)
    if not valid.any():
        return float("nan")
    user_auc = (pos_rank_sum[valid] - n_pos[valid] * (n_pos[valid] + 1) / 2.0) / (n_pos[valid] * n_neg[valid])
    weights = n[valid]
    return float(np.sum(weights * user_auc) / np.sum(weights))


class SplitMetrics:
    """AUC, log loss and GAUC of one fixed set of labels and users, for many score vectors.

    The trainer scores the same evaluation set at every evaluation, so what
    depends only on labels and users (each user's position, size and number
    of positives) is worked out once, here. Each metric then costs one sort
    of integer keys: a probability in [0, 1] as float32 has bits that order
    like its value, so (user, score bits, label) packed into one int64 sorts
    by user, then score, and the label rides along -- no argsort, no
    lexsort's two passes. Ranks of ties are their mean ranks and sums of
    ranks are exact in float64, so every value equals `auc`, `logloss` and
    `user_weighted_auc` to the bit (tests/test_metrics.py checks it).
    """

    def __init__(self, labels, users):
        self.labels = np.asarray(labels, dtype=bool)
        self.y = self.labels.astype(np.float64)
        self.users = np.asarray(users)
        self.n_pos = int(self.labels.sum())
        self.n_neg = len(self.labels) - self.n_pos
        _, user_idx = np.unique(self.users, return_inverse=True)  # users in sorted order, as lexsort
        user_idx = user_idx.reshape(-1)
        self.n_users = int(user_idx.max()) + 1 if len(user_idx) else 0
        n = np.bincount(user_idx, minlength=self.n_users).astype(np.float64)
        pos = np.bincount(user_idx, weights=self.y, minlength=self.n_users)
        self.user_start = (np.cumsum(n) - n).astype(np.int64)
        self.valid = (pos > 0) & (n - pos > 0)
        self.user_pos, self.user_neg, self.user_n = pos[self.valid], (n - pos)[self.valid], n[self.valid]
        self.label_bit = self.labels.astype(np.int64)
        self.user_key = user_idx.astype(np.int64) << 33  # above 31 bits of score and 1 of label

    def scores(self, probs: np.ndarray) -> dict[str, float]:
        p = np.asarray(probs)
        if p.dtype != np.float32 or not np.isfinite(p).all() or (p < 0).any():
            # outside the fast path's assumptions: the general functions
            return {"auc": auc(self.labels, p), "logloss": logloss(self.labels, p),
                    "gauc": user_weighted_auc(self.labels, p, self.users)}
        bits = (p.view(np.int32).astype(np.int64) << 1) | self.label_bit
        return {"auc": self._auc(bits), "logloss": self._logloss(p), "gauc": self._gauc(bits)}

    def _auc(self, bits: np.ndarray) -> float:
        if self.n_pos == 0 or self.n_neg == 0:
            return float("nan")
        keys = np.sort(bits)
        starts, ends, pos = _tie_runs(keys)
        rank_sum = np.sum(pos * ((starts + ends + 1) / 2.0))
        return float((rank_sum - self.n_pos * (self.n_pos + 1) / 2.0) / (self.n_pos * self.n_neg))

    def _logloss(self, p: np.ndarray, eps: float = 1e-7) -> float:
        q = np.clip(p.astype(np.float64), eps, 1.0 - eps)
        # y log q + (1 - y) log(1 - q) takes one of its two terms (the other is exactly 0)
        terms = np.where(self.labels, np.log(q), np.log1p(-q))
        return float(-np.mean(terms))

    def _gauc(self, bits: np.ndarray) -> float:
        if len(bits) == 0 or not self.valid.any():
            return float("nan")
        keys = np.sort(self.user_key | bits)
        starts, ends, pos = _tie_runs(keys)
        user = keys[starts] >> 33
        rank = (starts + ends + 1) / 2.0 - self.user_start[user]
        pos_rank_sum = np.bincount(user, weights=pos * rank, minlength=self.n_users)[self.valid]
        user_auc = (pos_rank_sum - self.user_pos * (self.user_pos + 1) / 2.0) / (self.user_pos * self.user_neg)
        return float(np.sum(self.user_n * user_auc) / np.sum(self.user_n))


def _tie_runs(keys: np.ndarray):
    """Runs of sorted `keys` equal but for their lowest (label) bit: start, end (exclusive) and
    number of positives (keys with label bit 1) of each."""
    value = keys >> 1
    new_run = np.empty(len(keys), dtype=bool)
    new_run[:1] = True
    np.not_equal(value[1:], value[:-1], out=new_run[1:])
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], len(keys))
    pos = np.add.reduceat(keys & 1, starts) if len(keys) else np.zeros(0, dtype=np.int64)
    return starts, ends, pos
