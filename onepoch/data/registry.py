"""The data sets, listed in one place: the built-in ones and those a user added.

This module only lists: each data set's files (path in the data folder,
sha256, where to get them), its reader and its defaults. It imports neither
numpy nor torch, so `onepoch.config` can check a `RunConfig`'s data set name
against `names()` cheaply. Getting the files (download, extract, hash) is
`onepoch.data.files`; reading them, `onepoch.data.readers` and
`onepoch.data.userdata`.

Data sets a user adds (`onepoch data add NAME FILE`, `onepoch.data.add`) are
listed in `datasets.toml` in the data folder: one table per name with the
format, the file(s), their sha256 and the columns. After that the name works
wherever a built-in one does.
"""
from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from onepoch import atomic, settings
from onepoch.errors import DataError

# The paper's five feature fields of every sequence data set (onepoch.data.samples builds them),
# named once here; a tabular data set's fields are its own columns (onepoch.data.tabular).
PAPER_FIELDS = ("user_id", "item_id", "cat_id", "hist_item_ids", "hist_cat_ids")

ENV_DATA = settings.DATA
ENV_CACHE = settings.CACHE
DEFAULT_CACHE = settings.DEFAULT_CACHE
MANIFEST = "datasets.toml"
FORMATS = ("interactions", "sequences", "tabular")
SYNTHETIC = "synthetic"  # generated, no files (onepoch.data.synthetic)

S3REC_COMMIT = "49a890d"  # aHuiWang/CIKM2020-S3Rec, the commit the shared files come from
S3REC_URL = f"https://raw.githubusercontent.com/aHuiWang/CIKM2020-S3Rec/{S3REC_COMMIT}/data/"
# ml-100k in RecBole's atomic format ships inside the recbole 1.2.1 wheel on PyPI.
RECBOLE_WHEEL_URL = (
    "https://files.pythonhosted.org/packages/ab/fe/"
    "7d606cb7cd2b166a36b100cb9435d21014ceee16c192d972deb0976967a8/recbole-1.2.1-py3-none-any.whl"
)
RECBOLE_WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
RECBOLE_ML100K_DIR = "recbole/dataset_example/ml-100k/"
# Amazon product data 2014 (McAuley et al.), the files DIEN's and the paper's scripts download.
AMAZON_2014_URL = "http://snap.stanford.edu/data/amazon/productGraph/categoryFiles/"
AMAZON_HOME = "http://jmcauley.ucsd.edu/data/amazon/"
TAOBAO_HOME = "https://tianchi.aliyun.com/dataset/649"


@dataclass(frozen=True)
class DataFile:
    role: str  # the reader's name for the file: "sequences", "attributes", "inter", ...
    path: str  # relative to the data folder (or absolute, for a user's file outside it)
    sha256: str | None  # None: no published sum (the paper's large data sets)
    url: str | None  # the file itself, or the archive holding it; None: no public download (see `manual`)
    member: str | None = None  # path inside the archive at `url`
    archive_sha256: str | None = None
    alternatives: tuple[str, ...] = ()  # other accepted paths (compressed copies), tried after `path`
    size: int | None = None  # bytes, when known


@dataclass(frozen=True)
class DatasetSource:
    name: str
    # "s3rec", "ml100k" (readers), "amazon_book", "taobao" (prepared), or a user format (FORMATS)
    reader: str
    files: tuple[DataFile, ...]
    description: str = ""
    # load() arguments left as None take these values (else LOAD_DEFAULTS)
    defaults: tuple[tuple[str, object], ...] = ()
    # part of the data set's definition: load() never goes below it (Amazon Book: DIEN keeps histories >= 20)
    min_history_floor: int = 0
    manual: str = ""  # how to get the files by hand when they cannot be downloaded (login, no network)
    prepared: bool = False  # multi-GB raw files streamed once into cached arrays (onepoch.data.prepared)
    options: dict = field(default_factory=dict, compare=False)  # a user data set's columns (datasets.toml)

    @property
    def user_added(self) -> bool:
        return self.reader in FORMATS


def _s3rec(name: str, stem: str, seq_sha: str, attr_sha: str, description: str) -> DatasetSource:
    files = tuple(DataFile(role, f"amazon-s3rec/{file}", sha, S3REC_URL + file)
                  for role, file, sha in (("sequences", f"{stem}.txt", seq_sha),
                                          ("attributes", f"{stem}_item2attributes.json", attr_sha)))
    return DatasetSource(name, "s3rec", files, description)


