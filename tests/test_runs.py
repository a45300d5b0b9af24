"""Result cache and sweeps: hits, misses, corruption, parallel determinism."""

import pandas as pd
import pytest

from onepoch.config import RunConfig
from onepoch.runs import ResultCache, run, sweep
from onepoch.runs import runner as run_module

from helpers import REAL, tiny_data

SMALL = dict(epochs=2, batch_size=64, eval_every=20, hidden=(16, 8), train_eval_size=300)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEPOCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def tiny(monkeypatch):
    data = tiny_data(2000, 500)
    monkeypatch.setattr(run_module, "load_data", lambda config: data)
    monkeypatch.setattr(run_module, "data_checksum", lambda config: data.checksum)
    return data


def count_fits(monkeypatch):
    calls = []
    from onepoch.train import trainer

    real = trainer.fit

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer, "fit", counting)
    return calls


def test_second_run_is_a_cache_hit_and_a_changed_setting_is_a_miss(cache, tiny, monkeypatch):
    calls = count_fits(monkeypatch)
    cfg = RunConfig(**SMALL)
    first = run(cfg, progress=False)
    again = run(cfg, progress=False)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first, again)
    run(cfg.replace(lr=2e-3), progress=False)
    assert len(calls) == 2
    assert len(list(cache.rglob("*.json"))) == 2 and len(list(cache.rglob("*.parquet"))) == 2


def test_corrupted_entry_is_detected_removed_and_redone(cache, tiny, monkeypatch):
    calls = count_fits(monkeypatch)
    cfg = RunConfig(**SMALL)
    run(cfg, progress=False)
    (entry,) = cache.rglob("*.parquet")
    blob = bytearray(entry.read_bytes())
    blob[-10] ^= 0xFF  # flip a byte of the payload
    entry.write_bytes(bytes(blob))
    with pytest.warns(UserWarning, match="invalid cache entry .*checksum mismatch"):
        run(cfg, progress=False)
    assert len(calls) == 2
    assert ResultCache().get(entry.stem) is not None  # rewritten whole


def _entry(rows: int = 3) -> dict:
    from onepoch.train.trainer import curves_frame

    frame = curves_frame([(i, i / 10, "test", "auc", 0.5 + i / 100) for i in range(rows)])
    return {"config": {"lr": 1e-3}, "data_checksum": "d", "frame": frame, "seconds": 1.5}


def test_truncated_entry_is_a_miss(tmp_path):
    store = ResultCache(tmp_path)
    store.put("ab" * 32, _entry())
    path = store.curves_path("ab" * 32)
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.warns(UserWarning):
        assert store.get("ab" * 32) is None
    assert not path.exists()


def test_cache_writes_leave_no_temporary_files(tmp_path):
    store = ResultCache(tmp_path)
    for i in range(3):
        store.put(f"{i:064d}", _entry(100))
    assert sorted(p.suffix for p in tmp_path.rglob("*") if p.is_file()) == [".json"] * 3 + [".parquet"] * 3


def test_sweep_labels_varying_settings(cache, tiny):
    frame = sweep([RunConfig(**SMALL), RunConfig(**SMALL, lr=3e-3)], seeds=[0, 1], n_jobs=1, progress=False)
    assert {"dataset", "model", "lr", "seed"} <= set(frame.columns)
    assert frame.groupby(["lr", "seed"]).ngroups == 4


@pytest.mark.skipif(not (REAL / "ml-100k").exists(), reason="needs the shared data folder")
def test_parallel_sweep_gives_the_same_curves_as_serial(tmp_path, monkeypatch):
    # joblib workers are separate processes, so this uses real (small) data from the data folder
    monkeypatch.setenv("ONEPOCH_DATA", str(REAL))
    configs = [RunConfig(dataset="ml-100k", construction="last", **{**SMALL, "eval_every": 5}, lr=x)
               for x in (1e-3, 1e-2)]
    monkeypatch.setenv("ONEPOCH_CACHE", str(tmp_path / "serial"))
    serial = sweep(configs, seeds=[0, 1], n_jobs=1, progress=False)
    monkeypatch.setenv("ONEPOCH_CACHE", str(tmp_path / "parallel"))
    parallel = sweep(configs, seeds=[0, 1], n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(serial, parallel)
    assert len(list((tmp_path / "parallel").rglob("*.parquet"))) == 4


def test_runs_and_sweeps_note_each_run_used_in_the_run_log(cache, tiny, tmp_path, monkeypatch):
    import json

    from onepoch import book

    assert run_module.RUN_LOG == book.RUN_LOG_ENV  # the book reads what the runner writes
    log = tmp_path / "runs.jsonl"
    monkeypatch.setenv(run_module.RUN_LOG, str(log))
    a, b = RunConfig(**SMALL), RunConfig(**SMALL, lr=2e-3)
    run(a, progress=False)  # trained
    sweep([a, b], seeds=None, n_jobs=1, progress=False)  # a from the cache, b trained
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [x["trained"] for x in lines] == [True, False, True]
    assert lines[0]["key"] == lines[1]["key"] != lines[2]["key"]
    assert lines[1]["seconds"] == lines[0]["seconds"] > 0  # a hit reports the time its training took
    usage = book.run_usage(log)
    assert usage == {"runs": 2, "trained": 2, "run_seconds": round(lines[0]["seconds"] + lines[2]["seconds"], 1),
                     "keys": sorted({lines[0]["key"], lines[2]["key"]})}  # what `onepoch results export` takes
    monkeypatch.delenv(run_module.RUN_LOG)
    run(b, progress=False)
    assert len(log.read_text().splitlines()) == 3  # no log set: nothing written


def test_run_usage_skips_a_cut_line_and_a_missing_log(tmp_path):
    from onepoch import book

    log = tmp_path / "runs.jsonl"
    log.write_text('{"key": "a", "seconds": 2.0, "trained": false}\n{"key": "b", "sec')
    assert book.run_usage(log) == {"runs": 1, "trained": 0, "run_seconds": 2.0, "keys": ["a"]}
    assert book.run_usage(tmp_path / "none.jsonl") == {"runs": 0, "trained": 0, "run_seconds": 0, "keys": []}


def test_a_run_log_that_cannot_be_written_never_fails_a_run(cache, tiny, tmp_path, monkeypatch):
    monkeypatch.setenv(run_module.RUN_LOG, str(tmp_path / "no" / "such" / "folder" / "runs.jsonl"))
    assert not run(RunConfig(**SMALL), progress=False).empty
