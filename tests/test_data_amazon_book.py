"""Amazon Book (DIEN preprocessing) on small raw files written here in the real raw formats.

`reviews_Books_5.json.gz`: gzip, one JSON object per line with the real field
names; `meta_Books.json.gz`: gzip, one Python dict literal per line. Both
include malformed lines. Every rule of the preprocessing is checked against
an independent reading of the generated records.
"""
import dataclasses
import gzip
import hashlib
import io
import json
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from onepoch.config import RunConfig
from onepoch.data import amazon_book, dataset, load, paper_table2, prepared, readers, registry, sources
from onepoch.data.samples import build_samples
from onepoch.errors import DataError

NAME = "amazon-book"
T0 = 1_300_000_000
DAY = 86_400


def review_line(reviewer: str, asin: str, when, **extra) -> str:
    record = {"reviewerID": reviewer, "asin": asin, "reviewerName": "A. Reader", "helpful": [0, 1],
              "reviewText": "Could not put it down, a \"classic\".", "overall": 5.0, "summary": "Good",
              "unixReviewTime": when, "reviewTime": "03 13, 2011"} | extra
    return json.dumps(record)


def meta_line(asin: str, categories) -> str:
    record = {"asin": asin, "title": "Children's Book", "price": 9.99, "imUrl": "http://ecx.images-amazon.com/x.jpg",
              "related": {"also_bought": ["B000000001", "B000000002"]}, "salesRank": {"Books": 1234},
              "categories": categories}
    return repr(record)  # Python literal: single quotes, as in the real file


def write_gz(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


WORDS = ("the a an of to and in is was it this that book story read author character plot novel series "
         "love great good enjoyed recommend life world first end time people new writing style pages well "
         "though could would really loved fun interesting").split()


def write_amazon_books(folder, n_reviews: int, reviews_per_user: float = 14.7, reviews_per_item: float = 24.2,
                       meta_per_reviewed_item: float = 6.4, seed: int = 0) -> Path:
    """Realistic-size raw files: like the published ones (8.9 M reviews, 604 k users, 368 k items,
    2.37 M metadata lines), scaled to `n_reviews`, review texts of ~700 characters, written in
    item order as the published file is. For measuring the preparation's memory and time:

        python -c "import sys; sys.path.insert(0, 'tests'); import test_data_amazon_book as t; \\
                   t.write_amazon_books('/tmp/ab', 1_000_000)"
    """
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    n_users, n_items = int(n_reviews / reviews_per_user), int(n_reviews / reviews_per_item)
    user = rng.integers(0, n_users, size=n_reviews)
    item = np.sort((n_items * rng.random(n_reviews) ** 2).astype(np.int64))
    when = T0 + DAY * rng.integers(0, 5000, size=n_reviews)
    texts = [" ".join(rng.choice(WORDS, size=int(rng.integers(40, 240)))) for _ in range(4000)]
    pick = rng.integers(0, len(texts), size=n_reviews)
    (folder / NAME).mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / NAME / "reviews_Books_5.json.gz", "wt", compresslevel=1) as f:
        for k in range(n_reviews):
            f.write(review_line(f"A{user[k]:013d}", f"B{item[k]:09d}", int(when[k]), reviewText=texts[pick[k]]) + "\n")
    n_meta = int(n_items * meta_per_reviewed_item)
    with gzip.open(folder / NAME / "meta_Books.json.gz", "wt", compresslevel=1) as f:
        for i in rng.permutation(n_meta):
            related = [f"B{j:09d}" for j in rng.integers(0, n_meta, size=int(rng.integers(0, 60)))]
            record = {"asin": f"B{i:09d}", "salesRank": {"Books": int(i)}, "imUrl": "http://ecx.images-amazon.com/x.jpg",
                      "categories": [["Books", f"Genre{i % 31}", f"Sub{i % 1597}"]], "title": texts[i % len(texts)][:60],
                      "related": {"also_bought": related, "buy_after_viewing": related[:4]}}
            f.write(repr(record) + "\n")
    return folder


@dataclasses.dataclass
class Raw:
    folder: Path  # the data folder (holding amazon-book/)
    reviews: list  # (reviewer, asin, time, line number) of the valid reviews, in file order
    category: dict  # asin -> expected category ("" = unknown)

    def sequences(self) -> dict[str, list[str]]:
        """Each user's asins sorted by time, ties in file order -- written independently of the code."""
        out = {}
        for reviewer, asin, when, line in sorted(self.reviews, key=lambda r: (r[0], r[2], r[3])):
            out.setdefault(reviewer, []).append(asin)
        return out


