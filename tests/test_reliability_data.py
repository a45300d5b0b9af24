"""Reliability, data: the wrong folder, a missing, truncated or corrupted file, malformed lines.

Each case gives one `DataError` (an `OnepochError`) raised by onepoch itself --
not a traceback from deep inside numpy, pandas or torch -- naming the file,
the line where there is one, and what to do. Corrupted cache files (encoded
samples, prepared arrays) are detected and rebuilt, never used.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from onepoch.data import dataset, files, load, prepared
from onepoch.data.readers import read_files
from onepoch.data.sources import DATASETS, DataFile, DatasetSource, ensure_files
from onepoch.errors import DataError, OnepochError

from helpers import REAL, needs_shared

needs_real_data = needs_shared("amazon-s3rec", "Beauty.txt")

SEQUENCES = "".join(f"{u} {' '.join(str(1 + (u * 7 + k) % 25) for k in range(3 + u % 5))}\n" for u in range(1, 41))
ATTRIBUTES = json.dumps({str(i): [i % 4 + 1, i % 6 + 1] for i in range(1, 26)})
INTER_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
ITEM_HEADER = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
INTER = INTER_HEADER + "".join(f"{u}\t{1 + (u * 3 + k) % 12}\t4\t{1000 + k}\n" for u in range(1, 21) for k in range(5))
ITEM = ITEM_HEADER + "".join(f"{i}\tFilm {i}\t1995\t{'Drama' if i % 2 else 'Comedy'}\n" for i in range(1, 13))


pytestmark = pytest.mark.usefixtures("isolated_data_cache")


@pytest.fixture
def register(tmp_path, monkeypatch):
    """register(name, {role: text}, reader): a data set whose published sha256 are those of the texts."""

    def make(name: str, files: dict[str, str | bytes], reader: str = "s3rec") -> Path:
        folder = tmp_path / "data"
        entries = []
        for role, text in files.items():
            data = text.encode() if isinstance(text, str) else text
            (folder / name).mkdir(parents=True, exist_ok=True)
            (folder / name / role).write_bytes(data)
            entries.append(DataFile(role, f"{name}/{role}", hashlib.sha256(data).hexdigest(),
                                    f"https://example.invalid/{name}/{role}"))
        monkeypatch.setitem(DATASETS, name, DatasetSource(name, reader, tuple(entries)))
        return folder

    return make


def raised_by_onepoch(excinfo) -> str:
    """The error is onepoch's own, raised in onepoch's code, and its message is returned."""
    assert isinstance(excinfo.value, OnepochError)
    assert "/onepoch/" in str(excinfo.traceback[-1].path), excinfo.traceback[-1]
    return str(excinfo.value)


# -- the data folder --------------------------------------------------------------------------

def test_a_missing_data_folder_names_it_the_variable_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("ONEPOCH_DATA", str(tmp_path / "no-such-folder"))
    with pytest.raises(DataError) as err:
        load("beauty")
    msg = raised_by_onepoch(err)
    assert f"in the data folder {tmp_path / 'no-such-folder'}, which does not exist" in msg
    assert "ONEPOCH_DATA=" in msg and "download=True" in msg
    assert "amazon-s3rec/Beauty.txt  <- https://" in msg


def test_no_data_folder_at_all_says_how_to_set_one(monkeypatch):
    monkeypatch.delenv("ONEPOCH_DATA", raising=False)
    with pytest.raises(DataError) as err:
        load("beauty")
    assert "no data folder given" in raised_by_onepoch(err) and "ONEPOCH_DATA" in str(err.value)


def test_a_data_folder_that_is_a_file_is_named_as_such(tmp_path):
    (tmp_path / "data.txt").write_text("not a folder")
    with pytest.raises(DataError, match=r"data.txt, which is a file, not a folder"):
        ensure_files("beauty", tmp_path / "data.txt")


def test_a_missing_file_names_the_file_and_where_to_get_it(register):
    folder = register("tiny", {"sequences": SEQUENCES, "attributes": ATTRIBUTES})
    (folder / "tiny" / "attributes").unlink()
    with pytest.raises(DataError) as err:
        load("tiny", data_dir=folder)
    msg = raised_by_onepoch(err)
    assert "missing file(s)" in msg and "tiny/attributes  <- https://example.invalid/tiny/attributes" in msg
    assert "tiny/sequences" not in msg  # only what is missing


# -- truncated / corrupted / unreadable files -----------------------------------------------------

@pytest.mark.parametrize("damage", ["truncate", "flip a byte", "flip a byte, keep the mtime", "empty"])
def test_a_damaged_file_is_a_checksum_mismatch_naming_it_and_the_fix(register, damage):
    folder = register("tiny", {"sequences": SEQUENCES, "attributes": ATTRIBUTES})
    load("tiny", data_dir=folder)  # verified once: the sha256 is memoised for this process
    path = folder / "tiny" / "sequences"
    st = path.stat()
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "empty":
        data = b""
    else:
        data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))
    if damage.endswith("keep the mtime"):
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    dataset.clear_memory_cache()
    with pytest.raises(DataError) as err:
        load("tiny", data_dir=folder)
    msg = raised_by_onepoch(err)
    assert f"checksum mismatch for {path}" in msg and "delete it and download it again" in msg


@needs_real_data
def test_a_truncated_copy_of_a_real_file_is_rejected(tmp_path):
    copy = tmp_path / "copy"
    (copy / "amazon-s3rec").mkdir(parents=True)
    for name in ("Beauty.txt", "Beauty_item2attributes.json"):
        shutil.copy(REAL / "amazon-s3rec" / name, copy / "amazon-s3rec" / name)
    target = copy / "amazon-s3rec" / "Beauty.txt"
    target.write_bytes(target.read_bytes()[:100_000])  # a download cut short
    with pytest.raises(DataError) as err:
        load("beauty", data_dir=copy)
    assert f"checksum mismatch for {target}" in raised_by_onepoch(err)


def test_an_unreadable_file_is_a_data_error(register, monkeypatch):
    folder = register("tiny", {"sequences": SEQUENCES, "attributes": ATTRIBUTES})

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(files, "_hash_file", denied)  # (chmod does not stop root, who runs CI)
    with pytest.raises(DataError) as err:
        ensure_files("tiny", folder)
    msg = raised_by_onepoch(err)
    assert f"cannot read {folder / 'tiny' / 'sequences'} (Permission denied)" in msg and "readable" in msg


# -- malformed content (a file whose pinned sha256 is that of the malformed content) --------------

@pytest.mark.parametrize("sequences, line, fragment", [
    (SEQUENCES.replace("\n3 ", "\nu3 ", 1), 3, "id 'u3' is not an integer"),
    (SEQUENCES.replace("\n5 ", "\n5 4 x ", 1), 5, "id 'x' is not an integer"),
    (SEQUENCES.replace("\n", "\n\n", 2).replace("\n\n", "\n", 1), 3, "an empty line"),
    ("1 2 3\n2\n", 2, "a user without items"),
    ("1 2 3\n2 4 0\n", 2, "item id 0 must be >= 1"),
    ("1 2 3\n2 4 5\n1 5 6\n", 3, "user 1 appears on more than one line"),
])
def test_a_malformed_interaction_line_names_file_line_and_fix(register, sequences, line, fragment):
    folder = register("tiny", {"sequences": sequences, "attributes": ATTRIBUTES})
    with pytest.raises(DataError) as err:
        load("tiny", data_dir=folder)
    msg = raised_by_onepoch(err)
    assert f"{folder / 'tiny' / 'sequences'}, line {line}: " in msg and fragment in msg, msg
    assert "download it again" in msg


@pytest.mark.parametrize("inter, line, fragment", [
    (INTER.replace("\n3\t", "\nx3\t", 1), 12, "user_id 'x3' is not an integer"),
    (INTER.replace("\t4\t1001\n", "\t4\tnoon\n", 1), 3, "timestamp 'noon' is not a number"),
    (INTER.replace("\n", "\n\n", 4).replace("\n\n", "\n", 3), 5, "an empty line"),
    (INTER.replace("\t4\t1002\n", "\t1002\n", 1), 4, "3 columns"),
])
def test_a_malformed_ml100k_row_names_file_line_and_fix(register, inter, line, fragment):
    folder = register("tiny-ml", {"inter": inter, "item": ITEM}, reader="ml100k")
    with pytest.raises(DataError) as err:
        read_files("tiny-ml", ensure_files("tiny-ml", folder))
    msg = raised_by_onepoch(err)
    assert f"{folder / 'tiny-ml' / 'inter'}, line {line}: " in msg and fragment in msg, msg


def test_a_file_that_is_not_text_names_the_line(register):
    folder = register("tiny", {"sequences": SEQUENCES.encode()[:40] + b"\xff\xfe\x00\n" + b"9 1 2\n",
                               "attributes": ATTRIBUTES})
    with pytest.raises(DataError) as err:
        load("tiny", data_dir=folder)
    line = SEQUENCES.encode()[:40].count(b"\n") + 1
    assert f"sequences, line {line}: not UTF-8 text (byte 40)" in raised_by_onepoch(err)


def test_attribute_json_that_is_malformed_names_file_and_line(register):
    folder = register("tiny", {"sequences": SEQUENCES, "attributes": ATTRIBUTES[:-30] + ",\n" + ATTRIBUTES[-30:]})
    with pytest.raises(DataError) as err:
        load("tiny", data_dir=folder)
    assert "attributes, line 2: invalid JSON" in raised_by_onepoch(err)


def test_an_attribute_file_of_other_items_is_rejected(register):
    other = json.dumps({str(i): [1, 2] for i in range(500, 530)})  # another data set's items
    folder = register("tiny", {"sequences": SEQUENCES, "attributes": other})
    with pytest.raises(DataError) as err:
        load("tiny", data_dir=folder)
    msg = raised_by_onepoch(err)
    assert f"{folder / 'tiny' / 'attributes'} does not match {folder / 'tiny' / 'sequences'}" in msg
    assert "25 of the 25 items there have no entry" in msg and "same data set" in msg


def test_an_item_file_of_other_items_is_rejected(register):
    other = ITEM_HEADER + "".join(f"{i}\tFilm\t1995\tDrama\n" for i in range(900, 912))
    folder = register("tiny-ml", {"inter": INTER, "item": other}, reader="ml100k")
    with pytest.raises(DataError, match=r"item does not match .*inter: 12 of the 12 items"):
        read_files("tiny-ml", ensure_files("tiny-ml", folder))


def test_a_few_items_without_attributes_are_fine(register):
    attrs = json.dumps({str(i): [i % 4 + 1] for i in range(1, 24)})  # 2 of 25 items undescribed
    folder = register("tiny", {"sequences": SEQUENCES, "attributes": attrs})
    assert load("tiny", data_dir=folder).vocab_size > 0


# -- the raw files of the paper's own data sets (Amazon Book JSON, Taobao CSV) --------------------

def _review(user: str, asin: str, when: int) -> str:
    return json.dumps({"reviewerID": user, "asin": asin, "unixReviewTime": when, "overall": 5.0})


def _gz(path: Path, lines: list[str]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def _amazon(tmp_path, bad_reviews: list[str]) -> dict:
    reviews = [_review(f"U{u}", f"B{(u * 5 + k) % 40}", 1000 + k) for u in range(30) for k in range(20)]
    reviews[100:100] = bad_reviews
    meta = [repr({"asin": f"B{i}", "categories": [["Books", f"Cat{i % 3}"]]}) for i in range(40)]
    return {"reviews": _gz(tmp_path / "reviews_Books_5.json.gz", reviews),
            "meta": _gz(tmp_path / "meta_Books.json.gz", meta)}


def test_amazon_reviews_with_too_many_malformed_lines_are_rejected_naming_the_lines(tmp_path):
    from onepoch.data import amazon_book

    bad = ['{"reviewerID": "U1", "asin"'] * 6 + ['{"reviewerID": "U1", "unixReviewTime": 5}'] * 6
    paths = _amazon(tmp_path, bad)
    with pytest.raises(DataError) as err:
        amazon_book.prepare(paths)
    msg = raised_by_onepoch(err)
    assert str(paths["reviews"]) in msg and "12 of 612 reviews are malformed" in msg
    assert "line 101: not a JSON object" in msg and "Delete it and get it again" in msg


def test_amazon_reviews_with_a_few_malformed_lines_warn_naming_them(tmp_path):
    from onepoch.data import amazon_book

    paths = _amazon(tmp_path, ['{"reviewerID": "U1", "asin": "B1", "unixReviewTime": "May"}'])
    with pytest.warns(UserWarning, match=r"reviews_Books_5.json.gz: skipped 1 malformed review\(s\) of 601 "
                                         r"\(line 101: unixReviewTime missing"):
        prep = amazon_book.prepare(paths)
    assert prep.info["reviews"] == 600


def test_a_truncated_amazon_download_is_reported(tmp_path):
    from onepoch.data import amazon_book

    paths = _amazon(tmp_path, [])
    data = paths["reviews"].read_bytes()
    paths["reviews"].write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError) as err:
        amazon_book.prepare(paths)
    assert "is truncated or corrupted" in raised_by_onepoch(err)


def _taobao(tmp_path, bad_rows: list[str]) -> dict:
    rows = [f"{u},{1 + (u * 3 + k) % 30},{1 + k % 4},pv,{1511600000 + k}" for u in range(1, 41) for k in range(10)]
    rows[50:50] = bad_rows
    path = tmp_path / "UserBehavior.csv"
    path.write_text("\n".join(rows) + "\n")
    return {"behavior": path}


def test_taobao_csv_with_too_many_malformed_rows_is_rejected_naming_the_lines(tmp_path):
    from onepoch.data import taobao

    paths = _taobao(tmp_path, ["1,2,3,click,1511600000"] * 6 + ["1,2,3,pv"] * 6)
    with pytest.raises(DataError) as err:
        taobao.prepare(paths)
    msg = raised_by_onepoch(err)
    assert str(paths["behavior"]) in msg and "12 of 412 rows are malformed" in msg
    assert "line 51: unknown behavior_type 'click'" in msg


def test_taobao_csv_with_a_few_malformed_rows_warns_naming_them(tmp_path):
    from onepoch.data import taobao

    with pytest.warns(UserWarning, match=r"skipped 2 malformed row\(s\) of 402 \(line 51: an id or the timestamp "
                                         r"is not an integer; line 52: 3 fields"):
        prep = taobao.prepare(_taobao(tmp_path, ["1,x,3,pv,1511600000", "1,2,3"]))
    assert prep.info["clicks"] == 400


# -- corrupted cache files are detected and rebuilt, never used -------------------------------------

def _cache_file(data) -> Path:
    return dataset.cache_dir() / f"{data.checksum}.pt"


@pytest.mark.parametrize("damage", ["flip a byte in a tensor", "truncate", "garbage"])
def test_a_corrupted_data_cache_file_is_detected_and_rebuilt(register, damage, monkeypatch):
    folder = register("tiny", {"sequences": SEQUENCES, "attributes": ATTRIBUTES})
    first = load("tiny", data_dir=folder)
    path = _cache_file(first)
    blob = bytearray(path.read_bytes())
    if damage == "truncate":
        blob = blob[: len(blob) // 2]
    elif damage == "garbage":
        blob = bytearray(b"not a torch file")
    else:  # torch.load itself does not notice this one
        hist = first.train["hist_item_ids"].to(torch.int32).numpy().tobytes()
        at = bytes(blob).find(hist[64:128])
        assert at > 0
        blob[at] ^= 0x01
    path.write_bytes(bytes(blob))
    dataset.clear_memory_cache()
    with pytest.warns(UserWarning, match=f"data cache file {path} is unreadable"):
        again = load("tiny", data_dir=folder)
    for split in ("train", "test"):
        for key, value in getattr(first, split).items():
            assert torch.equal(getattr(again, split)[key], value), key
    assert torch.load(path, weights_only=True)["digest"] == dataset._digest(torch.load(path, weights_only=True))


def test_a_data_cache_file_without_a_digest_is_rebuilt_quietly(register):
    folder = register("tiny", {"sequences": SEQUENCES, "attributes": ATTRIBUTES})
    first = load("tiny", data_dir=folder)
    path = _cache_file(first)
    payload = torch.load(path, weights_only=True)
    del payload["digest"]  # as written before cache files had one
    torch.save(payload, path)
    dataset.clear_memory_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = load("tiny", data_dir=folder)
    assert torch.equal(again.train["label"], first.train["label"])
    assert "digest" in torch.load(path, weights_only=True)


def test_a_corrupted_prepared_data_file_is_detected_not_used(tmp_path):
    prep = prepared.Prepared(users=np.arange(3), offsets=np.array([0, 2, 4, 7]), items=np.arange(1, 8),
                             item_category=np.arange(8), info={"prep_version": prepared.PREP_VERSION},
                             names={"user": np.array(["a", "b", "c"])})
    path = tmp_path / "prep.npz"
    prepared._write(path, prep)
    assert prepared._read(path) is not None
    blob = bytearray(path.read_bytes())
    at = bytes(blob).find(np.arange(1, 8).tobytes())
    blob[at + 8] ^= 0x01  # inside `items`
    path.write_bytes(bytes(blob))
    with pytest.warns(UserWarning, match="prepared data file .* is unreadable"):
        assert prepared._read(path) is None
    assert not path.exists()
