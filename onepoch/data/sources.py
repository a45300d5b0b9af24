"""Registry of the public data sets: files, sha256 sums, download URLs.

Data files never live in the repository. They are read from a data folder
(argument, else `$ONEPOCH_DATA`), checked against their published sha256, and,
on request, downloaded from their original public source. A download is
streamed to `<file>.part`, verified, then renamed, so a half-written file
never sits under the final name.

The paper's own data sets (`amazon-book`, `taobao`) are multi-GB raw files
that are streamed once into cached arrays: their files, downloads (resumed,
checksums printed to pin) and preparation live in `onepoch.data.prepared`.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from onepoch import settings
from onepoch.errors import DataError

ENV_DATA = "ONEPOCH_DATA"

S3REC_COMMIT = "49a890d"  # aHuiWang/CIKM2020-S3Rec, the commit the shared files come from
S3REC_URL = f"https://raw.githubusercontent.com/aHuiWang/CIKM2020-S3Rec/{S3REC_COMMIT}/data/"

# ml-100k in RecBole's atomic format ships inside the recbole 1.2.1 wheel on PyPI.
RECBOLE_WHEEL_URL = (
    "https://files.pythonhosted.org/packages/ab/fe/"
    "7d606cb7cd2b166a36b100cb9435d21014ceee16c192d972deb0976967a8/recbole-1.2.1-py3-none-any.whl"
)
RECBOLE_WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
RECBOLE_ML100K_DIR = "recbole/dataset_example/ml-100k/"

_CHUNK = 1 << 20
_TIMEOUT_S = 60  # per socket operation: fail rather than hang on a dead connection


@dataclass(frozen=True)
class DataFile:
    role: str  # the reader's name for the file: "sequences", "attributes", "inter", ...
    path: str  # relative to the data folder
    sha256: str | None  # None: no published sum (prepared data sets only; see onepoch.data.prepared)
    url: str | None  # the file itself, or the archive holding it; None: no public download (see `manual`)
    member: str | None = None  # path inside the archive at `url`
    archive_sha256: str | None = None
    alternatives: tuple[str, ...] = ()  # other accepted paths (compressed copies), tried after `path`
    size: int | None = None  # bytes, when known


@dataclass(frozen=True)
class DatasetSource:
    name: str
    reader: str  # "s3rec", "ml100k" (onepoch.data.readers), or a prepared reader (onepoch.data.prepared)
    files: tuple[DataFile, ...]
    description: str = ""
    # load() arguments left as None take these values (else LOAD_DEFAULTS)
    defaults: tuple[tuple[str, object], ...] = ()
    # part of the data set's definition: load() never goes below it (Amazon Book: DIEN keeps histories >= 20)
    min_history_floor: int = 0
    manual: str = ""  # how to get the files by hand when they cannot be downloaded (login, no network)
    prepared: bool = False  # multi-GB raw files streamed once into cached arrays (onepoch.data.prepared)


def _s3rec(name: str, stem: str, seq_sha: str, attr_sha: str, description: str) -> DatasetSource:
    files = tuple(
        DataFile(role, f"amazon-s3rec/{file}", sha, S3REC_URL + file)
        for role, file, sha in (
            ("sequences", f"{stem}.txt", seq_sha),
            ("attributes", f"{stem}_item2attributes.json", attr_sha),
        )
    )
    return DatasetSource(name, "s3rec", files, description)


def _ml100k() -> DatasetSource:
    shas = {
        "inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
        "item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
        "user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
    }
    files = tuple(
        DataFile(role, f"ml-100k/ml-100k.{role}", sha, RECBOLE_WHEEL_URL,
                 member=f"{RECBOLE_ML100K_DIR}ml-100k.{role}", archive_sha256=RECBOLE_WHEEL_SHA256)
        for role, sha in shas.items()
    )
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
}

# -- the paper's own data sets (Sec. 6.1), prepared from multi-GB raw files ---------

# Amazon product data 2014 (McAuley et al.), the files DIEN's and the paper's scripts download.
AMAZON_2014_URL = "http://snap.stanford.edu/data/amazon/productGraph/categoryFiles/"
AMAZON_HOME = "http://jmcauley.ucsd.edu/data/amazon/"
TAOBAO_HOME = "https://tianchi.aliyun.com/dataset/649"

DATASETS["amazon-book"] = DatasetSource(
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
    prepared=True,
)
DATASETS["taobao"] = DatasetSource(
    "taobao", "taobao",
    # Tianchi needs a (free) login: no download URL, no published checksum.
    (DataFile("behavior", "taobao/UserBehavior.csv", None, None,
              alternatives=("taobao/UserBehavior.csv.zip", "taobao/UserBehavior.zip", "taobao/UserBehavior.csv.gz")),),
    "Taobao user behaviour (Tianchi data set 649): clicks only, each user's last click with its history",
    defaults=(("construction", "last"), ("max_history", 100), ("min_history", 1)),
    manual=(f"'User Behavior Data from Taobao for Recommendation' at {TAOBAO_HOME} (log in with a free "
            "Alibaba Cloud / Tianchi account, download UserBehavior.csv.zip, about 0.9 GB; unzipping it "
            "is optional)"),
    prepared=True,
)

# What load() uses for an argument left as None, unless the data set says otherwise.
LOAD_DEFAULTS = {"construction": "positions", "max_history": 50, "min_history": 1}


def source(name: str) -> DatasetSource:
    """The registry entry of `name`; an unknown name lists the valid ones."""
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        raise DataError(f"unknown data set {name!r}; choose one of: {', '.join(DATASETS)}") from None


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data folder: `path` if given, else `$ONEPOCH_DATA`."""
    if path is None:
        path = settings.data_folder()
    if path is None:
        raise DataError(
            f"no data folder given: pass data_dir=... or set the environment variable {ENV_DATA} "
            "to the folder holding amazon-s3rec/ and ml-100k/ (use download=True to fetch the files there)"
        )
    return Path(path).expanduser()