def make_raw(folder: Path, seed: int = 0) -> Raw:
    rng = np.random.default_rng(seed)
    asins = [f"B{i:09d}" for i in range(60)]
    popularity = 1.0 / np.arange(1, len(asins) + 1)
    popularity /= popularity.sum()
    lengths = {"edge_short": 20, "edge_ok": 21, "long": 130}  # history 19 (out), 20 (in), 129 (cut to 100)
    lengths |= {f"A{u:04d}": int(rng.integers(10, 45)) for u in range(60)}
    records = []
    for reviewer, n in lengths.items():
        times = T0 + DAY * np.sort(rng.integers(0, 400, size=n))  # many ties: same day
        for when in times:
            records.append((reviewer, asins[rng.choice(len(asins), p=popularity)], int(when)))
    order = rng.permutation(len(records))  # file order is not time order
    lines = [review_line(*records[i]) for i in order]
    reviews = [(*records[i], position) for position, i in enumerate(order)]  # position: file order
    malformed = ['{"reviewerID": "A0001", "asin": "B000000001", "unixReviewTime": 13',  # truncated
                 '["not", "an", "object"]',
                 review_line("A0001", "", T0),  # empty asin
                 review_line("A0002", "B000000001", "1300000000"),  # time as a string
                 review_line("A0003", "B000000002", True)]  # a bool is not a time
    for k, bad in enumerate(malformed):
        lines.insert(100 * (k + 1), bad)  # between valid lines: their file order is unchanged
    lines.insert(7, "")  # a blank line is not a row
    # an older-style line: a Python dict literal in the reviews file is accepted
    lines.append(repr({"reviewerID": "long", "asin": asins[0], "unixReviewTime": T0 + 500 * DAY}))
    reviews.append(("long", asins[0], T0 + 500 * DAY, len(reviews)))

    category = {}
    meta = []
    for i, asin in enumerate(asins):
        if i == 5:
            continue  # no metadata at all
        if i == 6:
            meta.append(meta_line(asin, []))  # no categories
            category[asin] = ""
            continue
        cats = [["Books", f"Genre{i % 4}", f"Sub{i % 9}"], ["Kindle Store", "Other"]]
        meta.append(meta_line(asin, cats))
        category[asin] = f"Sub{i % 9}"  # DIEN: categories[0][-1]
    category[asins[5]] = ""
    meta.insert(3, meta_line(asins[1], [["Books", "Duplicate"]]))  # a later duplicate: the first line wins
    meta.append(meta_line("X000000000", [["Books", "Unreviewed"]]))  # nobody reviewed it
    meta.append("{'asin': 'X000000001', 'categories': [[ broken")  # unreviewed: skipped unparsed
    meta.append("{'title': 'no asin first', 'categories': [['Books']], 'asin': " + repr(asins[2]))  # malformed
    write_gz(folder / NAME / "reviews_Books_5.json.gz", lines)
    write_gz(folder / NAME / "meta_Books.json.gz", meta)
    return Raw(folder, reviews, category)


pytestmark = pytest.mark.usefixtures("isolated_data_cache")


@pytest.fixture
def raw(tmp_path) -> Raw:
    return make_raw(tmp_path / "data")


def paths_of(raw: Raw) -> dict:
    return sources.ensure_files(NAME, raw.folder)


def prepare(raw: Raw) -> prepared.Prepared:
    with pytest.warns(UserWarning) as caught:
        prep = prepared.load_prepared(NAME, paths_of(raw))
    messages = " | ".join(str(w.message) for w in caught)
    assert "skipped 5 malformed review(s) of" in messages and "skipped 1 malformed metadata line(s)" in messages
    return prep


def raw_samples(raw: Raw, seed: int = 0, **kw):
    args = dict(construction="last", max_history=100, min_history=20, test_users=0.1, seed=seed) | kw
    return build_samples(readers.read_files(NAME, paths_of(raw)), **args)


# -- parsing ------------------------------------------------------------------------------

