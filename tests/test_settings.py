"""onepoch.settings: every ONEPOCH_* variable read in one place, bad values as one-line errors."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from onepoch import settings
from onepoch.data import dataset
from onepoch.runs import cache

PACKAGE = Path(settings.__file__).parent


def test_an_empty_onepoch_cache_means_the_default_everywhere(monkeypatch):
    monkeypatch.setenv("ONEPOCH_CACHE", "")
    assert cache.cache_root() == Path(".onepoch-cache") == dataset.cache_dir().parent
    monkeypatch.setenv("ONEPOCH_CACHE", "/x/y")
    assert cache.cache_root() == Path("/x/y") == dataset.cache_dir().parent


def test_onepoch_jobs_must_be_a_positive_integer(monkeypatch):
    from onepoch.runs.runner import default_jobs

    for bad in ("abc", "0", "-2", "1.5"):
        monkeypatch.setenv("ONEPOCH_JOBS", bad)
        with pytest.raises(settings.SettingsError, match=rf"ONEPOCH_JOBS='{re.escape(bad)}' is not a positive integer"):
            default_jobs()
    monkeypatch.setenv("ONEPOCH_JOBS", "3")
    assert default_jobs() == 3


def test_no_module_but_settings_reads_an_onepoch_variable():
    readers = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        if path.name != "settings.py" and re.search(r"environ(\.get)?[\[(]\s*['\"]ONEPOCH_", text):
            readers.append(path.relative_to(PACKAGE).as_posix())
    assert readers == []
