"""load(): the data contract, the disk and memory caches, statistics, real-data smoke tests."""
import hashlib

import numpy as np
import pytest
import torch

from onepoch.data import dataset, load, stats
from onepoch.data.sources import DATASETS, DataFile, DatasetSource
from onepoch.errors import DataError

from helpers import REAL, needs_shared

needs_real_data = needs_shared("amazon-s3rec")
FIELDS = ("user_id", "item_id", "cat_id", "hist_item_ids", "hist_cat_ids")


pytestmark = pytest.mark.usefixtures("isolated_data_cache")


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A registered S3-Rec style data set 'tiny' of 40 random users; returns its data folder."""
    rng = np.random.default_rng(0)
    lines = [" ".join(map(str, [u, *rng.integers(1, 30, size=rng.integers(3, 12))])) for u in range(1, 41)]
    contents = {"sequences": ("\n".join(lines) + "\n").encode(),
                "attributes": ("{" + ", ".join(f'"{i}": [{i % 4 + 1}, {i % 7 + 1}]' for i in range(1, 30)) + "}").encode()}
    files = []
    for role, data in contents.items():
        (tmp_path / "tiny").mkdir(exist_ok=True)
        (tmp_path / "tiny" / role).write_bytes(data)
        files.append(DataFile(role, f"tiny/{role}", hashlib.sha256(data).hexdigest(), "https://example.invalid/"))
    monkeypatch.setitem(DATASETS, "tiny", DatasetSource("tiny", "s3rec", tuple(files)))
    return tmp_path


@pytest.mark.parametrize("construction", ["positions", "last"])
def test_load_follows_the_data_contract(tiny, construction):
    data = load("tiny", construction, max_history=4, data_dir=tiny)
    assert data.fields == FIELDS and data.name == "tiny" and data.construction == construction
    assert data.vocab_size == data.vocab.size and len(data.checksum) == 64
    for split in (data.train, data.test):
        assert set(split) == set(FIELDS) | {"label", "user_raw"}
        n = len(split["label"])
        for key in ("user_id", "item_id", "cat_id", "user_raw"):
            assert split[key].shape == (n,) and split[key].dtype == torch.int64
        for key in ("hist_item_ids", "hist_cat_ids"):
            assert split[key].shape == (n, 4) and split[key].dtype == torch.int64
        assert split["label"].dtype == torch.float32
        assert int(max(split[f].max() for f in FIELDS)) < data.vocab_size
    assert int(data.train["item_id"].min()) >= 2  # training ids are all in the vocabulary
    assert not (data.train["hist_item_ids"] == 1).any()


def test_cache_hit_returns_equal_tensors_without_rebuilding(tiny, monkeypatch):
    first = load("tiny", data_dir=tiny)
    assert load("tiny", data_dir=tiny) is first  # in-process LRU
    assert (dataset.cache_dir() / f"{first.checksum}.pt").is_file()
    dataset.clear_memory_cache()
    monkeypatch.setattr(dataset, "_build", lambda *a: pytest.fail("rebuilt despite a cache file"))
    again = load("tiny", data_dir=tiny)
    assert again is not first and again.vocab_size == first.vocab_size
    for split in ("train", "test"):
        for key, value in getattr(first, split).items():
            assert torch.equal(getattr(again, split)[key], value) and getattr(again, split)[key].dtype == value.dtype


def test_corrupted_cache_file_is_rebuilt_with_a_warning(tiny):
    first = load("tiny", data_dir=tiny)
    path = dataset.cache_dir() / f"{first.checksum}.pt"
    path.write_bytes(b"not a torch file")
    dataset.clear_memory_cache()
    with pytest.warns(UserWarning, match="unreadable"):
        again = load("tiny", data_dir=tiny)
    assert torch.equal(again.train["hist_item_ids"], first.train["hist_item_ids"])
    assert torch.load(path, weights_only=True)["key"] == first.checksum
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left behind


def test_key_depends_on_the_parameters_that_matter(tiny):
    base = load("tiny", data_dir=tiny).checksum
    assert load("tiny", test_users=0.3, data_dir=tiny).checksum == base  # unused by "positions"
    assert load("tiny", seed=1, data_dir=tiny).checksum != base
    assert load("tiny", max_history=3, data_dir=tiny).checksum != base
    assert len(list(dataset.cache_dir().iterdir())) == 3


@pytest.mark.parametrize("kwargs, message", [
    (dict(name="books"), "choose one of: beauty"),
    (dict(construction="dien"), "choose one of: positions, last"),
    (dict(max_history=0), "max_history"),
    (dict(test_users=0), "test_users"),
])
def test_bad_arguments(tiny, kwargs, message):
    kwargs = dict(dict(name="tiny", data_dir=tiny), **kwargs)
    with pytest.raises(DataError, match=message):
        load(**kwargs)


def test_stats_tables(tiny):
    data = load("tiny", "last", data_dir=tiny)
    table = data.field_stats()
    assert list(table.index) == [*FIELDS, "all"]
    assert table.loc["user_id", "occurrences"] == len(data.train["label"])
    assert table.loc["user_id", "mean_occurrences"] == 2.0  # "last": one pair per user
    assert table.loc["all", "unique_ids"] == (data.vocab.counts > 0).sum()
    curve = data.occurrence_share(points=11)
    assert set(curve["field"]) == {"all", *FIELDS}
    for _, group in curve.groupby("field"):
        assert group["occurrence_share"].is_monotonic_increasing and group["occurrence_share"].iloc[-1] == 1.0
    assert 0.0 < data.bottom_share(0.5) < 0.5
    assert stats.bottom_share(data.train, 1.0, "item_id") == 1.0
    summary = data.summary()
    assert summary["train_users"] + summary["test_users"] == summary["users"] == 40


@needs_real_data
def test_real_ml100k_positions():
    data = load("ml-100k", max_history=10, data_dir=REAL)
    assert len(data.test["label"]) == 2 * 943 and len(data.train["label"]) == 2 * (100_000 - 2 * 943)
    assert data.vocab.kind_sizes()["user"] == 943


@needs_real_data
@pytest.mark.parametrize("construction", ["positions", "last"])
def test_real_beauty_quick(construction):
    data = load("beauty", construction, max_users=2000, data_dir=REAL)
    summary = data.summary()
    assert summary["users"] == 2000 and summary["positive_rate"] == 0.5
    assert data.bottom_share(0.5) < 0.25  # long-tailed ids, as in the paper's Fig. 10


def _rows(users, items):
    """Training samples with one user and one item per row (the other fields padding)."""
    n = len(users)
    users, items = torch.as_tensor(np.asarray(users)), torch.as_tensor(np.asarray(items))
    return {"user_raw": users, "user_id": users + 1000, "item_id": items, "cat_id": torch.zeros(n, dtype=torch.long),
            "hist_item_ids": torch.zeros(n, 2, dtype=torch.long), "hist_cat_ids": torch.zeros(n, 2, dtype=torch.long)}


def test_bottom_share_interval_is_degenerate_when_every_user_looks_the_same():
    # every user: the same three items, twice the first -> resampling users changes no share
    users = [u for u in range(30) for _ in range(4)]
    items = [1, 1, 2, 3] * 30
    estimate, low, high = stats.bottom_share_interval(_rows(users, items), 0.5, "item_id", replicates=50)
    assert estimate == stats.bottom_share(_rows(users, items), 0.5, "item_id") == pytest.approx(0.25)  # 30 of 120
    assert low == pytest.approx(estimate) and high == pytest.approx(estimate)


def test_bottom_share_interval_has_width_when_users_differ_and_centres_on_the_estimate():
    rng = np.random.default_rng(1)
    users = [u for u in range(200) for _ in range(5)]
    items = list(rng.zipf(1.5, size=1000) % 300 + 1)  # a long tail of items shared across users
    samples = _rows(users, items)
    estimate, low, high = stats.bottom_share_interval(samples, replicates=100)
    assert estimate == stats.bottom_share(samples) and low < estimate < high
    assert high - low == pytest.approx(2 * (estimate - low))
    assert stats.bottom_share_interval(samples, replicates=100) == (estimate, low, high)  # fixed seed
    with pytest.raises(DataError, match="user_raw"):
        stats.bottom_share_interval({k: v for k, v in samples.items() if k != "user_raw"})


def test_bottom_share_interval_covers_the_expected_share_of_a_data_set_this_size():
    """Samples of 300 users from one Zipf population: the share's expected value (over 2,000 samples) is
    covered by ~93% of the intervals (measured with 600 samples; the share is skewed, so a little under the
    nominal 95%)."""
    rng = np.random.default_rng(0)
    popularity = 1 / np.arange(1, 2001) ** 1.1

    def sample():
        items = rng.choice(2000, size=300 * 8, p=popularity / popularity.sum()) + 1
        return _rows(np.repeat(np.arange(300), 8), items)

    expected = np.mean([stats.bottom_share(sample()) for _ in range(2000)])
    hits = sum(low < expected < high for low, high in
               (stats.bottom_share_interval(sample(), replicates=100, seed=k)[1:] for k in range(300)))
    assert 0.90 * 300 <= hits < 300
