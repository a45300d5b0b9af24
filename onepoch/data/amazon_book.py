"""Amazon Book as the paper prepared it: DIEN's preprocessing of the Amazon Books reviews.

Raw files (the 2014 Amazon product data of McAuley et al., as downloaded by
DIEN's and the paper's `prepare_data.sh`):

- `reviews_Books_5.json.gz`: one review per line, a JSON object with
  `reviewerID`, `asin`, `unixReviewTime` (and text we do not use); 8.9 M
  reviews of the 5-core subset.
- `meta_Books.json.gz`: one item per line, a Python dict literal (single
  quotes; parsed with `ast.literal_eval`, never `eval`) with `asin` and
  `categories`, a list of category paths. Only the reviewed items' lines are
  parsed; the others are skipped after a cheap look at their `asin`.

Preparation (streamed; `onepoch.data.prepared` caches the result):

- every valid review is a positive interaction; each user's reviews are
  sorted by `unixReviewTime`, ties kept in file order (DIEN's
  `process_data.py` as most copies have it: a stable sort; the DIEN author's
  first version kept the file's order, which is by item, not by time);
- an item's category is the LAST entry of the FIRST path in `categories`
  (DIEN: `categories[0][-1]`); items without metadata or categories get
  category 0 (unknown) -- DIEN gives a positive without metadata the token
  "default_cat" (and would crash on such a negative; with the real files
  every reviewed item has metadata);
- users are numbered 0.. and items 1.. in order of first appearance in the
  reviews file (0 = padding); `Prepared.names` keeps the raw string ids;
- malformed lines (not JSON / not a dict literal, a missing or mistyped
  field) are skipped and counted; more than 1 % of them (and over 10) rejects the file.

Samples (`onepoch.data.samples`, construction "last", the data set's
defaults: `load("amazon-book")`), which is what DIEN's scripts
`process_data.py`, `local_aggretor.py`, `split_by_user.py` and the paper's
`book_prepare.py` do:

- each review gets one negative: an item drawn uniformly from ALL reviews'
  items (so by popularity), redrawn while equal to the positive;
- history = the items the user reviewed before, the last 100 (`max_history`),
  kept only when at least 20 long (`min_history`; the data set's floor: a
  smaller value is raised to 20);
- only each user's LAST review is a sample, as a (positive, negative) pair
  with the same history; users go 90 % / 10 % to train / test (seeded).

Differences from the paper's data (Table 2: 150,016 samples, 75,008 users):
DIEN sends each user to test with probability 1/10 where we take exactly 10 %
of the users; the paper then cut train and test to multiples of 128 samples
(150,016 = 1,172 x 128), we keep every pair; DIEN's vocabulary spans train and
test, ours is the training samples' (see `onepoch.data.vocab`); the random
draws differ. `onepoch.data.table2("amazon-book")` puts the measured Table 2
beside the paper's.
"""
from __future__ import annotations

import ast
import json
import re
from array import array
from pathlib import Path

import numpy as np

from onepoch.data.prepared import BadRows, Prepared, _advance, open_binary, progress_bar, say
from onepoch.errors import DataError

# a metadata line's leading `'asin': '...'` (the real files start every dict with it)
_ASIN = re.compile(rb"""\s*\{\s*['"]asin['"]\s*:\s*['"]([^'"\\]+)['"]""")
_UPDATE_EVERY = 1 << 16  # lines between progress updates


def prepare(paths: dict[str, Path]) -> Prepared:
    """Stream `paths["reviews"]` and `paths["meta"]` into per-user review sequences with categories."""
    users, items, user_col, item_col, time_col, info = _read_reviews(Path(paths["reviews"]))
    categories, meta_info = _read_meta(Path(paths["meta"]), items)
    names = sorted(set(categories.values()))
    code = {c: i for i, c in enumerate(names, start=1)}
    item_category = np.zeros(len(items) + 1, dtype=np.int64)
    for asin, item in items.items():
        item_category[item] = code.get(categories.get(asin), 0)

    user = np.frombuffer(user_col, dtype=np.int32)
    order = np.lexsort((np.frombuffer(time_col, dtype=np.int64), user))  # stable: ties keep file order
    counts = np.bincount(user, minlength=len(users))
    info.update(meta_info, users=len(users), items=len(items), categories=len(names),
                items_without_category=int((item_category[1:] == 0).sum()))
    return Prepared(
        users=np.arange(len(users), dtype=np.int64),
        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        items=np.frombuffer(item_col, dtype=np.int32)[order],
        item_category=item_category,
        info=info,
        names={"user": np.array(list(users), dtype=str), "item": np.array(["", *items], dtype=str),
               "category": np.array(["", *names], dtype=str)},
    )


