import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from onepoch.metrics import auc, logloss, user_weighted_auc


def test_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = rng.integers(0, 20, 500) / 20  # many ties
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_auc_one_class_is_nan():
    assert np.isnan(auc([1, 1], [0.2, 0.3]))


def test_user_weighted_auc_hand_computed():
    # user a: 3 samples, pos scores 0.9, neg 0.8 and 0.95 -> AUC 1/2, weight 3
    # user b: 2 samples, pos 0.4 tied with neg 0.4 -> AUC 1/2 ... make it 1 instead:
    # user b: pos 0.6, neg 0.1 -> AUC 1, weight 2
    # user c: one class only -> skipped
    # user d: 4 samples, pos 0.3, 0.5; neg 0.5, 0.2 -> pairs: (0.3>0.2)=1, (0.3<0.5)=0,
    #         (0.5=0.5)=0.5, (0.5>0.2)=1 -> 2.5/4 = 0.625, weight 4
    users = ["a", "a", "a", "b", "b", "c", "c", "d", "d", "d", "d"]
    labels = [1, 0, 0, 1, 0, 1, 1, 1, 1, 0, 0]
    scores = [0.9, 0.8, 0.95, 0.6, 0.1, 0.5, 0.7, 0.3, 0.5, 0.5, 0.2]
    expected = (3 * 0.5 + 2 * 1.0 + 4 * 0.625) / (3 + 2 + 4)
    assert user_weighted_auc(labels, scores, users) == pytest.approx(expected)


def test_user_weighted_auc_equals_auc_for_one_user_and_ignores_row_order():
    rng = np.random.default_rng(1)
    y, s = rng.integers(0, 2, 300), rng.random(300)
    assert user_weighted_auc(y, s, np.zeros(300)) == pytest.approx(auc(y, s))
    users = rng.integers(0, 20, 300)
    perm = rng.permutation(300)
    assert user_weighted_auc(y, s, users) == pytest.approx(user_weighted_auc(y[perm], s[perm], users[perm]))


def test_logloss():
    assert logloss([1, 0], [0.5, 0.5]) == pytest.approx(np.log(2))
    assert np.isfinite(logloss([1, 0], [0.0, 1.0]))  # clipped, not inf


@pytest.mark.parametrize("ties", [False, True])
def test_split_metrics_equal_the_general_functions_to_the_bit(ties):
    from onepoch.metrics import SplitMetrics

    rng = np.random.default_rng(2)
    users = rng.integers(0, 400, 5000) * 7 + 3  # unsorted, with gaps, some one-class users
    y = rng.random(5000) < 0.3
    p = rng.random(5000).astype(np.float32)
    if ties:
        p = (np.round(p * 20) / 20).astype(np.float32)
        p[:50] = 1.0
        p[50:100] = 0.0
    expected = {"auc": auc(y, p), "logloss": logloss(y, p), "gauc": user_weighted_auc(y, p, users)}
    assert SplitMetrics(y, users).scores(p) == expected  # ==: the same bits
    strings = np.array([f"u{u}" for u in users])  # any sortable user key
    assert SplitMetrics(y, strings).scores(p)["gauc"] == expected["gauc"]
    assert SplitMetrics(y, users).scores(p.astype(np.float64)) == expected  # the general path


def test_split_metrics_one_class_is_nan():
    from onepoch.metrics import SplitMetrics

    out = SplitMetrics(np.ones(4, bool), np.arange(4)).scores(np.full(4, 0.5, np.float32))
    assert np.isnan(out["auc"]) and np.isnan(out["gauc"])
