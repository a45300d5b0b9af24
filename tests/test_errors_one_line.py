"""Every bad input or fault of issue 14 ends in one line naming the cause and the fix (exit 2),
before anything runs or is written; the README's Troubleshooting table lists the same cases."""
from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from onepoch import book, cli
from onepoch.book import BookError
from onepoch.config import ConfigError, RunConfig
from onepoch.runs import ResultCache
from onepoch.runs.cache import CacheError

from conftest import notebook


@pytest.fixture
def in_tiny_book(tiny_book, monkeypatch):
    monkeypatch.setattr(book.paths, "ROOT", tiny_book)
    monkeypatch.setattr(book.stamps, "research_hash", lambda *a, **k: "fixed")
    return tiny_book


def one_line(capsys, code) -> str:
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_an_infinite_number_is_refused_not_passed_as_repr(in_tiny_book, capsys):
    line = one_line(capsys, cli.main(["run", "alpha", "-p", "n=1e999", "--quick"]))
    assert "parameter n=inf is not a finite number" in line and "-p n=1e-3" in line


def test_an_empty_list_where_the_default_has_values_is_refused(in_tiny_book, capsys):
    (in_tiny_book / "book" / "beta.ipynb").write_text(notebook([
        ("code", "quick = False\ndatasets = ['beauty', 'sports']", ["parameters"]),
        ("code", "print(datasets[0])", []),
    ]))
    line = one_line(capsys, cli.main(["run", "beta", "-p", "datasets=[]"]))
    assert "datasets of chapter 'beta' must not be empty" in line and "['beauty', 'sports']" in line


@pytest.mark.parametrize("argv", [["-p", "quick=False", "--quick"], ["-p", "quick=True"]])
def test_quick_is_set_by_the_mode_not_by_a_parameter(in_tiny_book, capsys, argv):
    line = one_line(capsys, cli.main(["run", "alpha", *argv]))
    assert "quick is set by the mode, not by -p" in line and "--quick" in line
    assert not (in_tiny_book / "_build").exists() or not any((in_tiny_book / "_build").rglob("alpha.ipynb"))


def test_parameters_reach_the_chapter_as_checked_json(in_tiny_book, capsys):
    line = one_line(capsys, cli.main(["run", "alpha", "-p", "n={1, 2}"]))
    assert "is not a JSON value" in line
    src, given = book.checked_parameters("alpha", "quick", {"n": 3}, in_tiny_book)
    assert given == {"n": 3, "quick": True} and json.loads(json.dumps(given)) == given


def test_a_truncated_executed_notebook_is_not_up_to_date(in_tiny_book):
    out = in_tiny_book / "_build"
    book.execute_chapter("beta", "quick", out_root=out, root=in_tiny_book, quiet=True)
    dest = out / "quick" / "executed" / "beta.ipynb"
    dest.write_bytes(dest.read_bytes()[:-40])
    again = book.execute_chapter("beta", "quick", out_root=out, root=in_tiny_book, quiet=True)
    assert again["skipped"] is False and json.loads(dest.read_text())["cells"]


