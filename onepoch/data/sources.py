"""The data sets by name, and their verified files: `ensure_files(name)`.

The list of data sets is `onepoch.data.registry`; getting the files
(download, extract, hash) is `onepoch.data.files`. This module joins the two
for callers that think in names, and keeps the names older code imports.
"""
from __future__ import annotations

import os
from pathlib import Path

from onepoch.data import files
from onepoch.data.files import _hash_file, fetch, file_sha256, files_checksum  # noqa: F401 (re-exported)
from onepoch.data.registry import (  # noqa: F401 (re-exported)
    DATASETS, ENV_DATA, LOAD_DEFAULTS, DataFile, DatasetSource, data_dir, load_arguments, names, source,
)

_resolve_dir = data_dir  # ensure_files' argument shadows the function's name


def ensure_files(name: str, data_dir: str | os.PathLike | None = None, download: bool = False) -> dict[str, Path]:
    """Paths of data set `name`'s files by role, each verified against its sha256 (see `files.ensure`)."""
    folder = _resolve_dir(data_dir)
    return files.ensure(source(name, folder), folder, download)


def download(url: str, target: str | os.PathLike, sha256: str | None, opener=None) -> Path:
    """Download one file (resumable, verified): `files.fetch`."""
    return fetch(url, target, sha256, opener=opener)
