"""Reliability, parameters: what papermill, `onepoch run -p` or a notebook can pass.

Unknown names list the valid choices (never a silent fallback, e.g. to SGD),
wrong types and out-of-range values fail at once with a ConfigError / BookError
naming the setting (never a TypeError from a comparison or deep inside torch),
a run whose evaluation cadence cannot fire fails before training, and a NaN or
infinite loss stops the run with the step, the setting and a hint, caching nothing.
"""
from __future__ import annotations

import re
import time

import pytest

from onepoch import book, cli
from onepoch.config import (ACTIVATIONS, CONSTRUCTIONS, DATASETS, MODELS, OPTIMIZERS, SPARSITY, ConfigError,
                            RunConfig)
from onepoch.data import sparsity
from onepoch.errors import DataError, OnepochError
from onepoch.runs import runner
from onepoch.train import TrainingDiverged, fit, trainer

from helpers import tiny_data, tiny_runs_cache

SMALL = dict(epochs=2, batch_size=64, eval_every=20, hidden=(16, 8), train_eval_size=300)


# -- unknown names: the error lists every valid choice ------------------------------------------

@pytest.mark.parametrize("setting, value, choices", [
    ("dataset", "books", DATASETS),
    ("optimizer", "adamw", OPTIMIZERS),
    ("activation", "gelu", ACTIVATIONS),
    ("model", "xgboost", MODELS),
    ("construction", "all", CONSTRUCTIONS),
    ("sparsity", "prune", SPARSITY),
])
def test_unknown_choice_lists_the_valid_ones(setting, value, choices):
    with pytest.raises(ConfigError) as err:
        RunConfig(**{setting: value})
    assert f"unknown {setting} {value!r}; choose one of: {', '.join(choices)}" in str(err.value)


def test_unknown_data_set_in_load_lists_the_valid_ones():
    from onepoch import data

    with pytest.raises(DataError, match="unknown data set 'books'; choose one of: beauty, sports, toys, yelp"):
        data.load("books")


@pytest.fixture
def in_tiny_book(tiny_book, monkeypatch):
    monkeypatch.setattr(book.paths, "ROOT", tiny_book)
    return tiny_book


def _cli_error(capsys, argv) -> str:
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("onepoch: error: ") and "Traceback" not in err, err
    return lines[0]


# -- wrong types --------------------------------------------------------------------------------

@pytest.mark.parametrize("setting, value, words", [
    ("lr", "1e-3", "lr must be a finite number, got '1e-3' (str)"),
    ("lr", True, "lr must be a finite number, got True"),
    ("dropout", "none", "dropout must be a finite number"),
    ("epochs", 2.5, "epochs must be an integer, got 2.5"),
    ("batch_size", "128", "batch_size must be an integer"),
    ("seed", 1.5, "seed must be an integer"),
    ("max_users", 2.5, "max_users must be an integer"),
    ("hidden", 200, "hidden must be a list or tuple of int values, got 200"),
    ("hidden", (200, 80.5), "hidden must be a list or tuple of int values"),
    ("fields", "user_id", "fields must be a list or tuple of str values, got 'user_id'"),
    ("dataset", 3, "dataset must be a string, got 3"),
    ("optimizer", None, "optimizer must be a string, got None"),
])
def test_wrong_type_is_a_config_error_naming_the_setting(setting, value, words):
    with pytest.raises(ConfigError) as err:  # a ConfigError, not a TypeError from a comparison
        RunConfig(**{setting: value})
    assert words in str(err.value)


def test_numpy_scalars_are_accepted_as_python_numbers():
    import numpy as np

    cfg = RunConfig(seed=np.int64(3), hidden=[np.int64(16), 8], lr=np.float64(1e-2))
    assert cfg == RunConfig(seed=3, hidden=(16, 8), lr=1e-2) and type(cfg.seed) is int
    assert cfg.key("d") == RunConfig(seed=3, hidden=(16, 8), lr=1e-2).key("d")


def test_cli_wrong_type_fails_before_executing(in_tiny_book, capsys):
    line = _cli_error(capsys, ["run", "alpha", "-p", "n=three", "--quick"])
    assert "parameter n of chapter 'alpha' must be an integer like its default 2, got 'three'" in line
    line = _cli_error(capsys, ["run", "alpha", "-p", "fail=1", "--quick"])
    assert "parameter fail of chapter 'alpha' must be True or False" in line
    assert not (in_tiny_book / "_build").exists()  # no kernel was started