def _ml100k() -> DatasetSource:
    shas = {"inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
            "item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
            "user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972"}
    files = tuple(DataFile(role, f"ml-100k/ml-100k.{role}", sha, RECBOLE_WHEEL_URL,
                           member=f"{RECBOLE_ML100K_DIR}ml-100k.{role}", archive_sha256=RECBOLE_WHEEL_SHA256)
                  for role, sha in shas.items())
    return DatasetSource("ml-100k", "ml100k", files, "MovieLens 100K ratings (RecBole atomic files); dense IDs")


DATASETS: dict[str, DatasetSource] = {
    "beauty": _s3rec("beauty", "Beauty",
                     "226cce9c3105299ca0db9615d7d3fb32b3175e90da43100ae352599f0f0107b8",
                     "129e40f67486f6877eff0f5318cfa8530ee8ac23d8b0d1de04e1bb7a2ba0b2d4",
                     "Amazon Beauty 5-core review sequences (S3-Rec)"),
    "sports": _s3rec("sports", "Sports_and_Outdoors",
                     "2a095e0648872beb9982408958290f5d655db5be2911c3756b5446de9f0b8de2",
                     "7fb10733ac4f1811384a52144cdefa7fcc7536fa80a7232c5da9bd789155c34b",
                     "Amazon Sports and Outdoors 5-core review sequences (S3-Rec)"),
    "toys": _s3rec("toys", "Toys_and_Games",
                   "176c680c688d497598c4a89a03b402c0fe78d795e5db335c2e78dd5f2d778a3f",
                   "d371acd25101eedac04afc727626464b7acec770c4eda708705d51eb76eb1ad0",
                   "Amazon Toys and Games 5-core review sequences (S3-Rec)"),
    "yelp": _s3rec("yelp", "Yelp",
                   "724b219106b81dd2349027da997334ddb6da9fe2f152ad6e0d97a93170f7caed",
                   "f25acd5e1e680e0b22fd4e3f4fb6be4b2a7461e9222610616e3e1ee6702dd58d",
                   "Yelp 5-core review sequences (S3-Rec)"),
    "ml-100k": _ml100k(),
    # -- the paper's own data sets (Sec. 6.1), prepared from multi-GB raw files --------------------
    "amazon-book": DatasetSource(
        "amazon-book", "amazon_book",
        # sha256 and size are None: no checksums are published for these files and they cannot be
        # fetched from the machines this project is developed on. The first download prints the
        # computed sha256 (and size) so that it can be pinned here; a known sum is always verified.
        (DataFile("reviews", "amazon-book/reviews_Books_5.json.gz", None, AMAZON_2014_URL + "reviews_Books_5.json.gz"),
         DataFile("meta", "amazon-book/meta_Books.json.gz", None, AMAZON_2014_URL + "meta_Books.json.gz")),
        "Amazon Books 5-core reviews and metadata (McAuley et al.), DIEN's preprocessing: the paper's Amazon Book",
        defaults=(("construction", "last"), ("max_history", 100), ("min_history", 20)),
        min_history_floor=20,
        manual=f"the 2014 Amazon product data, {AMAZON_HOME} (per-category files 'Books': 5-core reviews and metadata)",
        prepared=True),
    "taobao": DatasetSource(
        "taobao", "taobao",
        # Tianchi needs a (free) login: no download URL, no published checksum.
        (DataFile("behavior", "taobao/UserBehavior.csv", None, None,
                  alternatives=("taobao/UserBehavior.csv.zip", "taobao/UserBehavior.zip", "taobao/UserBehavior.csv.gz")),),
        "Taobao user behaviour (Tianchi data set 649): clicks only, each user's last click with its history",
        defaults=(("construction", "last"), ("max_history", 100), ("min_history", 1)),
        manual=(f"'User Behavior Data from Taobao for Recommendation' at {TAOBAO_HOME} (log in with a free "
                "Alibaba Cloud / Tianchi account, download UserBehavior.csv.zip, about 0.9 GB; unzipping it "
                "is optional)"),
        prepared=True),
}
# every built-in name a RunConfig accepts: the registered files plus the generated data set
BUILTIN = (*DATASETS, SYNTHETIC)
# What load() uses for an argument left as None, unless the data set says otherwise.
LOAD_DEFAULTS = {"construction": "positions", "max_history": 50, "min_history": 1}


# -- folders -----------------------------------------------------------------------------