def test_parse_review_accepts_json_and_python_literals_and_names_what_is_wrong():
    assert amazon_book.parse_review(review_line("A1", "B1", 7).encode()) == ("A1", "B1", 7)
    assert amazon_book.parse_review(b"{'reviewerID': 'A1', 'asin': 'B1', 'unixReviewTime': 7}") == ("A1", "B1", 7)
    assert "asin" in amazon_book.parse_review(review_line("A1", None, 7).encode())
    assert "reviewerID" in amazon_book.parse_review(b'{"asin": "B1", "unixReviewTime": 7}')
    assert "unixReviewTime" in amazon_book.parse_review(review_line("A1", "B1", 7.5).encode())
    assert "not a JSON object" in amazon_book.parse_review(b'{"reviewerID": "A1", "asin"')
    assert "not a JSON object" in amazon_book.parse_review(b"__import__('os').system('echo no eval')")


def test_parse_meta_takes_the_last_category_of_the_first_path():
    line = meta_line("B1", [["Books", "Literature & Fiction", "Classics"], ["Movies & TV"]]).encode()
    assert amazon_book.parse_meta(line) == ("B1", "Classics")
    assert amazon_book.parse_meta(meta_line("B1", []).encode()) == ("B1", None)
    assert amazon_book.parse_meta(meta_line("B1", [[]]).encode()) == ("B1", None)
    assert "asin" in amazon_book.parse_meta(b"{'title': 'x'}")
    assert "dict" in amazon_book.parse_meta(b"{'asin': 'B1', 'categories': [[")


# -- preparation ------------------------------------------------------------------------------

def test_prepare_orders_each_users_reviews_by_time_with_ties_in_file_order(raw):
    prep = prepare(raw)
    names = prep.names
    expected = raw.sequences()
    assert sorted(names["user"]) == sorted(expected)
    for u, reviewer in enumerate(names["user"]):
        items = prep.items[prep.offsets[u]:prep.offsets[u + 1]]
        assert [names["item"][i] for i in items] == expected[reviewer], reviewer
    assert prep.info["reviews"] == len(raw.reviews) and prep.info["reviews_malformed"] == 5
    assert prep.items.min() >= 1 and names["item"][0] == ""  # item 0 is padding


def test_prepare_reads_categories_dien_style(raw):
    prep = prepare(raw)
    cat_names = prep.names["category"]
    for item, asin in enumerate(prep.names["item"][1:], start=1):
        assert cat_names[prep.item_category[item]] == raw.category[asin], asin
    assert "Duplicate" not in cat_names and "Unreviewed" not in cat_names
    assert prep.item_category[0] == 0 and cat_names[0] == ""
    assert prep.info["meta_malformed"] == 1  # the unreviewed broken line was never parsed
    assert prep.info["items_without_category"] == 2


def test_too_many_malformed_lines_reject_the_file(raw):
    path = raw.folder / NAME / "reviews_Books_5.json.gz"
    write_gz(path, [review_line("A1", "B1", T0)] * 1000 + ["{broken"] * 11)  # > 1 % and > 10 lines
    with pytest.raises(DataError, match="11 of 1011 reviews are malformed"):
        prepared.load_prepared(NAME, paths_of(raw))


def test_a_truncated_download_is_reported_not_half_read(raw):
    path = raw.folder / NAME / "reviews_Books_5.json.gz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated or corrupted"):
        prepared.load_prepared(NAME, paths_of(raw))


def test_metadata_of_another_category_is_rejected(raw):
    write_gz(raw.folder / NAME / "meta_Books.json.gz", [meta_line("Z1", [["Toys"]])])
    with pytest.warns(UserWarning):
        with pytest.raises(DataError, match="none of its 1 items is a reviewed item"):
            prepared.load_prepared(NAME, paths_of(raw))


# -- samples: every rule ----------------------------------------------------------------------

