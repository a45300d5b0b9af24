"""The onepoch command: parsing and error messages (one line, exit code 2)."""

from __future__ import annotations

import pytest

from onepoch import book, cli


@pytest.fixture
def in_tiny_book(tiny_book, monkeypatch):
    monkeypatch.setattr(book.paths, "ROOT", tiny_book)
    return tiny_book


def _one_line_error(capsys, code):
    out = capsys.readouterr()
    assert code == 2
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("onepoch: error: "), out.err
    assert "Traceback" not in out.err
    return lines[0]


@pytest.mark.parametrize("text, expected", [
    ("lr=1e-2", ("lr", 0.01)),
    ("epochs=3", ("epochs", 3)),
    ("seeds=[1, 2, 3]", ("seeds", [1, 2, 3])),
    ("optimizer=adam", ("optimizer", "adam")),
    ("optimizer='adam'", ("optimizer", "adam")),
    ("quick=True", ("quick", True)),
    ("data=None", ("data", None)),
    (" name = a b ", ("name", "a b")),
    ("path=/tmp/x=1", ("path", "/tmp/x=1")),
])
def test_parse_param(text, expected):
    assert cli.parse_param(text) == expected


@pytest.mark.parametrize("text", ["lr", "=3", "1x=3", "a-b=1"])
def test_parse_param_rejects_bad_syntax(text):
    with pytest.raises(cli.UsageError, match="bad parameter"):
        cli.parse_param(text)


def test_bad_param_syntax_is_one_line(in_tiny_book, capsys):
    line = _one_line_error(capsys, cli.main(["run", "alpha", "-p", "n"]))
    assert "bad parameter 'n'" in line and "-p name=value" in line


def test_repeated_param(in_tiny_book, capsys):
    line = _one_line_error(capsys, cli.main(["run", "alpha", "-p", "n=1", "-p", "n=2"]))
    assert "given twice" in line


def test_unknown_chapter(in_tiny_book, capsys):
    line = _one_line_error(capsys, cli.main(["run", "nope"]))
    assert "unknown chapter 'nope'; chapters: alpha, beta, ledger" in line
    assert not (in_tiny_book / "_build").exists()  # refused before anything ran


def test_unknown_parameter(in_tiny_book, capsys):
    line = _one_line_error(capsys, cli.main(["run", "alpha", "-p", "lr=0.1"]))
    assert "unknown parameter lr" in line and "valid parameters: quick=False, n=2, fail=False" in line


def test_unknown_command_and_option(capsys):
    line = _one_line_error(capsys, cli.main(["bake"]))
    assert "invalid choice: 'bake'" in line
    line = _one_line_error(capsys, cli.main(["build", "--fast"]))
    assert "unrecognized arguments: --fast" in line


def test_chapters_lists_parameters(in_tiny_book, capsys):
    assert cli.main(["chapters"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "alpha"
    assert "    n = 2" in out and "    quick = False" in out
    assert out.index("beta") < out.index("ledger")


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("onepoch ")


def test_data_reports_missing_then_fetches_and_verifies(tiny_source, capsys):
    folder, contents = tiny_source
    assert cli.main(["data", "tiny", "--dir", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "tiny" in out and "MISSING" in out and "tiny/tiny.sequences" in out
    assert f"onepoch data tiny --fetch --dir {folder}" in out  # the fix, ready to paste
    assert not folder.exists()  # looking writes nothing

    assert cli.main(["data", "tiny", "--dir", str(folder), "--fetch"]) == 0
    assert "ok" in capsys.readouterr().out
    assert (folder / "tiny/tiny.sequences").read_bytes() == contents["sequences"]

    (folder / "tiny/tiny.attributes").write_bytes(b"{}")  # a changed file is caught, not trusted
    assert cli.main(["data", "tiny", "--dir", str(folder)]) == 1
    assert "checksum mismatch" in capsys.readouterr().out


def test_data_errors_are_one_line(tmp_path, monkeypatch, capsys):
    line = _one_line_error(capsys, cli.main(["data", "nope", "--dir", str(tmp_path)]))
    assert "unknown data set 'nope'; choose one of: beauty" in line
    monkeypatch.delenv("ONEPOCH_DATA", raising=False)
    line = _one_line_error(capsys, cli.main(["data"]))
    assert "ONEPOCH_DATA" in line


def test_a_parameter_that_quick_mode_replaces_is_an_error_not_ignored(in_tiny_book, capsys):
    from conftest import notebook

    (in_tiny_book / "book" / "beta.ipynb").write_text(notebook([
        ("markdown", "# Beta", []),
        ("code", "quick = False\nseeds = [0, 1, 2]\nlr = 1e-3", ["parameters"]),
        ("code", "if quick:  # smaller\n    seeds, other = [0], 1\nprint(seeds, lr)", []),
    ]))
    line = _one_line_error(capsys, cli.main(["run", "beta", "-p", "seeds=[5]", "--quick"]))
    assert "parameter seeds of chapter 'beta' is replaced by its quick mode" in line and "without --quick" in line
    assert book.quick_overrides(in_tiny_book / "book" / "beta.ipynb") == {"seeds", "other"}
    assert cli.main(["run", "beta", "-p", "lr=0.01", "--quick"]) == 0  # not replaced: runs, with the value given
    assert "[0] 0.01" in (in_tiny_book / "_build" / "quick" / "executed" / "beta.ipynb").read_text()


def test_output_cut_off_by_a_closed_pipe_is_not_a_traceback(in_tiny_book):
    import subprocess
    import sys

    code = ("import sys; from onepoch import book, cli; from pathlib import Path; "
            f"book.paths.ROOT = Path({str(in_tiny_book)!r}); sys.exit(cli.main(['chapters']))")
    proc = subprocess.run(["bash", "-c", f'"{sys.executable}" -c "$CODE" | head -c 3'], capture_output=True,
                          text=True, env={**__import__("os").environ, "CODE": code})
    assert proc.stdout == "alp" and "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr


def test_data_suggests_fetch_only_for_data_sets_with_a_public_source(tmp_path, capsys):
    assert cli.main(["data", "beauty", "taobao", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "onepoch data beauty --fetch" in out and "taobao --fetch" not in out