def test_a_truncated_notebook_or_toc_in_onepoch_chapters(in_tiny_book, capsys):
    beta = in_tiny_book / "book" / "beta.ipynb"
    beta.write_text(beta.read_text()[:50])
    line = one_line(capsys, cli.main(["chapters"]))
    assert f"{beta} is not a valid notebook" in line and "git checkout beta.ipynb" in line
    toc = in_tiny_book / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/alpha\nchapters:\n  - file: [book/beta\n")
    line = one_line(capsys, cli.main(["chapters"]))
    assert "_toc.yml is not valid YAML (line" in line and "git checkout _toc.yml" in line


def test_an_unreadable_data_folder(tmp_path, monkeypatch, capsys):
    from onepoch.data import sources

    def denied(name, folder, download=False):  # as with chmod 000 (this test may run as root, which reads anyway)
        raise PermissionError(errno.EACCES, "Permission denied", str(folder / "amazon-s3rec"))

    monkeypatch.setattr(sources, "ensure_files", denied)
    line = one_line(capsys, cli.main(["data", "beauty", "--dir", str(tmp_path)]))
    assert "permission denied: " in line and "amazon-s3rec" in line and "chmod" in line


def test_a_chapter_that_hits_a_permission_error_says_the_fix(in_tiny_book):
    (in_tiny_book / "book" / "beta.ipynb").write_text(notebook([
        ("code", "quick = False", ["parameters"]),
        ("code", "raise PermissionError(13, 'Permission denied', '/data/x')", []),
    ]))
    with pytest.raises(BookError, match=r"PermissionError: .*Permission denied.* \(fix: give yourself access"):
        book.execute_chapter("beta", "quick", root=in_tiny_book, quiet=True)


def test_a_cache_that_is_a_file_or_read_only_fails_before_anything_runs(in_tiny_book, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "cache-file"
    blocker.write_text("")
    monkeypatch.setenv("ONEPOCH_CACHE", str(blocker))
    line = one_line(capsys, cli.main(["build", "--quick"]))
    assert "is a file, not a folder; set ONEPOCH_CACHE to a folder" in line
    assert not (in_tiny_book / "_build").exists()  # nothing executed

    def read_only(path, *a, **k):
        raise PermissionError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setenv("ONEPOCH_CACHE", str(tmp_path / "ro"))
    monkeypatch.setattr(Path, "write_bytes", read_only)
    line = one_line(capsys, cli.main(["run", "alpha", "--quick"]))
    assert "is not writable" in line and "nothing was trained" in line


def test_a_full_disk_while_storing_a_run(tmp_path, monkeypatch):
    from onepoch import atomic
    from onepoch.train.trainer import curves_frame

    store = ResultCache(tmp_path)

    def full(path, data, fsync=False):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(atomic, "write_bytes", full)
    frame = curves_frame([(0, 0.0, "test", "auc", 0.5)])
    with pytest.raises(CacheError, match="no space left on the device of the cache .*another disk"):
        store.put("ab" * 32, {"config": {}, "data_checksum": "d", "frame": frame, "seconds": 1.0})
    assert not list(tmp_path.rglob("*.*"))
    assert "ONEPOCH_CACHE" in cli.os_error_text(OSError(errno.ENOSPC, "No space left on device", "/c/x"))


def test_onepoch_jobs_not_a_number(in_tiny_book, monkeypatch, capsys):
    monkeypatch.setenv("ONEPOCH_JOBS", "abc")
    line = one_line(capsys, cli.main(["build", "--quick"]))
    assert "ONEPOCH_JOBS='abc' is not a positive integer" in line


@pytest.mark.parametrize("settings, message", [
    ({"train_eval_size": 1}, "train_eval_size=1 is too small to measure a training AUC"),
    ({"fields": ("user_id", "item_id", "user_id")}, "fields lists user_id more than once"),
    ({"emb_dim": 10**7}, "emb_dim=10000000 is beyond the bound 4_096"),
    ({"hidden": (200, 10**7)}, "hidden=10000000 is beyond the bound 65_536"),
    ({"batch_size": 10**9}, "batch_size=1000000000 is beyond the bound"),
])
def test_settings_that_would_fail_later_or_silently_are_refused(settings, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig(**settings)


def test_a_cache_entry_replaced_by_a_folder(tmp_path):
    store = ResultCache(tmp_path)
    store.path("ab" * 32).mkdir(parents=True)
    with pytest.raises(CacheError, match=r"is a folder or other non-file: remove it \(rm -r"):
        store.get("ab" * 32)


def test_a_successful_chapter_prints_no_kernel_noise(in_tiny_book, capfd):
    book.execute_chapter("beta", "quick", root=in_tiny_book, quiet=True)
    out = capfd.readouterr()
    assert "KeyboardInterrupt caught in kernel" not in out.err + out.out
    assert "IPKernelApp" not in out.err + out.out


def test_without_the_log_level_the_kernel_noise_would_be_seen(tmp_path, capfd):
    """The check above can fail: a papermill child started without the chapter child's
    `--IPKernelApp.log_level=CRITICAL` writes kernel chatter that the same capture sees."""
    import subprocess
    import sys

    src = tmp_path / "n.ipynb"
    src.write_text(notebook([("code", "print(1)", [])]))
    code = ("import papermill, sys; papermill.execute_notebook(sys.argv[1], sys.argv[2], kernel_name='python3', "
            "progress_bar=False, log_output=False)")
    subprocess.run([sys.executable, "-c", code, str(src), str(tmp_path / "out.ipynb")], check=True)
    out = capfd.readouterr()
    assert "IPKernelApp" in out.err + out.out
