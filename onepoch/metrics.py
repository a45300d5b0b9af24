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