_resolve_dir = data_dir  # ensure_files' argument shadows the function's name


def load_arguments(name: str, construction: str | None = None, max_history: int | None = None,
                   min_history: int | None = None) -> dict:
    """`load()`'s construction arguments with None replaced by the data set's defaults.

    A data set's `min_history_floor` is part of its definition: a smaller
    `min_history` is raised to it (Amazon Book keeps only histories of at least
    20 reviews, as DIEN's preprocessing does, whatever the run's setting).
    """
    src = source(name)
    given = {"construction": construction, "max_history": max_history, "min_history": min_history}
    defaults = LOAD_DEFAULTS | dict(src.defaults)
    out = {k: defaults[k] if v is None else v for k, v in given.items()}
    if isinstance(out["min_history"], int) and not isinstance(out["min_history"], bool):
        out["min_history"] = max(out["min_history"], src.min_history_floor)
    return out


# -- checksums -------------------------------------------------------------

# (resolved path, size, mtime_ns, ctime_ns) -> sha256, so repeated loads do not re-hash
_SHA_CACHE: dict[tuple, str] = {}


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file, memoised on (path, size, mtime, ctime): any write changes the ctime,
    even one whose mtime is then set back."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = _hash_file(path)
    return _SHA_CACHE[key]


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_sha(path: Path, expected: str) -> None:
    try:
        actual = file_sha256(path)
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror or exc}): check that it is a readable file, "
                        "or delete it and download it again (download=True)") from None
    if actual != expected:
        raise DataError(
            f"checksum mismatch for {path}: expected sha256 {expected}, got {actual}. "
            "The file is corrupted or a different version: delete it and download it again "
            "(load(..., download=True) or onepoch.data.ensure_files(name, download=True))."
        )


# -- resolving and downloading ---------------------------------------------