def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data folder: `path` if given, else `$ONEPOCH_DATA`."""
    if path is None:
        path = settings.data_folder()
    if path is None:
        raise DataError(
            f"no data folder given: pass data_dir=... or set the environment variable {ENV_DATA} "
            "to the folder holding amazon-s3rec/ and ml-100k/ (use download=True to fetch the files there)")
    return Path(path).expanduser()


def cache_dir() -> Path:
    """Folder of the cached data files: `$ONEPOCH_CACHE/data`."""
    return settings.cache_folder() / "data"


# -- names -------------------------------------------------------------------------------

def names(folder: str | os.PathLike | None = None) -> tuple[str, ...]:
    """Every data set name: the built-in ones, then those added to the data folder (if one is set)."""
    return (*DATASETS, SYNTHETIC, *(n for n in user_entries(folder) if n not in DATASETS))


def source(name: str, folder: str | os.PathLike | None = None) -> DatasetSource:
    """The registry entry of `name`; an unknown name lists the valid ones."""
    if isinstance(name, str) and name in DATASETS:
        return DATASETS[name]
    entries = user_entries(folder)
    if isinstance(name, str) and name in entries:
        return _user_source(name, entries[name])
    added = "" if entries else f" (or add your own: onepoch data add NAME FILE, into ${ENV_DATA})"
    raise DataError(f"unknown data set {name!r}; choose one of: {', '.join(n for n in names(folder) if n != SYNTHETIC)}"
                    + added)


def load_arguments(name: str, construction: str | None = None, max_history: int | None = None,
                   min_history: int | None = None, folder: str | os.PathLike | None = None) -> dict:
    """`load()`'s construction arguments with None replaced by the data set's defaults.

    A data set's `min_history_floor` is part of its definition: a smaller
    `min_history` is raised to it (Amazon Book keeps only histories of at least
    20 reviews, as DIEN's preprocessing does, whatever the run's setting).
    """
    src = source(name, folder)
    given = {"construction": construction, "max_history": max_history, "min_history": min_history}
    defaults = LOAD_DEFAULTS | dict(src.defaults)
    out = {k: defaults[k] if v is None else v for k, v in given.items()}
    if isinstance(out["min_history"], int) and not isinstance(out["min_history"], bool):
        out["min_history"] = max(out["min_history"], src.min_history_floor)
    return out


# -- the user's data sets: datasets.toml in the data folder ---------------------------------

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_MEMO: dict[tuple, dict] = {}


def manifest_path(folder: str | os.PathLike | None = None) -> Path:
    return data_dir(folder) / MANIFEST


def user_entries(folder: str | os.PathLike | None = None) -> dict[str, dict]:
    """name -> entry of `datasets.toml` in the data folder; {} without a folder or a file."""
    try:
        path = manifest_path(folder)
        st = path.stat()
    except (DataError, OSError):
        return {}
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _MEMO:
        try:
            parsed = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: not valid TOML ({exc}); fix it by hand or delete it and add the data sets "
                            "again with onepoch data add") from None
        _MEMO[key] = {k: v for k, v in parsed.items() if isinstance(v, dict)}
    return _MEMO[key]


def _user_source(name: str, entry: dict) -> DatasetSource:
    files = tuple(DataFile(role, entry[role], entry.get(f"{role}_sha256"), None)
                  for role in ("file", "attributes") if entry.get(role))
    defaults = tuple((k, entry[k]) for k in ("construction", "max_history", "min_history") if k in entry)
    manual = f"the file you added (onepoch data add {name} FILE); add it again if it moved or changed"
    return DatasetSource(name, entry.get("format", ""), files, entry.get("description", f"your data set ({entry.get('format')})"),
                         defaults=defaults, manual=manual, options=dict(entry))


def write_entry(name: str, entry: dict | None, folder: str | os.PathLike | None = None) -> Path:
    """Add (or with entry=None remove) one data set in `datasets.toml`, written whole or not at all."""
    path = manifest_path(folder)
    entries = dict(user_entries(folder))
    if entry is None:
        entries.pop(name, None)
    else:
        entries[name] = entry
    lines = ["# Data sets added with `onepoch data add` (see book/your_data.md). One table per name:",
             "# format, file(s) relative to this folder (or absolute), their sha256, and the columns.", ""]
    for key, table in entries.items():
        lines.append(f"[{json.dumps(key)}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None]
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(path, "\n".join(lines))
    return path


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to {MANIFEST}")
