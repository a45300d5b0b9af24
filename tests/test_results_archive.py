"""`onepoch results export/import`: the runs of a build, checksummed; import refuses anything else."""
from __future__ import annotations

import io
import json
import tarfile

import pytest

from onepoch import book, cli
from onepoch.runs import archive
from onepoch.runs.cache import CacheError, ResultCache
from onepoch.train.trainer import curves_frame


def _entry(i: int) -> dict:
    frame = curves_frame([(s, s / 10, "test", "auc", 0.5 + i / 100 + s / 1000) for s in range(5)])
    return {"config": {"lr": 1e-3, "seed": i}, "data_checksum": "d", "frame": frame, "seconds": 1.0 + i}


@pytest.fixture
def built(tiny_book, tmp_path, monkeypatch):
    """A quick build whose chapters used runs k0..k2 (k3 is in the cache but unused)."""
    monkeypatch.setattr(book.paths, "ROOT", tiny_book)
    store = ResultCache(tmp_path / "cache" / "runs")
    keys = [f"{i:064x}" for i in range(4)]
    for i, key in enumerate(keys):
        store.put(key, _entry(i))
    lay = book.layout("quick", root=tiny_book)
    lay.executed.mkdir(parents=True)
    for name, used in zip(book.chapters(tiny_book), (keys[:2], keys[1:3], [])):
        lay.record(name).write_text(json.dumps({"chapter": name, "keys": used}))
    return tiny_book, store, keys


def test_export_then_import_into_an_empty_cache_gives_the_same_entries(built, tmp_path, monkeypatch, capsys):
    root, store, keys = built
    file = tmp_path / "runs.tar"
    assert cli.main(["results", "export", str(file), "--quick"]) == 0
    assert "3 runs written" in capsys.readouterr().out
    monkeypatch.setenv("ONEPOCH_CACHE", str(tmp_path / "empty"))
    assert cli.main(["results", "import", str(file)]) == 0
    assert "3 runs added to the cache, 0 already there" in capsys.readouterr().out
    other = ResultCache(tmp_path / "empty" / "runs")
    assert other.keys() == keys[:3]
    for key in keys[:3]:
        assert other.read(key)["frame"].equals(store.read(key)["frame"])
        assert other.path(key).read_bytes() == store.path(key).read_bytes()
    assert cli.main(["results", "import", str(file)]) == 0
    assert "0 runs added to the cache, 3 already there" in capsys.readouterr().out


def _rewrite(file, change):
    """The archive's members, changed by `change(members)` (a list of [name, bytes, TarInfo-kwargs])."""
    with tarfile.open(file) as tar:
        members = [[m.name, tar.extractfile(m).read(), {}] for m in tar]
    change(members)
    with tarfile.open(file, "w") as tar:
        for name, blob, extra in members:
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            for k, v in extra.items():
                setattr(info, k, v)
            tar.addfile(info, io.BytesIO(blob) if info.isreg() else None)


def _flip_curves(members):
    for m in members:
        if m[0].endswith(".parquet"):
            m[1] = m[1][:-12] + bytes(12)
            break


def _crafted_entry(members):
    """A member rewritten AND its checksum in the manifest recomputed: caught by the schema."""
    import hashlib

    manifest = json.loads(members[0][1])
    for m in members:
        if m[0].endswith(".json") and m[0] != "manifest.json":
            meta = json.loads(m[1])
            meta["seconds"] = "__import__('os').system('touch pwned')"
            from onepoch.runs.cache import meta_checksum

            meta["sha256"] = meta_checksum(meta)  # recomputed too: only the schema stands in the way
            m[1] = json.dumps(meta).encode()
            manifest["files"][m[0]] = hashlib.sha256(m[1]).hexdigest()
            break
    members[0][1] = json.dumps(manifest).encode()


@pytest.mark.parametrize("change, why", [
    (_flip_curves, "checksum mismatch"),
    (_crafted_entry, "is not a valid entry"),
    (lambda ms: ms.append(["../../outside", b"x", {}]), "unexpected member '../../outside'"),
    (lambda ms: ms.append(["runs/link", b"", {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}]), "not a plain file"),
    (lambda ms: ms.pop(), "does not list exactly the files"),
])
def test_import_refuses_anything_but_verified_entries_and_writes_nothing(built, tmp_path, monkeypatch, change, why):
    root, store, keys = built
    file = tmp_path / "runs.tar"
    archive.export_build("quick", file)
    _rewrite(file, change)
    empty = ResultCache(tmp_path / "empty" / "runs")
    with pytest.raises(CacheError, match=why):
        archive.import_archive(file, store=empty)
    assert not (tmp_path / "empty").exists() or not any((tmp_path / "empty").rglob("*.*"))
    assert not (tmp_path / "pwned").exists()


def test_export_needs_a_build_that_recorded_its_runs(built, tmp_path):
    root, store, keys = built
    lay = book.layout("quick", root=root)
    lay.record("beta").write_text(json.dumps({"chapter": "beta"}))  # a record from before run lists
    with pytest.raises(CacheError, match=r"chapter\(s\) beta .*run `onepoch build --quick` first"):
        archive.export_build("quick", tmp_path / "x.tar")
    assert not (tmp_path / "x.tar").exists()


def test_export_all_takes_every_run_in_the_cache_even_without_a_build_record(built, tmp_path, monkeypatch, capsys):
    root, store, keys = built
    lay = book.layout("quick", root=root)
    lay.record("beta").write_text(json.dumps({"chapter": "beta"}))  # an interrupted build: no run list
    monkeypatch.setenv("ONEPOCH_CACHE", str(store.dir.parent))
    file = tmp_path / "all.tar"
    assert cli.main(["results", "export", str(file), "--all"]) == 0
    assert "4 runs written" in capsys.readouterr().out  # k3 too, which no chapter used
    added, present = archive.import_archive(file, store=ResultCache(tmp_path / "other" / "runs"))
    assert (added, present) == (4, 0)
