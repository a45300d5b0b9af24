"""Data set registry: folder resolution, checksums, atomic downloads."""
import hashlib
import io
import os
import re
import urllib.error
import zipfile

import pytest

from onepoch.data import files
from onepoch.data.sources import DATASETS, DataFile, DatasetSource, data_dir, download, ensure_files
from onepoch.errors import DataError, OnepochError

from helpers import REAL, needs_shared

needs_real_data = needs_shared("amazon-s3rec")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_registry_lists_the_shared_data_sets_with_checksums_and_urls():
    # the paper's own data sets (amazon-book, taobao) are tested in test_data_amazon_book / _taobao
    assert set(DATASETS) == {"beauty", "sports", "toys", "yelp", "ml-100k", "amazon-book", "taobao"}
    for src in (s for s in DATASETS.values() if not s.prepared):
        for f in src.files:
            assert re.fullmatch(r"[0-9a-f]{64}", f.sha256)
            assert f.url.startswith("https://")
    assert all(f.member and f.url.endswith("recbole-1.2.1-py3-none-any.whl") for f in DATASETS["ml-100k"].files)
    assert "49a890d" in DATASETS["beauty"].files[0].url


def test_unknown_name_lists_valid_names(tmp_path):
    with pytest.raises(DataError, match="choose one of: beauty, sports, toys, yelp, ml-100k"):
        ensure_files("amazon-books", tmp_path)
    assert issubclass(DataError, OnepochError)


def test_data_dir_argument_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ONEPOCH_DATA", str(tmp_path / "env"))
    assert data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert data_dir() == tmp_path / "env"
    monkeypatch.delenv("ONEPOCH_DATA")
    with pytest.raises(DataError, match="ONEPOCH_DATA"):
        data_dir()


def test_missing_file_names_file_folder_env_and_download(tiny_source):
    folder, _ = tiny_source
    with pytest.raises(DataError) as err:
        ensure_files("tiny", folder)
    message = str(err.value)
    for needle in ("tiny/tiny.sequences", str(folder), "does not exist", "ONEPOCH_DATA", "download=True", "file://"):
        assert needle in message


def test_checksum_mismatch_names_file_hashes_and_fix(tiny_source):
    folder, contents = tiny_source
    ensure_files("tiny", folder, download=True)
    (folder / "tiny/tiny.sequences").write_bytes(b"1 9 9\n")
    with pytest.raises(DataError) as err:
        ensure_files("tiny", folder)
    message = str(err.value)
    assert "tiny.sequences" in message and sha(contents["sequences"]) in message and sha(b"1 9 9\n") in message
    assert "delete" in message and "download" in message


def test_verification_is_cached_until_the_file_changes(tiny_source, monkeypatch):
    folder, _ = tiny_source
    ensure_files("tiny", folder, download=True)
    hashed = []
    real_hash = files._hash_file
    monkeypatch.setattr(files, "_hash_file", lambda p: hashed.append(p) or real_hash(p))
    ensure_files("tiny", folder)
    assert hashed == []
    target = folder / "tiny/tiny.sequences"
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 10**9))
    ensure_files("tiny", folder)
    assert hashed == [target]


def test_download_from_file_url_verifies_and_leaves_no_part_files(tiny_source):
    folder, contents = tiny_source
    paths = ensure_files("tiny", folder, download=True)
    assert paths["sequences"].read_bytes() == contents["sequences"]
    assert not list(folder.rglob("*.part"))


def test_download_with_wrong_checksum_writes_nothing(tmp_path):
    origin = tmp_path / "origin.txt"
    origin.write_bytes(b"payload")
    target = tmp_path / "out" / "file.txt"
    target.parent.mkdir()
    with pytest.raises(DataError, match="expected sha256 " + "0" * 64):
        download(origin.as_uri(), target, "0" * 64)
    assert list(target.parent.iterdir()) == []


def test_interrupted_download_leaves_no_file_but_the_part_to_resume(tmp_path):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            if self.tell():
                raise ConnectionResetError("connection dropped")
            return super().read(3)

    target = tmp_path / "file.txt"
    with pytest.raises(DataError, match="connection dropped"):
        download("https://example.invalid/file.txt", target, None, opener=lambda url: Broken(b"abcdef"))
    assert list(tmp_path.iterdir()) == [tmp_path / "file.txt.part"]  # the next call resumes from it


def test_no_network_says_what_to_fetch_from_where_and_where_to_put_it(tmp_path):
    def offline(url):
        raise urllib.error.URLError("Name or service not known")

    target = tmp_path / "Beauty.txt"
    with pytest.raises(DataError) as err:
        download("https://raw.githubusercontent.com/x/Beauty.txt", target, None, opener=offline)
    assert "https://raw.githubusercontent.com/x/Beauty.txt" in str(err.value) and str(target) in str(err.value)
    assert not target.exists()


def test_files_inside_an_archive_are_extracted_and_the_archive_removed(tmp_path, monkeypatch):
    members = {"pkg/data/a.inter": b"a\n", "pkg/data/a.item": b"b\n"}
    wheel = tmp_path / "pkg.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    files = tuple(DataFile(role, f"a/a.{role}", sha(members[f"pkg/data/a.{role}"]), wheel.as_uri(),
                           member=f"pkg/data/a.{role}", archive_sha256=sha(wheel.read_bytes()))
                  for role in ("inter", "item"))
    monkeypatch.setitem(DATASETS, "archived", DatasetSource("archived", "ml100k", files))
    paths = ensure_files("archived", tmp_path / "data", download=True)
    assert paths["item"].read_bytes() == b"b\n"
    assert sorted(p.name for p in (tmp_path / "data/a").iterdir()) == ["a.inter", "a.item"]


@needs_real_data
def test_shared_files_match_the_registry():
    for name in (n for n, s in DATASETS.items() if not s.prepared):  # not in the shared folder (too large)
        paths = ensure_files(name, REAL)
        assert all(p.is_file() for p in paths.values())


@pytest.mark.network
@pytest.mark.skipif(os.environ.get("ONEPOCH_NETWORK_TESTS") != "1", reason="set ONEPOCH_NETWORK_TESTS=1")
def test_ml100k_downloads_from_pypi(tmp_path):
    paths = ensure_files("ml-100k", tmp_path, download=True)
    assert sorted(paths) == ["inter", "item", "user"]
    assert sorted(p.name for p in (tmp_path / "ml-100k").iterdir()) == ["ml-100k.inter", "ml-100k.item", "ml-100k.user"]


def test_unreachable_archive_explains_how_to_extract_by_hand(tmp_path, monkeypatch):
    url = (tmp_path / "missing.whl").as_uri()
    files = (DataFile("inter", "a/a.inter", "0" * 64, url, member="pkg/a.inter", archive_sha256="1" * 64),)
    monkeypatch.setitem(DATASETS, "archived", DatasetSource("archived", "ml100k", files))
    with pytest.raises(DataError) as err:
        ensure_files("archived", tmp_path / "data", download=True)
    message = str(err.value)
    assert url in message and "pkg/a.inter" in message and str(tmp_path / "data/a/a.inter") in message
    assert not list((tmp_path / "data").rglob("*.*"))  # nothing half-written
