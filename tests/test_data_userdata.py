"""Your own data sets: `onepoch data add` / `onepoch.data.add` for the three formats, and their errors."""
import json
import tracemalloc

import numpy as np
import pytest

from onepoch import RunConfig
from onepoch.data import load, registry, userdata
from onepoch.data.register import add
from onepoch.errors import DataError

pytestmark = pytest.mark.usefixtures("isolated_data_cache")


def write_log(path, users=30, items=25, per_user=6, seed=0, big=False):
    """A CSV log: user,item,time,category, rows shuffled (the reader sorts by time)."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(users):
        for t in rng.permutation(per_user):
            item = int(rng.integers(items))
            raw = 2**62 + item if big else item
            rows.append(f"u{u},{raw},{1_600_000_000 + 60 * int(t)},cat{item % 4}")
    rng.shuffle(rows)
    path.write_text("user,item,time,category\n" + "\n".join(rows) + "\n")
    return path


def write_sequences(path, users=30, items=25, length=6, seed=0, offset=0):
    rng = np.random.default_rng(seed)
    lines = [" ".join(str(offset + x) for x in [u + 1, *rng.integers(1, items + 1, length)]) for u in range(users)]
    path.write_text("\n".join(lines) + "\n")
    return path


# -- interactions ------------------------------------------------------------------------------

def test_an_added_log_works_everywhere_a_builtin_name_does(data_folder):
    entry = add("mylog", write_log(data_folder / "log.csv"), user="user", item="item", time="time", category="category")
    assert entry["format"] == "interactions" and entry["file"] == "log.csv"
    manifest = registry.manifest_path(data_folder).read_text()
    assert '["mylog"]' in manifest and entry["file_sha256"] in manifest
    assert "mylog" in registry.names()
    RunConfig(dataset="mylog")  # validates
    data = load("mylog")
    assert data.fields == ("user_id", "item_id", "cat_id", "hist_item_ids", "hist_cat_ids")
    assert len(data.train["label"]) > 0 and data.vocab_size > 2
    assert (data.train["cat_id"] > 0).any()  # categories came through


def test_a_log_is_sorted_by_time_per_user(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("user,item,time\nb,x,3\na,y,2\na,x,1\nb,z,1\na,z,3\n")
    inter = userdata.read_interactions(path, dict(user="user", item="item", time="time"), "t", "0")
    # items numbered by sorted text: x=1, y=2, z=3; user a: x(1) y(2) z(3); user b: z(1) x(3)
    assert [s.tolist() for s in inter.sequences] == [[1, 2, 3], [3, 1]]


def test_dates_are_accepted_as_time(tmp_path):
    path = tmp_path / "log.tsv"
    path.write_text("u\ti\tt\n1\t5\t2024-01-02\n1\t6\t2024-01-01\n")
    inter = userdata.read_interactions(path, dict(user="u", item="i", time="t"), "t", "0")
    assert inter.sequences[0].tolist() == [2, 1]


def test_a_missing_column_is_named_with_a_preview_of_the_columns(data_folder):
    path = write_log(data_folder / "log.csv")
    with pytest.raises(DataError) as err:
        add("mylog", path, user="user_id", item="item", time="time")
    msg = str(err.value)
    assert f"{path}, line 1: no column 'user_id' (the --user column)" in msg
    assert "user='u" in msg and "pass --user with one of them" in msg
    assert not registry.manifest_path(data_folder).exists()  # nothing written


@pytest.mark.parametrize("body, line, cause", [
    ("u,i,t\na,x,1\n,y,2\n", 3, "empty user"),
    ("u,i,t\na,x,1\nb,y,yesterday\n", 3, "time 'yesterday'"),
    ("u,i,t\na,x,1\nb,y,2,extra\n", 3, "4 columns"),
    ("", None, "empty file"),
])
def test_bad_log_rows_name_file_line_and_cause(data_folder, body, line, cause):
    path = data_folder / "log.csv"
    path.write_text(body)
    with pytest.raises(DataError) as err:
        add("mylog", path, user="u", item="i", time="t")
    msg = str(err.value)
    assert str(path) in msg and cause in msg and len(msg.splitlines()) == 1
    if line:
        assert f"line {line}" in msg


def test_a_changed_file_is_refused_with_the_fix(data_folder):
    path = write_log(data_folder / "log.csv")
    add("mylog", path, user="user", item="item", time="time")
    path.write_text(path.read_text() + "u1,3,1600009999,cat3\n")
    with pytest.raises(DataError, match="checksum mismatch.*onepoch data add mylog"):
        load("mylog")


def test_names_must_be_new_and_simple(data_folder):
    path = write_log(data_folder / "log.csv")
    for bad in ("sports", "add", "My Log", "../x"):
        with pytest.raises(DataError):
            add(bad, path, user="user", item="item", time="time")


# -- sequences -----------------------------------------------------------------------------------

def test_an_s3rec_file_with_attributes_is_added_and_loaded(data_folder):
    seq = write_sequences(data_folder / "seq.txt")
    (data_folder / "attrs.json").write_text(json.dumps({str(i): [100 + i % 3, 200 + i % 5] for i in range(1, 26)}))
    entry = add("myseq", seq, "sequences", attributes=data_folder / "attrs.json")
    assert entry["attributes"] == "attrs.json"
    data = load("myseq")
    assert (data.train["cat_id"] > 0).all() and data.vocab.kind_sizes()["category"] == 5  # last attribute


@pytest.mark.parametrize("body, line, cause", [
    ("1 2 3\n\n2 3 4\n", 2, "an empty line"),
    ("1 2 3\n2\n", 2, "a user without items"),
    ("1 2 3\n1 4 5\n", 2, "appears on more than one line"),
])
def test_bad_sequence_lines_name_file_line_and_cause(data_folder, body, line, cause):
    path = data_folder / "seq.txt"
    path.write_text(body)
    with pytest.raises(DataError) as err:
        add("myseq", path, "sequences")
    assert f"{path}, line {line}: " in str(err.value) and cause in str(err.value)


def test_bad_attributes_json_is_named(data_folder):
    seq = write_sequences(data_folder / "seq.txt")
    (data_folder / "a.json").write_text('{"1": [2,\n')
    with pytest.raises(DataError, match=r"a.json, line \d+: invalid JSON"):
        add("myseq", seq, "sequences", attributes=data_folder / "a.json")
    (data_folder / "a.json").write_text('{"999": [2]}')
    with pytest.raises(DataError, match="does not match"):
        add("myseq", seq, "sequences", attributes=data_folder / "a.json")


# -- memory does not depend on the raw ID values --------------------------------------------------

def test_ids_near_2_to_the_62_are_read_in_bounded_memory(data_folder):
    seq = write_sequences(data_folder / "seq.txt", offset=2**62)
    log = write_log(data_folder / "log.csv", big=True)
    tracemalloc.start()
    add("bigseq", seq, "sequences")
    add("biglog", log, user="user", item="item", time="time")
    a, b = load("bigseq"), load("biglog")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    assert a.vocab_size < 100 and b.vocab_size < 100
    assert int(a.train["user_raw"].max()) < 30  # users numbered densely too


def test_vocabulary_tables_do_not_grow_with_raw_ids():
    from onepoch.data.vocab import Vocabulary

    raw = {"user_raw": np.array([2**62, 5]), "item": np.array([2**61, 3]), "category": np.array([7, 2**60]),
           "hist_items": np.array([[2**61, 0]]), "hist_cats": np.array([[7, 0]]), "label": np.array([1.0, 0.0])}
    tracemalloc.start()
    vocab = Vocabulary.fit(raw)
    ids = vocab.lookup("item", [2**61, 3, 4, 0])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2**20 and ids[0] > 1 and ids[1] > 1 and ids[2] == 1 and ids[3] == 0


def test_the_python_api_is_onepoch_data_add(data_folder):
    import onepoch.data

    entry = onepoch.data.add("viapython", write_log(data_folder / "log.csv"), user="user", item="item", time="time")
    assert entry["format"] == "interactions" and "viapython" in onepoch.data.names()
    assert onepoch.data.load("viapython").name == "viapython"


def test_a_taobao_item_id_near_2_to_the_31_is_a_malformed_row_not_a_16_gib_table():
    from onepoch.data import taobao

    assert "item_id 2147483000 out of range" in taobao.parse_row(b"1,2147483000,3,pv,1511544070")
    assert not isinstance(taobao.parse_row(b"1,5163069,3,pv,1511544070"), str)


def test_a_moved_file_is_listed_as_missing_with_how_to_add_it_again(data_folder, capsys):
    from onepoch.cli import main

    path = write_log(data_folder / "log.csv")
    add("mylog", path, user="user", item="item", time="time")
    assert main(["data"]) == 0 and "mylog        ok" in capsys.readouterr().out
    path.rename(data_folder / "moved.csv")
    assert main(["data", "mylog"]) == 1
    out = capsys.readouterr().out
    assert "mylog        MISSING" in out and "onepoch data add mylog FILE" in out and str(path) in out
    with pytest.raises(DataError, match="add it again if it moved"):
        load("mylog")
