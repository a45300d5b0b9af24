"""CTR sample construction invariants, on small random interaction data."""
import numpy as np
import pytest

from onepoch.data.readers import Interactions
from onepoch.data.samples import KEYS, build_samples
from onepoch.errors import DataError


def random_interactions(n_users=60, n_items=40, max_len=30, seed=1) -> Interactions:
    rng = np.random.default_rng(seed)
    # skewed popularity, so negatives clash with positives often enough to exercise the redraw
    popularity = 1.0 / np.arange(1, n_items + 1)
    sequences = [rng.choice(np.arange(1, n_items + 1), size=rng.integers(2, max_len), p=popularity / popularity.sum())
                 for _ in range(n_users)]
    users = np.arange(100, 100 + n_users, dtype=np.int64)
    item_category = np.concatenate([[0], rng.integers(1, 6, size=n_items)])
    return Interactions("random", sequences, users, item_category, "0" * 64)


def rows(split):
    """The samples as (positive row, negative row) pairs of plain values."""
    n = len(split["label"])
    return [{k: split[k][i] for k in KEYS} for i in range(n)]


@pytest.fixture(scope="module")
def inter():
    return random_interactions()


@pytest.mark.parametrize("construction", ["positions", "last"])
def test_pairs_share_user_and_history_and_differ_in_item(inter, construction):
    for split in build_samples(inter, construction, max_history=5):
        assert split["label"].dtype == np.float32 and split["label"].tolist() == [1.0, 0.0] * (len(split["label"]) // 2)
        pos, neg = slice(0, None, 2), slice(1, None, 2)
        assert (split["user_raw"][pos] == split["user_raw"][neg]).all()
        assert (split["hist_items"][pos] == split["hist_items"][neg]).all()
        assert (split["item"][pos] != split["item"][neg]).all()
        assert (split["category"] == inter.item_category[split["item"]]).all()
        assert (split["hist_cats"] == inter.item_category[split["hist_items"]]).all()


def test_history_is_the_previous_items_right_padded_and_truncated(inter):
    train, test = build_samples(inter, "positions", max_history=5)
    sequences = dict(zip(inter.users.tolist(), inter.sequences))
    seen = {}  # user -> positions met so far, in row order
    for split in (train, test):
        for r in rows(split)[::2]:
            user = int(r["user_raw"])
            seq = sequences[user]
            t = seen.get(user, 0) + 1
            if split is test:
                t = len(seq) - 1
            seen[user] = t
            history = seq[max(0, t - 5):t].tolist()
            assert r["item"] == seq[t]
            assert r["hist_items"].tolist() == history + [0] * (5 - len(history))


def test_positions_puts_exactly_each_users_last_position_in_test(inter):
    train, test = build_samples(inter, "positions")
    lengths = np.array([len(s) for s in inter.sequences])
    assert len(train["label"]) == 2 * (lengths - 2).sum() and len(test["label"]) == 2 * len(lengths)
    last_items = np.array([s[-1] for s in inter.sequences])
    assert (test["user_raw"][::2] == inter.users).all() and (test["item"][::2] == last_items).all()
    # train rows are ordered by user, then position
    assert (np.diff(train["user_raw"]) >= 0).all()


def test_last_splits_users_without_overlap(inter):
    train, test = build_samples(inter, "last", test_users=0.25)
    train_users, test_users = set(train["user_raw"].tolist()), set(test["user_raw"].tolist())
    assert not train_users & test_users and train_users | test_users == set(inter.users.tolist())
    assert len(test_users) == 15 and len(test["label"]) == 30  # one pair per user
    last_items = dict(zip(inter.users.tolist(), (s[-1] for s in inter.sequences)))
    assert all(last_items[u] == i for u, i in zip(train["user_raw"][::2].tolist(), train["item"][::2].tolist()))


def test_seed_reproduces_and_changes_the_draws(inter):
    a, b, c = (build_samples(inter, "last", seed=s) for s in (3, 3, 4))
    for key in KEYS:
        assert np.array_equal(a[0][key], b[0][key]) and np.array_equal(a[1][key], b[1][key])
    assert not np.array_equal(a[0]["item"], c[0]["item"])


def test_negatives_follow_popularity():
    sequences = [np.array([1] * 8 + [2] * 2 + [3] * 10) for _ in range(300)]
    inter = Interactions("pop", sequences, np.arange(300), np.zeros(4, dtype=np.int64), "")
    train, _ = build_samples(inter, "positions")
    negative, positive = train["item"][1::2], train["item"][::2]
    # item 1 is the positive 7/19 of the time; when item 3 is positive, negatives are 1 or 2 at 8:2
    share = np.mean(negative[positive == 3] == 1)
    assert 0.75 < share < 0.85


def test_min_history_max_users_and_history_width(inter):
    train, test = build_samples(inter, "positions", min_history=3, max_users=10, seed=2)
    users = set(train["user_raw"].tolist()) | set(test["user_raw"].tolist())
    assert len(users) <= 10 and users <= set(inter.users.tolist())
    assert ((train["hist_items"] > 0).sum(1) >= 3).all()
    short = Interactions("short", [np.array([1, 2, 3]), np.array([2, 1])], np.array([1, 2]), np.zeros(4, np.int64), "")
    train, test = build_samples(short, "positions", max_history=50)
    assert train["hist_items"].shape[1] == test["hist_items"].shape[1] == 2  # longest history, not 50


@pytest.mark.parametrize("kwargs, message", [
    (dict(construction="all"), "choose one of: positions, last"),
    (dict(max_history=0), "max_history must be an integer >= 1"),
    (dict(test_users=1.0), r"test_users must be a share in \(0, 1\)"),
    (dict(max_users=0), "max_users"),
    (dict(min_history=40), "no user has more than min_history=40"),
])
def test_bad_parameters_raise_clear_errors(inter, kwargs, message):
    with pytest.raises(DataError, match=message):
        build_samples(inter, **kwargs)
