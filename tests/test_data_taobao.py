"""Taobao (Tianchi UserBehavior.csv) on small CSV files written here with the real columns.

`user_id,item_id,category_id,behavior_type,timestamp`, no header, behavior
types pv / buy / cart / fav, with malformed rows. `write_user_behavior` also
makes realistic large files for measuring the preparation's memory:

    python -c "import sys; sys.path.insert(0, 'tests'); import test_data_taobao as t; \\
               t.write_user_behavior('/tmp/UserBehavior.csv', n_users=150_000)"
"""
import dataclasses
import gzip
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from onepoch.config import RunConfig
from onepoch.data import load, paper_table2, prepared, readers, sources, taobao
from onepoch.data.samples import build_samples
from onepoch.errors import DataError

NAME = "taobao"
START = 1511539200  # 2017-11-25 00:00 China time
SHARES = {"pv": 0.8958, "cart": 0.0552, "fav": 0.0289, "buy": 0.0201}  # the published file's mix


def write_user_behavior(path, n_users: int, rows_per_user: float = 101.4, items_per_user: float = 4.2,
                        n_categories: int = 9_439, seed: int = 0, grouped: bool = True,
                        chunk_users: int = 20_000) -> Path:
    """A UserBehavior.csv-like file: long-tailed users and items, grouped by user, time-ordered within.

    Defaults follow the published file (100.15 M rows, 988 k users, 4.16 M
    items, 9.4 k categories, 89.6 % clicks); `grouped=False` shuffles rows
    within each chunk of users (then they are neither contiguous nor ordered).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_items = max(int(items_per_user * n_users), 10)
    user_ids = np.sort(rng.choice(int(n_users * 1.03) + 10, size=n_users, replace=False)) + 1
    kinds = np.array(list(SHARES))
    with open(path, "w") as out:
        for first in range(0, n_users, chunk_users):
            users = user_ids[first:first + chunk_users]
            counts = np.maximum(1, rng.lognormal(np.log(rows_per_user) - 0.5, 1.0, size=len(users)).astype(np.int64))
            user = np.repeat(users, counts)
            n = len(user)
            item = (n_items * rng.random(n) ** 2.5).astype(np.int64) + 1  # long-tailed popularity
            category = (item * 2_654_435_761) % n_categories + 1
            kind = kinds[rng.choice(len(kinds), size=n, p=list(SHARES.values()))]
            when = START + rng.integers(0, 9 * 86_400, size=n)
            order = np.lexsort((when, user)) if grouped else rng.permutation(n)
            frame = pd.DataFrame({"u": user[order], "i": item[order], "c": category[order], "b": kind[order],
                                  "t": when[order]})
            frame.to_csv(out, header=False, index=False)
    return path


@dataclasses.dataclass
class Raw:
    folder: Path
    rows: list  # (user, item, category, behavior, timestamp, file position) of the valid rows

    def clicks(self) -> dict[int, list[tuple[int, int]]]:
        """user -> [(item, category)] of pv rows sorted by time, ties in file order (independent of the code)."""
        out = {}
        for user, item, category, behavior, when, pos in sorted(self.rows, key=lambda r: (r[0], r[4], r[5])):
            if behavior == "pv":
                out.setdefault(user, []).append((item, category))
        return out

    def last_category(self) -> dict[int, int]:
        return {item: category for _, item, category, behavior, _, _ in self.rows if behavior == "pv"}


def make_raw(folder: Path, shuffle: bool = False, seed: int = 0, name: str = "UserBehavior.csv") -> Raw:
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, 121):
        n = {1: 1, 2: 2, 3: 130}.get(user, int(rng.integers(1, 40)))  # a lone click, a pair, a long history
        for k in range(n):
            item = int(min(rng.zipf(1.5), 200))
            behavior = "pv" if user <= 3 else str(rng.choice(list(SHARES), p=list(SHARES.values())))
            when = START + int(rng.integers(0, 50)) * 600  # many ties
            rows.append((user, item, item % 13 + 1, behavior, when))
    rows.append((5, 7, 99, "pv", START + 10**6))  # item 7 changes category on a late row: the last row wins
    if shuffle:
        rows = [rows[i] for i in rng.permutation(len(rows))]
    lines = [",".join(map(str, r)) for r in rows]
    valid = [(*r, pos) for pos, r in enumerate(rows)]
    bad = ["5,6,7,pv", "5,6,7,pv,1511539200,9", "5,x,7,pv,1511539200", "5,6,7,click,1511539200",
           "5,0,7,pv,1511539200", "5,6,7,pv,99999999999999999999999"]
    for k, line in enumerate(bad):
        lines.insert(40 * (k + 1), line)  # between valid rows: their file order is unchanged
    lines.insert(3, "")  # blank lines are not rows
    lines.insert(10, '"4","6","7","pv","1511539200"')  # quoted fields are fine
    valid.insert(0, (4, 6, 7, "pv", START, -1))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / NAME / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return Raw(folder, sorted(valid, key=lambda r: r[5]))


pytestmark = pytest.mark.usefixtures("isolated_data_cache")


@pytest.fixture
def raw(tmp_path) -> Raw:
    return make_raw(tmp_path / "data")


def prepare(raw: Raw, **kw) -> prepared.Prepared:
    paths = sources.ensure_files(NAME, raw.folder)
    with pytest.warns(UserWarning, match="skipped 6 malformed row"):
        return taobao.prepare(paths, **kw) if kw else prepared.load_prepared(NAME, paths)


def sequences(prep: prepared.Prepared) -> dict[int, list[tuple[int, int]]]:
    return {int(u): [(int(i), int(prep.item_category[i])) for i in prep.items[prep.offsets[k]:prep.offsets[k + 1]]]
            for k, u in enumerate(prep.users)}


# -- parsing ---------------------------------------------------------------------------------

def test_parse_row_names_what_is_wrong():
    assert taobao.parse_row(b"1,2268318,2520377,pv,1511544070") == (1, 2268318, 2520377, 0, 1511544070)
    assert taobao.parse_row(b"1,2,3,buy,5") == (1, 2, 3, 1, 5)
    assert "4 fields" in taobao.parse_row(b"1,2,3,pv")
    assert "6 fields" in taobao.parse_row(b"1,2,3,pv,5,6")
    assert "not an integer" in taobao.parse_row(b"1,2.5,3,pv,5")
    assert "unknown behavior_type 'click'" in taobao.parse_row(b"1,2,3,click,5")
    assert "item_id 0" in taobao.parse_row(b"1,0,3,pv,5")
    assert "user_id" in taobao.parse_row(b"-1,2,3,pv,5")
    assert "not an integer" in taobao.parse_row(b"user_id,item_id,category_id,behavior_type,timestamp")


# -- preparation --------------------------------------------------------------------------------

def test_prepare_keeps_clicks_ordered_by_time_with_ties_in_file_order(raw):
    prep = prepare(raw)
    assert sequences(prep) == {u: [(i, raw.last_category()[i]) for i, _ in s] for u, s in raw.clicks().items()}
    info = prep.info
    assert info["malformed"] == 6 and info["rows"] == len(raw.rows) + 6
    assert info["rows_by_behavior"] == dict(Counter(r[3] for r in raw.rows))
    assert info["clicks"] == sum(r[3] == "pv" for r in raw.rows) and info["file_grouped_and_time_ordered"] is False


def test_an_items_category_is_the_one_on_its_last_click_row(raw):
    prep = prepare(raw)
    assert prep.item_category[7] == 99
    for item, category in raw.last_category().items():
        assert prep.item_category[item] == category


def test_blocks_of_any_size_give_the_same_result_and_exact_line_numbers(raw):
    whole = prepare(raw, block_bytes=1 << 20)
    bad = prepared.BadRows(raw.folder / NAME / "UserBehavior.csv")
    pieces = []
    with prepared.open_binary(raw.folder / NAME / "UserBehavior.csv") as (stream, _, _):
        for first_line, block in taobao._blocks(stream, 997):
            pieces.append(taobao.parse_block(block, first_line, bad))
    lines = (raw.folder / NAME / "UserBehavior.csv").read_text().split("\n")
    for example in bad.examples:
        number = int(example.split(":")[0].split()[1])
        assert lines[number - 1] in ("5,6,7,pv", "5,6,7,pv,1511539200,9", "5,x,7,pv,1511539200",
                                     "5,6,7,click,1511539200", "5,0,7,pv,1511539200")
    assert bad.count == 6 and sum(p[-1] for p in pieces) == whole.info["rows"]
    small = prepare(raw, block_bytes=997)  # about 30 blocks, cut mid-line
    for key in ("users", "offsets", "items", "item_category"):
        assert np.array_equal(getattr(small, key), getattr(whole, key))


def test_a_file_in_any_row_order_gives_the_same_sequences(tmp_path):
    ordered = make_raw(tmp_path / "a")
    shuffled = make_raw(tmp_path / "b", shuffle=True)
    a, b = prepare(ordered), prepare(shuffled)
    assert sequences(b) == {u: [(i, shuffled.last_category()[i]) for i, _ in s] for u, s in shuffled.clicks().items()}
    assert b.info["file_grouped_and_time_ordered"] is False
    assert sorted(sequences(a)) == sorted(sequences(b))


def test_a_grouped_time_ordered_file_needs_no_sort(tmp_path):
    path = write_user_behavior(tmp_path / "data" / NAME / "UserBehavior.csv", n_users=300)
    prep = prepared.load_prepared(NAME, sources.ensure_files(NAME, tmp_path / "data"))
    assert prep.info["file_grouped_and_time_ordered"] is True and prep.info["malformed"] == 0
    frame = pd.read_csv(path, header=None, names=list(taobao.COLUMNS))
    clicks = frame[frame.behavior_type == "pv"]
    assert len(prep.items) == len(clicks) and np.array_equal(prep.items, clicks.item_id.to_numpy())
    assert np.array_equal(prep.users, clicks.user_id.unique())


@pytest.mark.parametrize("kind", ["zip", "gz"])
def test_the_downloaded_zip_or_a_gzip_is_read_as_it_is(raw, tmp_path, kind):
    csv = raw.folder / NAME / "UserBehavior.csv"
    plain = prepare(raw, block_bytes=1 << 20)
    if kind == "zip":
        with zipfile.ZipFile(csv.with_name("UserBehavior.csv.zip"), "w", zipfile.ZIP_DEFLATED) as z:
            z.write(csv, "UserBehavior.csv")
    else:
        csv.with_name("UserBehavior.csv.gz").write_bytes(gzip.compress(csv.read_bytes()))
    csv.unlink()
    paths = sources.ensure_files(NAME, raw.folder)
    assert paths["behavior"].name.endswith(kind)
    with pytest.warns(UserWarning, match="skipped 6"):
        other = taobao.prepare(paths)
    assert np.array_equal(other.items, plain.items) and np.array_equal(other.offsets, plain.offsets)


def test_an_archive_with_several_csv_files_is_refused(tmp_path):
    (tmp_path / NAME).mkdir()
    with zipfile.ZipFile(tmp_path / NAME / "UserBehavior.csv.zip", "w") as z:
        z.writestr("a.csv", "1,2,3,pv,4\n")
        z.writestr("b.csv", "1,2,3,pv,4\n")
    with pytest.raises(DataError, match="expected one file ending with .csv"):
        prepared.load_prepared(NAME, sources.ensure_files(NAME, tmp_path))


def test_a_wrong_file_is_rejected(tmp_path):
    path = tmp_path / NAME / "UserBehavior.csv"
    path.parent.mkdir()
    path.write_text("1,2,3,pv,4\n" * 500 + "a;b;c\n" * 11)
    with pytest.raises(DataError, match="11 of 511 rows are malformed"):
        prepared.load_prepared(NAME, sources.ensure_files(NAME, tmp_path))
    path.write_text("1,2,3,buy,4\n" * 5)
    with pytest.raises(DataError, match="no clicks"):
        prepared.load_prepared(NAME, sources.ensure_files(NAME, tmp_path))


# -- samples: every rule -------------------------------------------------------------------------

def raw_samples(raw: Raw, seed: int = 0, **kw):
    args = dict(construction="last", max_history=100, min_history=1, test_users=0.1, seed=seed) | kw
    return build_samples(readers.read_files(NAME, sources.ensure_files(NAME, raw.folder)), **args)


def test_each_users_last_click_is_a_pair_with_the_clicks_before_it(raw):
    prep = prepare(raw)
    clicks = {u: [i for i, _ in s] for u, s in raw.clicks().items()}
    for max_history in (100, 5):
        train, test = raw_samples(raw, max_history=max_history)
        seen = set()
        for split in (train, test):
            assert np.array_equal(split["label"], np.tile([1.0, 0.0], len(split["label"]) // 2))
            assert np.array_equal(split["user_raw"][0::2], split["user_raw"][1::2])
            assert np.array_equal(split["hist_items"][0::2], split["hist_items"][1::2])
            for row in range(0, len(split["label"]), 2):
                user = int(split["user_raw"][row])
                assert split["item"][row] == clicks[user][-1]
                hist = split["hist_items"][row]
                length = int((hist > 0).sum())
                assert (hist[length:] == 0).all() and hist[:length].tolist() == clicks[user][:-1][-max_history:]
                assert np.array_equal(split["hist_cats"][row][:length], prep.item_category[hist[:length]])
                seen.add(user)
        assert seen == {u for u, s in clicks.items() if len(s) >= 2}  # a lone click has no history
        assert 1 not in seen and 2 in seen
        assert train["hist_items"].shape[1] == min(max_history, 129)


def test_negatives_are_clicked_items_by_popularity_and_never_the_positive(raw):
    prep = prepare(raw)
    hits = Counter()
    for seed in range(10):
        for split in raw_samples(raw, seed=seed):
            positive, negative = split["item"][0::2], split["item"][1::2]
            assert (negative != positive).all() and set(negative.tolist()) <= set(prep.items.tolist())
            assert np.array_equal(split["category"][1::2], prep.item_category[negative])
            hits.update(negative.tolist())
    clicks = np.bincount(prep.items)
    assert hits[int(np.argmax(clicks))] > 0.2 * sum(hits.values())  # item 1 gets most clicks (zipf)


def test_users_are_split_90_10_and_never_in_both(raw):
    prepare(raw)
    train, test = raw_samples(raw)
    a, b = set(train["user_raw"].tolist()), set(test["user_raw"].tolist())
    assert not a & b and len(b) == round(0.1 * len(a | b))


def test_load_defaults_contract_and_vocabulary(raw):
    prepare(raw)
    data = load(NAME, data_dir=raw.folder)
    assert (data.construction, data.params["max_history"], data.params["min_history"]) == ("last", 100, 1)
    assert data.fields == ("user_id", "item_id", "cat_id", "hist_item_ids", "hist_cat_ids")
    assert data.train["hist_item_ids"].dtype == torch.int64 and data.train["hist_item_ids"].shape[1] == 100
    vocab = data.vocab
    assert vocab.counts[0] == vocab.counts[1] == 0 and (np.diff(vocab.counts[2:]) <= 0).all()
    train_raw, test_raw = raw_samples(raw)
    assert np.array_equal(vocab.raw[data.train["hist_item_ids"].numpy()[data.train["hist_item_ids"].numpy() > 0]],
                          train_raw["hist_items"][train_raw["hist_items"] > 0])
    assert ((data.train["hist_item_ids"] == 0) == torch.from_numpy(train_raw["hist_items"] == 0)).all()
    known = set(train_raw["item"].tolist()) | set(train_raw["hist_items"].reshape(-1).tolist())
    assert np.array_equal(data.test["item_id"].numpy() == 1, ~np.isin(test_raw["item"], list(known)))
    assert RunConfig(dataset=NAME).dataset == NAME


def test_positions_beyond_the_memory_budget_asks_for_a_user_subset(raw, monkeypatch):
    prepare(raw)
    monkeypatch.setenv("ONEPOCH_MAX_DATA_GB", "0.001")
    with pytest.raises(DataError, match="max_users"):
        load(NAME, construction="positions", data_dir=raw.folder)
    lengths = np.diff(prepared.load_prepared(NAME, sources.ensure_files(NAME, raw.folder)).offsets)
    need = prepared.estimated_bytes(lengths, "positions", 100, 1, 20)
    monkeypatch.setenv("ONEPOCH_MAX_DATA_GB", str(need * 1.01 / 1e9))
    small = load(NAME, construction="positions", max_users=20, data_dir=raw.folder)
    assert len(torch.unique(torch.cat([small.train["user_raw"], small.test["user_raw"]]))) <= 20


def test_table2_leaves_users_out_of_all_like_the_paper(raw, capsys):
    prepare(raw)
    frame = paper_table2.print_table2(NAME, data_dir=raw.folder)
    assert "(paper: 987,648)" in capsys.readouterr().out
    assert pd.isna(frame.loc["user_id", "paper_unique_ids"]) and frame.loc["all", "paper_unique_ids"] == 4_049_291
    train, test = raw_samples(raw)
    items = set(np.concatenate([train["item"], test["item"], train["hist_items"].ravel(), test["hist_items"].ravel()]))
    cats = set(np.concatenate([train["category"], test["category"], train["hist_cats"].ravel(), test["hist_cats"].ravel()]))
    assert frame.loc["all", "unique_ids"] == len(items - {0}) + len(cats - {0})  # no users in "all"


# -- the file: where to get it ---------------------------------------------------------------------

def test_a_missing_file_says_where_to_get_it_and_where_to_put_it(tmp_path):
    for download in (False, True):
        with pytest.raises(DataError) as info:
            load(NAME, data_dir=tmp_path, download=download)
        message = str(info.value)
        assert "https://tianchi.aliyun.com/dataset/649" in message and "cannot be downloaded automatically" in message
        assert str(tmp_path / NAME / "UserBehavior.csv") in message and "UserBehavior.csv.zip" in message


def test_the_registry_entry_has_no_url_and_accepts_compressed_copies():
    (f,) = sources.DATASETS[NAME].files
    assert f.url is None and f.sha256 is None and f.path == "taobao/UserBehavior.csv"
    assert "taobao/UserBehavior.csv.zip" in f.alternatives and "taobao/UserBehavior.csv.gz" in f.alternatives
    assert sources.load_arguments(NAME) == {"construction": "last", "max_history": 100, "min_history": 1}
