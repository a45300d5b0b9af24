"""Readers of the raw formats: parsing, categories, errors naming file and line."""
import json
import time

import numpy as np
import pytest

from onepoch.data.readers import read_dataset, read_ml100k, read_s3rec
from onepoch.errors import DataError

from helpers import REAL, needs_shared

needs_real_data = needs_shared("amazon-s3rec")

INTER_HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
ITEM_HEADER = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"


def s3rec_files(tmp_path, lines: str, attributes=None) -> dict:
    seq = tmp_path / "Tiny.txt"
    seq.write_text(lines)
    attr = tmp_path / "Tiny_item2attributes.json"
    attr.write_text(json.dumps(attributes if attributes is not None else {"1": [7, 3], "2": [3]}))
    return {"sequences": seq, "attributes": attr}


def ml_files(tmp_path, inter_rows: str, item_rows: str) -> dict:
    (tmp_path / "t.inter").write_text(INTER_HEADER + inter_rows)
    (tmp_path / "t.item").write_text(ITEM_HEADER + item_rows)
    return {"inter": tmp_path / "t.inter", "item": tmp_path / "t.item"}


def test_s3rec_sequences_users_and_last_attribute_as_category(tmp_path):
    paths = s3rec_files(tmp_path, "1 1 2 3\n2 3 2\n5 4 1 1\n", {"1": [7, 3], "2": [3], "3": [], "4": [9, 2, 8]})
    inter = read_s3rec(paths)
    assert [s.tolist() for s in inter.sequences] == [[1, 2, 3], [3, 2], [4, 1, 1]]
    assert inter.users.tolist() == [1, 2, 5] and inter.users.dtype == np.int64
    assert inter.item_category.tolist() == [0, 3, 3, 0, 8]  # index 0 = padding; item 3 has no attribute
    assert len(inter.checksum) == 64


def test_checksum_follows_file_contents(tmp_path):
    first = read_s3rec(s3rec_files(tmp_path, "1 1 2\n")).checksum
    assert read_s3rec(s3rec_files(tmp_path, "1 1 2\n")).checksum == first
    assert read_s3rec(s3rec_files(tmp_path, "1 2 1\n")).checksum != first


@pytest.mark.parametrize("lines, line, fragment", [
    ("1 1 2\n2 x 3\n", 2, "'x' is not an integer"),
    ("1 1 2\n\n3 1 2\n", 2, "empty line"),
    ("1 1 2\n2\n", 2, "without items"),
    ("1 1 2\n2 1 0\n", 2, "item id 0 must be >= 1"),
    ("1 1 2\n2 1 2\n1 2 1\n", 3, "more than one line"),
])
def test_s3rec_errors_name_file_and_line(tmp_path, lines, line, fragment):
    with pytest.raises(DataError) as err:
        read_s3rec(s3rec_files(tmp_path, lines))
    assert f"Tiny.txt, line {line}: " in str(err.value) and fragment in str(err.value)
    assert "download" in str(err.value)


def test_s3rec_trailing_blank_lines_are_fine(tmp_path):
    assert read_s3rec(s3rec_files(tmp_path, "1 1 2\n\n\n")).n_users == 1


def test_s3rec_bad_json_names_file_and_line(tmp_path):
    paths = s3rec_files(tmp_path, "1 1 2\n")
    paths["attributes"].write_text('{"1": [1],\n "2": [2,}')
    with pytest.raises(DataError, match=r"Tiny_item2attributes.json, line 2"):
        read_s3rec(paths)


def test_ml100k_sorts_by_timestamp_stably_and_codes_first_genre(tmp_path):
    inter = ml_files(tmp_path,
                     "2\t10\t3\t500\n1\t11\t4\t300\n1\t10\t5\t100\n1\t12\t3\t300\n2\t13\t1\t400\n",
                     "10\tA\t1995\tDrama Comedy\n11\tB\t1994\tAction\n12\tC\t1990\tunknown\n13\tD\t1999\tComedy\n")
    data = read_ml100k(inter)
    assert data.users.tolist() == [1, 2]
    assert [s.tolist() for s in data.sequences] == [[10, 11, 12], [13, 10]]  # 11 and 12 tie: file order
    # genres sorted: Action=1, Comedy=2, Drama=3; "unknown" -> 0
    assert data.item_category[[10, 11, 12, 13]].tolist() == [3, 1, 0, 2]


@pytest.mark.parametrize("inter_rows, line, fragment", [
    ("1\t10\t3\t5\n1\t10\t3\n", 3, "3 columns"),
    ("1\t10\t3\t5\nu2\t10\t3\t6\n", 3, "user_id 'u2' is not an integer"),
    ("1\t10\t3\t5\n\n1\t10\t3\t6\n", 3, "empty line"),
    ("1\t10\t3\tnoon\n", 2, "timestamp 'noon' is not a number"),
])
def test_ml100k_errors_name_file_and_line(tmp_path, inter_rows, line, fragment):
    with pytest.raises(DataError) as err:
        read_ml100k(ml_files(tmp_path, inter_rows, "10\tA\t1995\tDrama\n"))
    assert f"t.inter, line {line}: " in str(err.value) and fragment in str(err.value)


def test_ml100k_missing_header_column(tmp_path):
    paths = ml_files(tmp_path, "", "10\tA\t1995\tDrama\n")
    paths["inter"].write_text("user_id:token\titem_id:token\n1\t10\n")
    with pytest.raises(DataError, match=r"t.inter, line 1: .*\['timestamp'\]"):
        read_ml100k(paths)


@needs_real_data
@pytest.mark.parametrize("name, users, items, interactions", [
    ("beauty", 22363, 12101, 198502),
    ("ml-100k", 943, 1682, 100000),
])
def test_real_files_match_their_published_sizes_and_read_fast(name, users, items, interactions):
    start = time.perf_counter()
    inter = read_dataset(name, REAL)
    assert time.perf_counter() - start < 2.0  # well under a second on a quiet machine
    assert inter.n_users == users and inter.n_interactions == interactions
    assert len(np.unique(np.concatenate(inter.sequences))) == items
    assert (inter.item_category[1:] > 0).mean() > 0.99