def test_chapter_parameter_types_follow_the_defaults():
    valid = {k: {"default": d} for k, d in
             {"lr": "1e-3", "seeds": "[0, 1, 2]", "datasets": '["beauty"]', "max_users": "None",
              "name": '"sports"', "quick": "False"}.items()}
    book.toc.check_types("c", {"lr": 1, "seeds": (3,), "max_users": 4000, "name": "toys", "quick": True}, valid)
    with pytest.raises(book.BookError, match=r"datasets of chapter 'c' must be a list .* \(write -p datasets=\['x'\]"):
        book.toc.check_types("c", {"datasets": "beauty"}, valid)
    with pytest.raises(book.BookError, match="seeds of chapter 'c' must be a list"):
        book.toc.check_types("c", {"seeds": 0}, valid)
    with pytest.raises(book.BookError, match="lr of chapter 'c' must be a number"):
        book.toc.check_types("c", {"lr": "fast"}, valid)


# -- out of range -------------------------------------------------------------------------------

@pytest.mark.parametrize("setting, value, words", [
    ("lr", -1e-3, "lr must be > 0, got -0.001"),
    ("lr", 0.0, "lr must be > 0"),
    ("lr", float("nan"), "lr must be a finite number, got nan"),
    ("batch_size", 0, "batch_size must be > 0, got 0"),
    ("epochs", 0, "epochs must be > 0"),
    ("eval_every", 0, "eval_every must be > 0"),
    ("sparsity_m", 0.0, "sparsity_m must be in (0, 1], got 0.0"),
    ("sparsity_m", 1.5, "sparsity_m must be in (0, 1], got 1.5"),
    ("sparsity_m", -0.1, "sparsity_m must be in (0, 1]"),
    ("dropout", 1.0, "dropout must be in [0, 1)"),
    ("test_users", 1.0, "test_users must be in (0, 1)"),
    ("weight_decay", -1e-4, "weight_decay must be >= 0"),
    ("seed", -1, "seed must be an integer in [0, 2**63), got -1"),
    ("data_seed", 2**64, "data_seed must be an integer in [0, 2**63)"),
    ("hidden", (200, 0), "hidden must be positive layer widths"),
])
def test_out_of_range_is_a_config_error_naming_the_setting_and_the_range(setting, value, words):
    with pytest.raises(ConfigError) as err:
        RunConfig(**{setting: value})
    assert words in str(err.value)


def test_sparsity_ratio_out_of_range_in_the_data_transform():
    with pytest.raises(DataError, match=r"sparsity_m must be in \(0, 1\]"):
        sparsity.apply(tiny_data(200, 50), "filter", 0.0)


def test_more_evaluation_interval_than_steps_fails_before_training(monkeypatch):
    data = tiny_data(1000, 200)  # 1000 // 64 = 15 steps an epoch, 30 in all
    built = []
    monkeypatch.setattr(trainer, "build_model", lambda *a, **k: built.append(1))
    start = time.perf_counter()
    with pytest.raises(OnepochError) as err:
        fit(RunConfig(**{**SMALL, "eval_every": 31}), data, progress=False)
    msg = str(err.value)
    assert "eval_every=31 is more than the 30 steps of this run" in msg and "use eval_every < 15" in msg
    assert not built and time.perf_counter() - start < 5  # at the start, before any model exists


def test_batch_larger_than_the_data_fails_before_training():
    with pytest.raises(OnepochError, match="batch_size 512 is larger than the 300 training samples"):
        fit(RunConfig(**{**SMALL, "batch_size": 512}), tiny_data(300, 50), progress=False)


# -- a diverging run: step, setting, hint; nothing cached -----------------------------------------

@pytest.fixture
def tiny_runs(tmp_path, monkeypatch):
    return tiny_runs_cache(tmp_path, monkeypatch, 2000)[0]


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_or_infinite_loss_stops_the_run_and_caches_nothing(tiny_runs, monkeypatch, bad):
    real = trainer.F.binary_cross_entropy_with_logits
    calls = []

    def loss_going_bad_at_step_7(logits, labels):
        calls.append(1)
        loss = real(logits, labels)
        return loss * bad if len(calls) == 7 else loss

    monkeypatch.setattr(trainer.F, "binary_cross_entropy_with_logits", loss_going_bad_at_step_7)
    with pytest.raises(TrainingDiverged) as err:
        runner.run(RunConfig(**SMALL, optimizer="rmsprop", lr=0.05), progress=False)
    msg = str(err.value)
    assert re.search(rf"loss is {bad} at step 7 \(epoch 0\.23\)", msg), msg
    assert "optimizer=rmsprop, lr=0.05, batch_size=64" in msg and "smaller learning rate" in msg
    assert "Nothing was cached" in msg
    assert not [p for p in tiny_runs.rglob("*") if p.is_file()]  # no entry, no temporary file


def test_a_really_diverging_run_is_stopped(tiny_runs):
    with pytest.raises(TrainingDiverged, match=r"loss is nan at step \d+ .*optimizer=sgd, lr=1e\+30"):
        runner.run(RunConfig(**SMALL, optimizer="sgd", lr=1e30, activation="relu"), progress=False)
    assert not list(tiny_runs.rglob("*.json"))