def _nonblank_lines(path: Path):
    """(line number, line) for every non-blank line of a raw file, with a progress bar."""
    with open_binary(path) as (stream, position, total):
        bar = progress_bar(total, f"reading {path.name}")
        try:
            for number, line in enumerate(stream, start=1):
                if number % _UPDATE_EVERY == 0:
                    _advance(bar, position())
                if line.strip():
                    yield number, line
        finally:
            bar.close()


def _read_reviews(path: Path):
    users: dict[str, int] = {}
    items: dict[str, int] = {}
    user_col, item_col, time_col = array("i"), array("i"), array("q")
    bad = BadRows(path, "review")
    rows = 0
    for number, line in _nonblank_lines(path):
        rows += 1
        review = parse_review(line)
        if isinstance(review, str):
            bad.add(number, review)
            continue
        reviewer, asin, when = review
        user_col.append(users.setdefault(reviewer, len(users)))
        item_col.append(items.setdefault(asin, len(items) + 1))
        time_col.append(when)
    bad.check(rows)
    say(f"{path.name}: {rows - bad.count:,} reviews, {len(users):,} users, {len(items):,} items")
    info = {"reviews": rows - bad.count, "reviews_malformed": bad.count, "reviews_malformed_examples": bad.examples}
    return users, items, user_col, item_col, time_col, info


def parse_review(line: bytes) -> tuple[str, str, int] | str:
    """(reviewerID, asin, unixReviewTime) of one reviews line, or the reason it is malformed."""
    obj = _parse_object(line)
    if not isinstance(obj, dict):
        return "not a JSON object (nor a Python dict literal)"
    reviewer, asin, when = obj.get("reviewerID"), obj.get("asin"), obj.get("unixReviewTime")
    for key, value in (("reviewerID", reviewer), ("asin", asin)):
        if not isinstance(value, str) or not value.strip():
            return f"{key} missing or not a non-empty string"
    if isinstance(when, bool) or not isinstance(when, int) or not -2**62 < when < 2**62:
        return "unixReviewTime missing or not an integer"
    return reviewer, asin, when


def _parse_object(line: bytes):
    try:
        return json.loads(line)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        pass
    try:
        return ast.literal_eval(line.decode("utf-8").strip())  # the older files' Python dict literals
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, UnicodeDecodeError):
        return None


def parse_meta(line: bytes) -> tuple[str, str | None] | str:
    """(asin, category or None) of one metadata line -- DIEN's `categories[0][-1]` -- or why it is malformed."""
    obj = _parse_object(line)
    if not isinstance(obj, dict):
        return "not a Python dict literal (nor JSON)"
    asin = obj.get("asin")
    if not isinstance(asin, str) or not asin.strip():
        return "asin missing or not a non-empty string"
    paths = obj.get("categories")
    if (isinstance(paths, list) and paths and isinstance(paths[0], list) and paths[0]
            and isinstance(paths[0][-1], str) and paths[0][-1].strip()):
        return asin, paths[0][-1]
    return asin, None


def _read_meta(path: Path, items: dict[str, int]) -> tuple[dict[str, str], dict]:
    categories: dict[str, str] = {}
    seen: set[str] = set()
    bad = BadRows(path, "metadata line")
    lines = parsed = 0
    for number, line in _nonblank_lines(path):
        lines += 1
        match = _ASIN.match(line)
        if match is not None and match.group(1).decode("utf-8", "replace") not in items:
            continue  # an item nobody reviewed: not needed
        parsed += 1
        meta = parse_meta(line)
        if isinstance(meta, str):
            bad.add(number, meta)
            continue
        asin, category = meta
        if asin in seen:  # DIEN keeps an item's first line
            continue
        seen.add(asin)
        if category is not None:
            categories[asin] = category
    if lines and not parsed:
        raise DataError(f"{path}: none of its {lines:,} items is a reviewed item: is it the metadata file "
                        "of the same category (meta_Books.json.gz)? Delete it and get it again")
    bad.check(parsed)
    say(f"{path.name}: {lines:,} items, {len(seen & items.keys()):,} of the {len(items):,} reviewed "
        f"items have metadata, {len(set(categories.values())):,} categories")
    return categories, {"meta_lines": lines, "meta_parsed": parsed, "meta_malformed": bad.count,
                        "meta_malformed_examples": bad.examples,
                        "items_with_metadata": len(seen & items.keys())}
