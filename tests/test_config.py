import pytest

from onepoch.config import ConfigError, RunConfig, make_config
from onepoch.train.optim import make_optimizer


@pytest.mark.parametrize("setting, value, words", [
    ("lr", -1e-3, "lr must be > 0"),
    ("batch_size", 0, "batch_size must be > 0"),
    ("dropout", 1.0, "dropout must be in [0, 1)"),
    ("epochs", 2.5, "epochs must be an integer"),
    ("fields", ("user_id", "price"), "unknown field"),
])
def test_bad_settings_name_the_setting_and_the_range(setting, value, words):
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        RunConfig(**{setting: value})


def test_unknown_setting_lists_valid_names():
    with pytest.raises(ConfigError, match="learning_rate.*valid: dataset"):
        make_config(learning_rate=0.1)


def test_unknown_optimizer_is_an_error_never_sgd():
    with pytest.raises(ConfigError, match="unknown optimizer 'momentum'"):
        make_optimizer("momentum", [], 0.1)


def test_key_changes_with_every_setting_and_lists_become_tuples():
    base = RunConfig()
    assert base.key("d") == RunConfig(hidden=[200, 80]).key("d")
    assert base.key("d") != base.replace(lr=2e-3).key("d")
    assert base.key("d") != base.replace(seed=1).key("d")
    assert base.key("d") != base.key("other data")


def test_neutral_new_options_keep_old_keys_and_other_values_change_them():
    from onepoch.config import NEUTRAL
    base = RunConfig()
    assert set(NEUTRAL) <= set(base.as_dict())
    assert all(getattr(base, k) == v for k, v in NEUTRAL.items())
    assert base.key("d") != base.replace(sparsity="filter", sparsity_m=0.1).key("d")
    assert base.replace(sparsity="filter", sparsity_m=0.1).key("d") != base.replace(sparsity="hash", sparsity_m=0.1).key("d")


def test_history_length_is_the_data_sets_own_unless_set():
    from onepoch.config import DATASETS, DATASET_HISTORY, HISTORY_DEFAULT
    from onepoch.data.sources import DATASETS as REGISTRY
    from onepoch.data.sources import load_arguments

    for name in REGISTRY:  # the config's table agrees with the data sets' definitions
        assert RunConfig(dataset=name).history_length == load_arguments(name)["max_history"]
    assert RunConfig(dataset="amazon-book").data_args()["max_history"] == 100 == DATASET_HISTORY["taobao"]
    assert RunConfig(dataset="synthetic").synthetic_args()["history"] == HISTORY_DEFAULT
    assert RunConfig(dataset="amazon-book", max_history=30).data_args()["max_history"] == 30
    assert set(DATASET_HISTORY) <= set(DATASETS)
    # leaving it unset is the same run, with the same cache key, as writing the data set's length out
    assert RunConfig().key("d") == RunConfig(max_history=50).key("d")
    assert RunConfig(dataset="taobao").key("d") == RunConfig(dataset="taobao", max_history=100).key("d")
    assert RunConfig(dataset="taobao").key("d") != RunConfig(dataset="taobao", max_history=50).key("d")
    with pytest.raises(ConfigError, match="max_history must be > 0"):
        RunConfig(max_history=0)


def test_activation_revision_changes_only_the_keys_of_the_fixed_activations():
    import hashlib, json, torch
    from onepoch.config import RESULT_VERSION, changed_libraries

    def old_key(cfg):  # the key before activation revisions existed
        from onepoch.config import NEUTRAL
        settings = {k: v for k, v in cfg.as_dict().items() if k not in NEUTRAL or v != NEUTRAL[k]}
        return {"config": settings, "data": "d", "version": RESULT_VERSION, "torch": torch.__version__}

    if changed_libraries():
        pytest.skip("keys include library versions here")
    digest = lambda p: hashlib.sha256(json.dumps(p, sort_keys=True).encode()).hexdigest()
    for cfg in (RunConfig(), RunConfig(model="lr"), RunConfig(model="lr", activation="relu"),
                RunConfig(activation="sigmoid")):
        assert cfg.key("d") == digest(old_key(cfg))  # Dice, sigmoid and LR results stay cached
    for act in ("relu", "prelu"):
        assert RunConfig(activation=act).key("d") != digest(old_key(RunConfig(activation=act)))