def test_each_eligible_users_last_review_is_a_pair_with_the_last_100_earlier_reviews(raw):
    prepare(raw)
    names = prepared.load_prepared(NAME, paths_of(raw)).names
    expected = raw.sequences()
    train, test = raw_samples(raw)
    seen = set()
    for split in (train, test):
        user = names["user"][split["user_raw"]]
        assert np.array_equal(split["label"], np.tile([1.0, 0.0], len(user) // 2))  # positive, negative, ...
        assert np.array_equal(user[0::2], user[1::2])
        assert np.array_equal(split["hist_items"][0::2], split["hist_items"][1::2])
        for row in range(0, len(user), 2):
            sequence = expected[user[row]]
            assert names["item"][split["item"][row]] == sequence[-1]  # the LAST review is the positive
            hist = split["hist_items"][row]
            length = int((hist > 0).sum())
            assert (hist[:length] > 0).all() and (hist[length:] == 0).all()  # right-padded
            assert [names["item"][i] for i in hist[:length]] == sequence[:-1][-100:]  # most recent last
            seen.add(user[row])
    eligible = {u for u, s in expected.items() if len(s) - 1 >= 20}
    assert seen == eligible
    assert "edge_ok" in seen and "edge_short" not in seen  # history of exactly 20 is kept, 19 is not
    assert train["hist_items"].shape[1] == 100  # the 129-long history is cut to 100


def test_categories_of_targets_and_histories_follow_the_item_table(raw):
    prep = prepare(raw)
    train, _ = raw_samples(raw)
    assert np.array_equal(train["category"], prep.item_category[train["item"]])
    assert np.array_equal(train["hist_cats"], prep.item_category[train["hist_items"]])
    assert (train["hist_cats"][train["hist_items"] == 0] == 0).all()


def test_negatives_are_reviewed_items_by_popularity_and_never_the_positive(raw):
    prep = prepare(raw)
    reviewed = set(prep.items.tolist())
    hits = Counter()
    for seed in range(20):
        train, test = raw_samples(raw, seed=seed)
        for split in (train, test):
            positive, negative = split["item"][0::2], split["item"][1::2]
            assert (negative != positive).all()
            assert set(negative.tolist()) <= reviewed
            hits.update(negative.tolist())
    counts = np.bincount(prep.items)
    top, rare = int(np.argmax(counts)), int(np.argmin(np.where(counts > 0, counts, counts.max() + 1)))
    assert hits[top] > 5 * max(hits[rare], 1)  # drawn by popularity, not uniformly over items


def test_users_are_split_90_10_and_never_in_both(raw):
    prepare(raw)
    train, test = raw_samples(raw)
    train_users, test_users = set(train["user_raw"].tolist()), set(test["user_raw"].tolist())
    assert not train_users & test_users
    n = len(train_users | test_users)
    assert len(test_users) == round(0.1 * n)
    other, _ = raw_samples(raw, seed=1)
    assert set(other["user_raw"].tolist()) != train_users  # the split is seeded


# -- load(): the data contract, defaults, vocabulary -------------------------------------------------

def test_load_uses_diens_settings_and_the_data_contract(raw):
    prepare(raw)
    data = load(NAME, data_dir=raw.folder)
    assert data.construction == "last" and data.params["max_history"] == 100 and data.params["min_history"] == 20
    assert data.fields == ("user_id", "item_id", "cat_id", "hist_item_ids", "hist_cat_ids")
    for split in (data.train, data.test):
        assert split["hist_item_ids"].shape[1] == 100 and split["hist_item_ids"].dtype == torch.int64
        assert split["label"].dtype == torch.float32
    assert load(NAME, min_history=1, data_dir=raw.folder) is data  # 20 is the data set's floor
    fewer = load(NAME, min_history=30, data_dir=raw.folder)
    assert len(fewer.train["label"]) + len(fewer.test["label"]) < len(data.train["label"]) + len(data.test["label"])
    assert RunConfig(dataset=NAME).dataset == NAME


def test_vocabulary_is_by_descending_frequency_with_padding_0_and_default_1(raw):
    prepare(raw)
    data = load(NAME, data_dir=raw.folder)
    vocab = data.vocab
    assert vocab.counts[0] == vocab.counts[1] == 0
    assert (np.diff(vocab.counts[2:]) <= 0).all()
    counts = np.zeros(vocab.size, dtype=np.int64)
    for field in data.fields:
        values = data.train[field].reshape(-1).numpy()
        counts += np.bincount(values[values > 0], minlength=vocab.size)
    assert np.array_equal(counts, vocab.counts)  # the numbering counts every field of the training samples
    assert (data.train["item_id"] >= 2).all() and not (data.train["hist_item_ids"] == 1).any()
    train_raw, test_raw = raw_samples(raw)
    assert np.array_equal(vocab.raw[data.train["item_id"].numpy()], train_raw["item"])
    known = set(train_raw["item"].tolist()) | set(train_raw["hist_items"].reshape(-1).tolist())
    unseen = ~np.isin(test_raw["item"], list(known))
    assert np.array_equal(data.test["item_id"].numpy() == 1, unseen)  # unseen in training -> default id 1
    assert vocab.lookup("item", [10**6]).tolist() == [1]


def test_prepared_arrays_are_cached_and_reused(raw, monkeypatch):
    prepare(raw)
    first = load(NAME, data_dir=raw.folder)
    monkeypatch.setattr(amazon_book, "prepare", lambda paths: pytest.fail("prepared again"))
    dataset.clear_memory_cache()
    for f in dataset.cache_dir().glob("*.pt"):
        f.unlink()
    again = load(NAME, data_dir=raw.folder)
    assert again.checksum == first.checksum and torch.equal(again.train["item_id"], first.train["item_id"])
    other = load(NAME, max_history=30, data_dir=raw.folder)  # other samples, same prepared arrays
    assert other.train["hist_item_ids"].shape[1] == 30


def test_samples_that_would_not_fit_in_memory_are_refused_with_the_fix(raw, monkeypatch):
    prepare(raw)
    monkeypatch.setenv("ONEPOCH_MAX_DATA_GB", "0.004")
    with pytest.raises(DataError, match="needs about .* GB of memory.*max_users"):
        load(NAME, construction="positions", data_dir=raw.folder)
    monkeypatch.setenv("ONEPOCH_MAX_DATA_GB", "0.1")
    data = load(NAME, construction="positions", data_dir=raw.folder)  # every position with >= 20 before it
    assert len(data.train["label"]) > 2 * len(data.test["label"])


# -- Table 2 --------------------------------------------------------------------------------

def test_table2_counts_raw_ids_over_train_and_test_beside_the_papers(raw, capsys):
    prepare(raw)
    frame = paper_table2.print_table2(NAME, data_dir=raw.folder)
    out = capsys.readouterr().out
    assert "(paper: 150,016)" in out and "hist_item_ids" in out
    train, test = raw_samples(raw)
    both = {k: np.concatenate([train[k].reshape(-1), test[k].reshape(-1)]) for k in train}
    tokens = {"user_id": [("u", x) for x in both["user_raw"]],
              "item_id": [("i", x) for x in both["item"]], "cat_id": [("c", x) for x in both["category"] if x],
              "hist_item_ids": [("i", x) for x in both["hist_items"] if x],
              "hist_cat_ids": [("c", x) for x in both["hist_cats"] if x]}
    for field, values in tokens.items():
        assert frame.loc[field, "unique_ids"] == len(set(values))
        assert frame.loc[field, "mean_occurrences"] == pytest.approx(len(values) / len(set(values)))
    everything = [t for values in tokens.values() for t in values]
    assert frame.loc["all", "unique_ids"] == len(set(everything))
    assert frame.loc["all", "occurrences"] == len(everything)
    assert frame.loc["user_id", "paper_unique_ids"] == 75_008 and frame.loc["item_id", "paper_unique_ids"] == 85_473
    assert frame.loc["hist_item_ids", "paper_unique_ids"] == 347_016
    assert frame.attrs["samples"] == len(both["label"])
    again = paper_table2.table2(NAME, data_dir=raw.folder)  # from its small cache file
    assert again.equals(frame) and again.attrs["samples"] == frame.attrs["samples"]


# -- files: missing, downloaded, resumed -------------------------------------------------------------

def test_missing_files_say_what_to_download_and_where(tmp_path):
    with pytest.raises(DataError) as info:
        load(NAME, data_dir=tmp_path / "data")
    message = str(info.value)
    for file in ("reviews_Books_5.json.gz", "meta_Books.json.gz"):
        assert f"{registry.AMAZON_2014_URL}{file}" in message
        assert str(tmp_path / "data" / NAME / file) in message
    assert "download=True" in message and "Without internet" in message


def test_offline_download_explains_where_to_put_the_files(tmp_path, monkeypatch):
    def offline(request, timeout=None):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DataError) as info:
        load(NAME, data_dir=tmp_path, download=True)
    message = str(info.value)
    assert "could not download" in message and "Without internet on this machine" in message
    assert str(tmp_path / NAME / "meta_Books.json.gz") in message


@pytest.fixture
def served(tmp_path, monkeypatch):
    """amazon-book registered with file:// URLs of generated raw files; returns (data folder, origin)."""
    origin = make_raw(tmp_path / "origin").folder / NAME
    files = tuple(dataclasses.replace(f, url=(origin / Path(f.path).name).as_uri()) for f in sources.DATASETS[NAME].files)
    monkeypatch.setitem(sources.DATASETS, NAME, dataclasses.replace(sources.DATASETS[NAME], files=files))
    return tmp_path / "data", origin


def test_download_prints_the_sha256_to_pin_then_prepares(served, capsys):
    folder, origin = served
    with pytest.warns(UserWarning, match="malformed"):
        data = load(NAME, data_dir=folder, download=True)
    out = capsys.readouterr().out
    for name in ("reviews_Books_5.json.gz", "meta_Books.json.gz"):
        sha = sources._hash_file(origin / name)
        assert f"sha256 {sha}" in out and (folder / NAME / name).read_bytes() == (origin / name).read_bytes()
    assert "pin it" in out and not list((folder / NAME).glob("*.part"))
    assert len(data.train["label"]) > 0


def test_a_known_sha256_is_verified(served):
    folder, _ = served
    src = sources.DATASETS[NAME]
    bad = dataclasses.replace(src, files=(dataclasses.replace(src.files[0], sha256="0" * 64), src.files[1]))
    sources.DATASETS[NAME] = bad
    with pytest.raises(DataError, match="expected sha256 0000"):
        load(NAME, data_dir=folder, download=True)
    assert not (folder / NAME / "reviews_Books_5.json.gz").exists()


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes, status: int, headers: dict, fail_after: int | None = None):
        super().__init__(data)
        self.status, self.headers, self.fail_after = status, headers, fail_after

    def read(self, n=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        return super().read(min(n, 1000) if n and n > 0 else 1000)

    def getcode(self):
        return self.status


def server(payload: bytes, honor_range: bool = True, fail_after: int | None = None, log: list | None = None):
    def opener(request):
        rng = request.get_header("Range")
        if log is not None:
            log.append(rng)
        if rng and honor_range:
            start = int(rng.split("=")[1].rstrip("-"))
            if start >= len(payload):
                raise urllib.error.HTTPError(request.full_url, 416, "Range Not Satisfiable", {}, None)
            return FakeResponse(payload[start:], 206, {"Content-Range": f"bytes {start}-{len(payload) - 1}/{len(payload)}",
                                                       "Content-Length": str(len(payload) - start)}, fail_after)
        return FakeResponse(payload, 200, {"Content-Length": str(len(payload))}, fail_after)
    return opener


def test_an_interrupted_download_resumes_with_a_range_request(tmp_path):
    payload = bytes(range(256)) * 40
    target = tmp_path / "f.gz"
    with pytest.raises(DataError, match="run it again to resume"):
        prepared.fetch("http://example.invalid/f.gz", target, opener=server(payload, fail_after=3000))
    part = tmp_path / "f.gz.part"
    assert part.stat().st_size == 3000 and not target.exists()
    log = []
    prepared.fetch("http://example.invalid/f.gz", target, sha256=hashlib.sha256(payload).hexdigest(),
                   opener=server(payload, log=log))
    assert log == ["bytes=3000-"] and target.read_bytes() == payload and not part.exists()


def test_a_server_ignoring_range_restarts_and_a_complete_part_is_accepted(tmp_path):
    payload = b"abcdef" * 1000
    target = tmp_path / "f"
    (tmp_path / "f.part").write_bytes(b"garbage")
    prepared.fetch("http://x.invalid/f", target, opener=server(payload, honor_range=False))
    assert target.read_bytes() == payload
    target.unlink()
    (tmp_path / "f.part").write_bytes(payload)  # complete but not renamed: the server answers 416
    prepared.fetch("http://x.invalid/f", target, size=len(payload), opener=server(payload))
    assert target.read_bytes() == payload


def test_a_wrong_size_deletes_the_download(tmp_path):
    with pytest.raises(DataError, match="has 6 bytes"):
        prepared.fetch("http://x.invalid/f", tmp_path / "f", size=7, opener=server(b"abcdef"))
    assert not (tmp_path / "f").exists() and not (tmp_path / "f.part").exists()


def test_the_registry_records_unknown_checksums_and_the_public_urls():
    src = sources.DATASETS[NAME]
    assert src.prepared and [f.role for f in src.files] == ["reviews", "meta"]
    assert all(f.sha256 is None and f.size is None for f in src.files)  # not published; printed on download
    assert [f.url for f in src.files] == [registry.AMAZON_2014_URL + "reviews_Books_5.json.gz",
                                          registry.AMAZON_2014_URL + "meta_Books.json.gz"]
    assert sources.load_arguments(NAME) == {"construction": "last", "max_history": 100, "min_history": 20}
    assert sources.load_arguments("sports") == {"construction": "positions", "max_history": 50, "min_history": 1}
