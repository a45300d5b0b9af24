"""Every ``ONEPOCH_*`` environment variable, read in one place.

Each is read when asked for (not at import), so a test or a chapter can change it. A bad value
is one :class:`SettingsError` naming the variable and what to write instead.

=======================  =====================================================================
Variable                 Meaning
=======================  =====================================================================
ONEPOCH_DATA             the data folder (amazon-s3rec/, ml-100k/, ...); no default
ONEPOCH_CACHE            cache folder of runs and encoded data; unset or empty: ``.onepoch-cache``
                         in the working directory (``onepoch build`` passes an absolute path)
ONEPOCH_JOBS             runs trained at once by a sweep (a positive integer); default: cores
ONEPOCH_PROGRESS         ``0`` hides progress bars (set for chapters by ``onepoch build``)
ONEPOCH_MAX_DATA_GB      memory a prepared data set may use (GB); default 75 % of RAM
ONEPOCH_LEDGER           folder of claims ledger rows; default ``_build/ledger``
ONEPOCH_CHAPTER          the chapter being executed (set by ``onepoch build``): ledger rows are
                         checked to be filed under it
ONEPOCH_RUN_LOG          file a chapter notes each run it uses in (set by ``onepoch build``)
ONEPOCH_NETWORK_TESTS    ``1`` runs the tests that need the internet
=======================  =====================================================================
"""
from __future__ import annotations

import os
from pathlib import Path

from onepoch.errors import OnepochError

DATA = "ONEPOCH_DATA"
CACHE = "ONEPOCH_CACHE"
JOBS = "ONEPOCH_JOBS"
PROGRESS = "ONEPOCH_PROGRESS"
MAX_DATA_GB = "ONEPOCH_MAX_DATA_GB"
LEDGER = "ONEPOCH_LEDGER"
CHAPTER = "ONEPOCH_CHAPTER"
RUN_LOG = "ONEPOCH_RUN_LOG"
NETWORK_TESTS = "ONEPOCH_NETWORK_TESTS"

DEFAULT_CACHE = ".onepoch-cache"
DEFAULT_LEDGER = Path("_build") / "ledger"


class SettingsError(OnepochError):
    """An ``ONEPOCH_*`` variable with a value that cannot be used."""


def _get(name: str) -> str | None:
    """The variable's value; unset and empty are the same (no value)."""
    return os.environ.get(name) or None


def data_folder() -> Path | None:
    value = _get(DATA)
    return Path(value).expanduser() if value else None


def cache_folder(base: Path | None = None) -> Path:
    """The one cache root: runs live in ``<root>/runs``, encoded data in ``<root>/data``. Unset or
    empty: ``.onepoch-cache`` in ``base`` (default: the working directory)."""
    value = _get(CACHE)
    if value is None:
        return (base / DEFAULT_CACHE) if base is not None else Path(DEFAULT_CACHE)
    return Path(value).expanduser()


def jobs() -> int:
    value = _get(JOBS)
    if value is None:
        return os.cpu_count() or 1
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise SettingsError(f"{JOBS}={value!r} is not a positive integer: set it to the number of runs to "
                            f"train at once, e.g. {JOBS}=2, or unset it to use every core")
    return n


def progress_enabled() -> bool:
    return os.environ.get(PROGRESS, "1") != "0"


def max_data_bytes() -> float | None:
    """``ONEPOCH_MAX_DATA_GB`` in bytes, or None when unset."""
    value = _get(MAX_DATA_GB)
    if value is None:
        return None
    try:
        gb = float(value)
    except ValueError:
        gb = -1.0
    if not gb > 0:
        raise SettingsError(f"{MAX_DATA_GB}={value!r} is not a positive number of gigabytes: "
                            f"write e.g. {MAX_DATA_GB}=8, or unset it (75 % of RAM)")
    return gb * 1e9


def ledger_folder() -> Path:
    value = _get(LEDGER)
    return Path(value) if value else DEFAULT_LEDGER


def chapter() -> str | None:
    return _get(CHAPTER)


def run_log() -> str | None:
    return _get(RUN_LOG)


def network_tests() -> bool:
    return os.environ.get(NETWORK_TESTS) == "1"
