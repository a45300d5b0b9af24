"""The run cache holds data, not code: hostile entries are refused without running anything, keys
are stable across the format change, old pickle entries migrate (restricted), and nothing trains
before a result is known to be storable."""
from __future__ import annotations

import hashlib
import json
import os
import pickle

import pytest

from onepoch.config import RunConfig
from onepoch.data import synthetic
from onepoch.runs import ResultCache, run
from onepoch.runs import runner as run_module
from onepoch.runs.cache import CacheError
from onepoch.runs.migrate import migrate

from helpers import tiny_runs_cache

SMALL = dict(epochs=1, batch_size=64, eval_every=20, hidden=(16, 8), train_eval_size=300)

# Computed with the code before the Parquet cache (commit 2fa556c): the format changed, the keys did not.
EXPECTED_KEYS = {
    "default": (RunConfig(), "abc", (), "58fb047fa935ea1472391b50b232402d4442e319f6eb1b689bf8489d30bbed05"),
    "synthetic_lr": (RunConfig(dataset="synthetic", lr=1e-2, epochs=2), None, (),
                     "108cbbf302023cfa2cb6ede76c9a2b3d01910030adcfea7da2fb5056ee47f849"),
    "fields": (RunConfig(fields=("user_id", "item_id"), emb_dim=16, seed=3), "d" * 64, (),
               "508dbf9184fcfda3036efa889c4ebe8502f32558f0cd235c322172ba7ebaee03"),
    "remedies_probe": (RunConfig(meda=True, lr_decay=0.5, optimizer="rmsprop", hidden=(64,)), "e" * 64,
                       ("adistance:v1",), "9fd15f93851ddc63f1e07958655b91a18960eb178a387ef5cafe1260e5a28a2d"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_KEYS))
def test_cache_keys_are_unchanged(name):
    config, checksum, extra, expected = EXPECTED_KEYS[name]
    if checksum is None:
        checksum = synthetic.checksum(**config.synthetic_args())
    assert run_module.result_key(config, checksum, extra) == expected


@pytest.fixture
def setup(tmp_path, monkeypatch):
    _, data = tiny_runs_cache(tmp_path, monkeypatch, 1500)
    config = RunConfig(**SMALL)
    key = run_module.result_key(config, data.checksum, ())
    return tmp_path, config, key


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def old_format(value) -> bytes:
    payload = pickle.dumps(value)
    return hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


def test_a_malicious_entry_is_refused_without_running_anything(setup, recwarn):
    tmp_path, config, key = setup
    marker = tmp_path / "pwned"
    store = ResultCache()
    folder = store.path(key).parent
    folder.mkdir(parents=True)
    evil = old_format({"frame": Evil(marker), "seconds": 1.0, "config": {}, "data_checksum": ""})
    (folder / f"{key}.pkl").write_bytes(evil)  # the old format, with a valid checksum line
    # the new names, crafted: the pickle as "Parquet", a JSON that vouches for it
    store.curves_path(key).write_bytes(evil)
    meta = {"format": "onepoch-run", "format_version": 1, "key": key, "config": {}, "data_checksum": "",
            "seconds": 1.0, "versions": {}, "curves_sha256": hashlib.sha256(evil).hexdigest(), "rows": 1}
    from onepoch.runs.cache import meta_checksum

    meta["sha256"] = meta_checksum(meta)  # anyone can recompute a checksum: the schema is what refuses it
    store.path(key).write_text(json.dumps(meta))
    frame = run(config, progress=False)  # refused, trained instead
    assert not marker.exists() and not frame.empty
    assert any("invalid cache entry" in str(w.message) for w in recwarn.list)
    assert store.get(key) is not None and store.get(key)["frame"].equals(frame)  # replaced by a real entry

    for bad in ({**meta, "extra": "__reduce__"}, {**meta, "seconds": "1"}, {**meta, "key": "0" * 64}, [meta]):
        if isinstance(bad, dict):
            bad["sha256"] = meta_checksum(bad)
        store.path(key).write_text(json.dumps(bad))
        with pytest.raises(CacheError):
            store.read(key)

    # a Parquet file of another shape: refused on its schema
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"cmd": ["rm -rf /"]}), store.curves_path(key))
    blob = store.curves_path(key).read_bytes()
    crafted = {**meta, "curves_sha256": hashlib.sha256(blob).hexdigest()}
    store.path(key).write_text(json.dumps({**crafted, "sha256": meta_checksum(crafted)}))
    with pytest.raises(CacheError, match="curve columns"):
        store.read(key)

    # migration of old entries uses a restricted unpickler: the crafted pickle is refused too
    done, failed = migrate(store)
    assert done == 0 and len(failed) == 1 and "refused to load" in failed[0]
    assert not marker.exists()


def test_old_pickle_entries_written_here_migrate_to_the_data_format(setup):
    tmp_path, config, key = setup
    frame = run(config, progress=False)
    store = ResultCache()
    entry = store.read(key)
    store.remove(key)
    old = {"config": config.as_dict(), "data_checksum": entry["data_checksum"], "frame": frame, "seconds": 2.5}
    (store.dir / key[:2] / f"{key}.pkl").write_bytes(old_format(old))
    assert store.get(key) is None  # the old format is never read as an entry
    assert migrate(store) == (1, [])
    again = store.read(key)
    assert again["frame"].equals(frame) and again["seconds"] == 2.5
    assert not list(store.dir.rglob("*.pkl"))


def test_nothing_trains_when_the_cache_cannot_take_the_result(setup, monkeypatch):
    tmp_path, config, key = setup
    calls = []
    from onepoch.train import trainer

    monkeypatch.setattr(trainer, "fit", lambda *a, **k: calls.append(1))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("ONEPOCH_CACHE", str(blocker))
    with pytest.raises(CacheError, match=r"is a file, not a folder; set ONEPOCH_CACHE to a folder"):
        run(config, progress=False)
    if os.geteuid() != 0:  # root writes anywhere: the read-only case cannot be shown as root
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        monkeypatch.setenv("ONEPOCH_CACHE", str(ro))
        with pytest.raises(CacheError, match="not writable"):
            run(config, progress=False)
    assert calls == []


def test_a_cache_entry_replaced_by_a_folder_is_a_one_line_error(setup):
    tmp_path, config, key = setup
    store = ResultCache()
    store.path(key).mkdir(parents=True)
    with pytest.raises(CacheError, match=r"is a folder or other non-file: remove it \(rm -r"):
        run(config, progress=False)
