"""A-distance between EMB(x)|y=0 and EMB(x)|y=1 (paper Sec. 5.2, Figs. 14-15).

d_A = 2 (1 - 2 err(h)), where h is a logistic regression trained to tell the
two distributions apart and err its error on samples it was not fitted on
(k-fold cross-validation). We use the balanced error -- the mean of the
errors on each class -- so a class imbalance in the sample cannot pass for
a distance: identical distributions give about 0, perfectly separable ones
2. Features are standardised inside each fold, so the estimate does not
depend on the scale the embeddings have grown to.

Two versions of the training-side estimate:

- `ADistanceProbe`: a fixed sample of training rows. By the end of epoch 1 every one of them has been
  trained on, so nothing distinguishes the start of epoch 2 for it: it cannot jump at the boundary.
- `IncomingADistanceProbe`: the paper's (its code fits the classifier on the batch being trained):
  the rows of the batches ABOUT TO BE TRAINED in the current epoch, i.e. not yet trained on in it.
  In epoch 1 these are unseen samples; from epoch 2 on, samples trained once already -- so if the
  embeddings of trained samples carry their labels, this one jumps at the boundary.

The estimate has sampling noise: with n samples and k folds its standard
deviation is of the order of 4 * sqrt(err (1 - err) / n); at step 0 (all
embeddings random, labels unrelated to them) the probe measures exactly that
noise floor.
"""
from __future__ import annotations

import functools

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from onepoch.train.callbacks import Callback


def fold_splits(labels: np.ndarray, folds: int = 2, seed: int = 0, groups=None) -> list | None:
    """The cross-validation folds `a_distance` uses for these labels (and groups), as a list of
    (train rows, test rows); None when a class has fewer rows than folds. Computing them once and
    passing them to every estimate on the same rows (all fields, then each field alone) gives the
    same estimates: the folds depend only on the labels, the groups and the seed. With groups they
    are the costly part (sklearn's StratifiedGroupKFold loops over the groups in Python: ~0.4 s for
    2,000 users, ten times the fit)."""
    labels = np.asarray(labels).astype(int)
    if min(np.bincount(labels, minlength=2)) < folds:
        return None
    if groups is None:
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    else:
        cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(cv.split(np.zeros((len(labels), 1)), labels, groups))


def a_distance(features: np.ndarray, labels: np.ndarray, folds: int = 2, seed: int = 0, groups=None,
               splits=None) -> float:
    """Proxy A-distance between the rows with label 0 and those with label 1.

    `groups` keeps related rows in the same fold. Our positive and its sampled
    negative share the user and the history, so their embeddings are nearly
    equal: split across folds, the classifier would learn one and be wrong
    on the other, and the error would exceed 0.5 even between identical
    distributions. Passing the users as groups avoids that. `splits`: the
    folds from `fold_splits(labels, folds, seed, groups)`, computed once for
    several estimates on the same rows (the same result, faster).
    """
    labels = np.asarray(labels).astype(int)
    if splits is None:
        splits = fold_splits(labels, folds, seed, groups)
    if splits is None:
        return float("nan")
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    predicted = cross_val_predict(clf, features, labels, cv=splits)
    err = 0.5 * (np.mean(predicted[labels == 0] != 0) + np.mean(predicted[labels == 1] != 1))
    return float(2.0 * (1.0 - 2.0 * err))


