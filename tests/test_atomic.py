"""Whole-or-nothing writes (onepoch.atomic) and the removal of orphaned temporary files."""
import os
import time

import pytest

from onepoch import atomic


def test_replacing_writes_whole_file_with_usual_permissions(tmp_path):
    target = tmp_path / "a" / "b.txt"
    atomic.write_text(target, "hello")
    assert target.read_text() == "hello"
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's private 0600
    assert [p.name for p in target.parent.iterdir()] == ["b.txt"]


def test_a_failing_write_keeps_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "b.bin"
    atomic.write_bytes(target, b"old")
    for error in (ValueError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(error)):
            with atomic.replacing(target) as f:
                f.write(b"half of the new")
                raise error
        assert target.read_bytes() == b"old"
        assert [p.name for p in tmp_path.iterdir()] == ["b.bin"]


def test_remove_stale_deletes_only_old_temporaries(tmp_path):
    (tmp_path / "runs" / "ab").mkdir(parents=True)
    old = tmp_path / "runs" / "ab" / ".x.pkl.123.tmp"
    young = tmp_path / "runs" / "ab" / ".y.pkl.456.tmp"
    entry = tmp_path / "runs" / "ab" / "x.pkl"
    for p in (old, young, entry):
        p.write_bytes(b"1")
    past = time.time() - atomic.STALE_AFTER_S - 60
    os.utime(old, (past, past))
    os.utime(entry, (past, past))
    assert atomic.remove_stale(tmp_path) == 1
    assert not old.exists() and young.exists() and entry.exists()  # a live writer's file and results stay
    assert atomic.remove_stale(tmp_path / "missing") == 0