def ensure_files(name: str, data_dir: str | os.PathLike | None = None, download: bool = False) -> dict[str, Path]:
    """Paths of the data set's files by role, each verified against its sha256.

    Missing files are downloaded when `download` is true, else a `DataError`
    says what is missing, where it was looked for and how to get it.
    """
    src = source(name)
    folder = _resolve_dir(data_dir)
    if src.prepared:
        from onepoch.data import prepared

        return prepared.ensure_files(src, folder, download)
    paths = {f.role: folder / f.path for f in src.files}
    missing = [f for f in src.files if not paths[f.role].is_file()]
    if missing and not download:
        raise DataError(_missing_message(src, missing, folder))
    if missing:
        _download_files(missing, folder)
    for f in src.files:
        _check_sha(paths[f.role], f.sha256)
    return paths


def _missing_message(src: DatasetSource, missing: list[DataFile], folder: Path) -> str:
    exists = "" if folder.is_dir() else ", which is a file, not a folder" if folder.exists() else ", which does not exist"
    where = (f"in the data folder {folder}{exists} (searched: the data_dir argument, else ${ENV_DATA}="
             f"{settings.data_folder() or '<unset>'})")
    lines = [f"data set {src.name!r}: missing file(s) {where}:"]
    for f in missing:
        origin = f"{f.url} (file {f.member} inside that archive)" if f.member else f.url
        lines.append(f"  {f.path}  <- {origin}")
    lines.append("Pass download=True to fetch them (checksums are verified), "
                 f"or point data_dir / {ENV_DATA} at a folder that holds them.")
    return "\n".join(lines)


def _download_files(files: list[DataFile], folder: Path) -> None:
    archives: dict[str, Path] = {}  # url -> verified local archive, fetched once per call
    try:
        for f in files:
            target = folder / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            if f.member is None:
                download(f.url, target, f.sha256)
                continue
            if f.url not in archives:
                archive = target.parent / (Path(f.url).name + ".download")
                try:
                    download(f.url, archive, f.archive_sha256)
                except DataError as exc:
                    raise DataError(f"{exc}\n{f.path} is the member {f.member} of that archive (a zip file): "
                                    f"unzip it and put it at {target}") from exc
                archives[f.url] = archive
            _extract(archives[f.url], f.member, target, f.sha256)
    finally:
        for archive in archives.values():
            archive.unlink(missing_ok=True)


def download(url: str, target: str | os.PathLike, sha256: str | None, opener=None) -> Path:
    """Stream `url` to `target` via `target.part`; rename only after the sha256 matches.

    `opener` defaults to `urllib.request.urlopen` (tests pass their own).
    """
    target = Path(target)
    part = target.with_name(target.name + ".part")
    opener = opener or functools.partial(urllib.request.urlopen, timeout=_TIMEOUT_S)
    digest = hashlib.sha256()
    try:
        with opener(url) as response, open(part, "wb") as out:
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except (OSError, ValueError) as exc:  # URLError is an OSError
        part.unlink(missing_ok=True)
        raise DataError(
            f"could not download {url}: {exc}. Without network access, download it elsewhere "
            f"and put it at {target}"
        ) from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    if sha256 is not None and digest.hexdigest() != sha256:
        part.unlink(missing_ok=True)
        raise DataError(
            f"downloaded {url} has sha256 {digest.hexdigest()}, expected {sha256}; "
            f"nothing was written to {target}. The source may have changed: fetch it again or get the "
            "file from another copy with the expected checksum"
        )
    os.replace(part, target)
    return target


def _extract(archive: Path, member: str, target: Path, sha256: str) -> None:
    part = target.with_name(target.name + ".part")
    try:
        with zipfile.ZipFile(archive) as zf, zf.open(member) as src, open(part, "wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
        actual = _hash_file(part)
        if actual != sha256:
            raise DataError(f"{member} in {archive.name} has sha256 {actual}, expected {sha256}")
    except (KeyError, zipfile.BadZipFile) as exc:
        part.unlink(missing_ok=True)
        raise DataError(f"cannot extract {member} from {archive}: {exc}") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, target)
