"""The synthetic data set: contract, determinism, the sparsity dial and the known ceiling."""
import numpy as np
import pytest
import torch

from onepoch.config import ConfigError, RunConfig
from onepoch.data import synthetic
from onepoch.data.dataset import FIELDS, TENSOR_KEYS
from onepoch.errors import DataError
from onepoch.metrics import auc

SMALL = dict(samples=6000, users=600, items=800, categories=20, history=8)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEPOCH_CACHE", str(tmp_path))
    synthetic._MEMORY.clear()
    yield tmp_path
    synthetic._MEMORY.clear()


def test_same_seed_same_data_other_seed_other_data():
    a_train, a_test, _ = synthetic.generate(**SMALL, seed=3)
    b_train, b_test, _ = synthetic.generate(**SMALL, seed=3)
    c_train, _, _ = synthetic.generate(**SMALL, seed=4)
    for key in a_train:
        np.testing.assert_array_equal(a_train[key], b_train[key])
        np.testing.assert_array_equal(a_test[key], b_test[key])
    assert not np.array_equal(a_train["item"], c_train["item"])


def test_ctrdata_contract_like_load():
    data = synthetic.load(**SMALL)
    assert data.fields == FIELDS and data.name == "synthetic"
    n_test = min(synthetic.TEST_CAP, round(synthetic.TEST_SHARE * SMALL["samples"]))
    assert len(data.test["label"]) == n_test and len(data.train["label"]) == SMALL["samples"] - n_test
    for split in (data.train, data.test):
        assert set(split) == set(TENSOR_KEYS)
        n = len(split["label"])
        for key in ("user_id", "item_id", "cat_id", "user_raw"):
            assert split[key].dtype == torch.int64 and split[key].shape == (n,)
        for key in ("hist_item_ids", "hist_cat_ids"):
            assert split[key].dtype == torch.int64 and split[key].shape == (n, SMALL["history"])
        assert split["label"].dtype == torch.float32 and set(split["label"].unique().tolist()) <= {0.0, 1.0}
        hist = split["hist_item_ids"]
        assert ((hist != 0).sum(1) >= 1).all()  # every history has at least one item
        padded = hist == 0  # right padding: once padding starts it continues
        assert (padded[:, :-1] <= padded[:, 1:]).all()
        assert torch.equal(hist == 0, split["hist_cat_ids"] == 0)
        assert int(max(split[f].max() for f in FIELDS)) < data.vocab_size
    counts = data.vocab.counts[2:]
    assert (np.diff(counts) <= 0).all() and counts[-1] > 0  # ids by descending training frequency
    # the same user always has the same history
    users, hist = data.train["user_raw"].numpy(), data.train["hist_item_ids"].numpy()
    first = {}
    for u, h in zip(users[:500], hist[:500]):
        assert np.array_equal(first.setdefault(u, h), h)


def test_load_is_cached_on_disk_and_in_memory(cache):
    a = synthetic.load(**SMALL)
    assert synthetic.load(**SMALL) is a
    assert a.checksum == synthetic.checksum(**SMALL)
    assert len(list(cache.rglob("synthetic-*.pt"))) == 1
    synthetic._MEMORY.clear()
    b = synthetic.load(**SMALL)
    assert b is not a and b.checksum == a.checksum and b.params == a.params
    for key in TENSOR_KEYS:
        assert torch.equal(a.train[key], b.train[key]) and torch.equal(a.test[key], b.test[key])
    assert synthetic.checksum(**{**SMALL, "zipf": 1.1}) != a.checksum


def test_bayes_auc_is_the_auc_of_the_true_probabilities_and_a_ceiling():
    train, test, world = synthetic.generate(**SMALL)
    data = synthetic.load(**SMALL)
    ceiling = synthetic.bayes_auc(data)
    assert 0.5 < ceiling <= 1.0
    assert ceiling == pytest.approx(auc(test["label"].astype(bool), test["p_true"]))
    np.testing.assert_allclose(test["p_true"], world.click_probability(test["user_raw"], test["item"] - 1, 1.0))
    # labels really are drawn from p: calibrated on average
    assert abs(train["label"].mean() - train["p_true"].mean()) < 0.02
    # a score that ignores part of the truth does worse than the truth
    partial = world.item_bias[test["item"] - 1]
    assert auc(test["label"].astype(bool), partial) < ceiling