class ADistanceProbe(Callback):
    """At each evaluation, the A-distance of the pooled embeddings on a fixed
    sample of training rows and of test rows (whole users, folds split by user): all fields together, and each
    field alone (`per_field`). Recorded as metrics `a_distance` and
    `a_distance:<field>`. Reads the model only; uses its own random generator.
    """

    def __init__(self, samples: int = 4000, folds: int = 2, per_field: bool = True, seed: int = 0):
        self.samples, self.folds, self.per_field, self.seed = samples, folds, per_field, seed
        self.cache_key = f"a_distance(samples={samples},folds={folds},per_field={per_field},seed={seed})"
        self._rows: dict[str, np.ndarray] = {}
        self._splits: dict[str, list | None] = {}

    def _rows_for(self, eval_set) -> np.ndarray:
        """A fixed sample of whole users (all rows of each chosen user)."""
        if eval_set.name not in self._rows:
            rng = np.random.default_rng(self.seed)
            users = np.unique(eval_set.users)
            per_user = len(eval_set.users) / len(users)
            chosen = rng.permutation(users)[: max(1, int(self.samples / per_user))]
            self._rows[eval_set.name] = np.flatnonzero(np.isin(eval_set.users, chosen))
        return self._rows[eval_set.name]

    def on_evaluate(self, state) -> None:
        names = state.model.embedding.layout.names
        for eval_set in state.eval_sets:
            rows = self._rows_for(eval_set)
            with torch.inference_mode():
                emb = state.model.embedding(eval_set.ids[torch.from_numpy(rows)]).numpy()
            y, users = eval_set.labels[rows], eval_set.users[rows]
            if eval_set.name not in self._splits:  # the same rows at every evaluation: the same folds
                self._splits[eval_set.name] = fold_splits(y, self.folds, self.seed, users)
            splits = self._splits[eval_set.name]
            estimate = functools.partial(a_distance, labels=y, folds=self.folds, seed=self.seed, splits=splits)
            state.record(eval_set.name, "a_distance", estimate(emb.reshape(len(rows), -1)))
            if self.per_field:
                for i, name in enumerate(names):
                    state.record(eval_set.name, f"a_distance:{name}", estimate(emb[:, i]))


class IncomingADistanceProbe(Callback):
    """At each evaluation inside an epoch, the A-distance of the pooled embeddings of the next
    `samples` training rows in the epoch's order -- the batches about to be trained on, none of them
    trained on yet in this epoch -- recorded as split "incoming" (all fields, and each field alone
    with `per_field`). The evaluation at step 0 and those at an epoch's end have no such rows in
    their epoch and record nothing. `last_rows` holds the rows of the last estimate (for tests).
    Reads the model and the order only; uses its own random generator.
    """

    split = "incoming"

    def __init__(self, samples: int = 4000, folds: int = 2, per_field: bool = True, seed: int = 0):
        self.samples, self.folds, self.per_field, self.seed = samples, folds, per_field, seed
        self.cache_key = f"incoming_a_distance(samples={samples},folds={folds},per_field={per_field},seed={seed})"
        self.last_rows = None

    def upcoming_rows(self, state) -> torch.Tensor:
        """Rows of this epoch's batches after the current one (empty before the first epoch starts)."""
        if state.order is None:
            return torch.zeros(0, dtype=torch.long)
        start = (state.batch_index + 1) * state.config.batch_size
        end = state.steps_per_epoch * state.config.batch_size  # rows past the last full batch are never trained
        return state.order[start:min(end, start + self.samples)]

    def on_evaluate(self, state) -> None:
        rows = self.upcoming_rows(state)
        if len(rows) < 4 * self.folds:  # too few to estimate (the epoch is over)
            return
        self.last_rows = rows.clone()
        with torch.inference_mode():
            emb = state.model.embedding(state.train_ids.index_select(0, rows)).numpy()
        y, users = state.train_labels[rows].numpy(), state.train_users[rows].numpy()
        splits = fold_splits(y, self.folds, self.seed, users)  # once for all fields and each field alone
        estimate = functools.partial(a_distance, labels=y, folds=self.folds, seed=self.seed, splits=splits)
        state.record(self.split, "a_distance", estimate(emb.reshape(len(rows), -1)))
        if self.per_field:
            for i, name in enumerate(state.model.embedding.layout.names):
                state.record(self.split, f"a_distance:{name}", estimate(emb[:, i]))