def test_noise_lowers_the_ceiling():
    ceilings = [synthetic.load(**SMALL, noise=noise).params["expected_bayes_auc"] for noise in (0.3, 1.0, 3.0)]
    assert ceilings[0] > ceilings[1] > ceilings[2] > 0.5


def test_zipf_exponent_is_the_sparsity_dial():
    """Larger exponent: samples concentrate on fewer, more frequent users and items (less sparse)."""
    mean_occ, rare = [], []
    for zipf in (0.0, 1.0, 2.0):
        data = synthetic.load(**SMALL, zipf=zipf)
        stats = data.field_stats()
        mean_occ.append(stats.loc["item_id", "mean_occurrences"] + stats.loc["user_id", "mean_occurrences"])
        rare.append(synthetic.sparsity(data, "item_id", rare=20))
    assert mean_occ[0] < mean_occ[1] < mean_occ[2]
    assert rare[0] > rare[1] > rare[2]


def test_expected_auc_matches_brute_force():
    rng = np.random.default_rng(0)
    p = np.round(rng.random(40), 1)  # with ties
    num = den = 0.0
    for i in range(len(p)):
        for j in range(len(p)):
            if i != j:
                w = p[i] * (1 - p[j])
                den += w
                num += w * (1.0 if p[i] > p[j] else 0.5 if p[i] == p[j] else 0.0)
    assert synthetic.expected_auc(p) == pytest.approx(num / den)


def test_run_config_points_at_synthetic_data():
    from onepoch.runs.runner import data_checksum, load_data
    config = RunConfig(dataset="synthetic", syn_samples=6000, syn_users=600, syn_items=800, syn_categories=20,
                       max_history=8)
    data = load_data(config)
    assert data.checksum == data_checksum(config) == synthetic.checksum(**SMALL)
    assert config.key("x") != config.replace(syn_zipf=1.5).key("x")


def test_synthetic_knobs_are_validated():
    with pytest.raises(ConfigError, match="only apply to dataset='synthetic'"):
        RunConfig(dataset="sports", syn_zipf=1.5)
    with pytest.raises(ConfigError, match="syn_noise must be > 0"):
        RunConfig(dataset="synthetic", syn_noise=0.0)
    with pytest.raises(ConfigError, match="syn_users must be a positive integer"):
        RunConfig(dataset="synthetic", syn_users=0)
    with pytest.raises(DataError, match="samples must be >= 100"):
        synthetic.generate(samples=10)
    with pytest.raises(DataError, match="not synthetic"):
        synthetic.bayes_auc(type("D", (), {"params": {}})())


def test_info_gives_the_params_without_keeping_the_data(cache):
    params = synthetic.info(**SMALL)
    assert not synthetic._MEMORY  # nothing held in memory
    assert (cache / "data" / f"synthetic-{synthetic.checksum(**SMALL)}.json").is_file()
    assert params == synthetic.load(**SMALL).params
    assert params["train_samples"] + params["test_samples"] == SMALL["samples"]
    assert 0 < params["item_rare_share"] <= 1 and params["item_mean_occurrences"] > 1
    synthetic._MEMORY.clear()
    assert synthetic.info(**SMALL) == params  # from the small file


def test_the_checksum_covers_numpy_only_when_it_differs_from_the_pinned_version(monkeypatch):
    from onepoch import config

    base = synthetic.checksum(**SMALL)
    monkeypatch.setattr(config, "installed_version", lambda p: "0.0.1" if p == "numpy" else config.KEYED_LIBRARIES[p])
    assert synthetic.checksum(**SMALL) != base  # other samplers, other data: never the cached file
    monkeypatch.setattr(config, "installed_version", lambda p: config.KEYED_LIBRARIES[p])
    assert synthetic.checksum(**SMALL) == base
