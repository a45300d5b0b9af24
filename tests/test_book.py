"""onepoch.book on a throwaway book (see conftest.tiny_book); never the real chapters."""

from __future__ import annotations

import json
import time

import nbformat
import pytest
import yaml

from onepoch import book
from onepoch.book import BookError


@pytest.fixture
def fixed_package_hash(monkeypatch):
    # Other files of the package may change while these tests run (editing);
    # the skip logic is tested against a fixed package hash.
    monkeypatch.setattr(book.stamps, "research_hash", lambda *a, **k: "fixed")


def _cells(path):
    return nbformat.read(path, as_version=4).cells


def test_chapters_follow_toc_with_ledger_last(tiny_book):
    assert book.chapters(tiny_book) == ["alpha", "beta", "ledger"]
    assert set(book.parameters("alpha", tiny_book)) == {"quick", "n", "fail"}


def _reader_first(root):
    """beta first in _toc.yml, declared a reader of the ledger (as the intro's findings are)."""
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/beta\nchapters:\n  - file: book/alpha\n"
                                   "  - file: book/ledger\n  - file: book/notes\n  - file: book/execution\n")
    nb = nbformat.read(root / "book" / "beta.ipynb", as_version=4)
    nb.metadata["onepoch"] = {"reads_ledger": True}
    nb.cells.append(nbformat.v4.new_code_cell("from onepoch.analysis import ledger\nprint(len(ledger.table()))"))
    nbformat.write(nb, root / "book" / "beta.ipynb")


def test_chapters_that_read_the_ledger_run_after_the_others(tiny_book, fixed_package_hash):
    (tiny_book / "_toc.yml").write_text((tiny_book / "_toc.yml").read_text().replace(
        "root: book/alpha\nchapters:\n  - file: book/ledger\n  - file: book/beta",
        "root: book/beta\nchapters:\n  - file: book/ledger\n  - file: book/alpha"))
    assert book.chapters(tiny_book) == ["beta", "alpha", "ledger"]  # no reader declared: _toc order
    _reader_first(tiny_book)
    assert book.chapters(tiny_book) == ["alpha", "beta", "ledger"]
    book.build("quick", root=tiny_book, quiet=True)
    executed = tiny_book / "_build" / "quick" / "executed"
    assert _cells(executed / "beta.ipynb")[-1].outputs[0]["text"] == "1\n"  # it saw alpha's row
    before = book.last_run("beta", "quick", root=tiny_book)["stamp"]
    # alpha's rows change (run again with another n): the reader re-executes with them, unasked
    book.run_chapter("alpha", {"n": 5}, "quick", root=tiny_book, quiet=True)
    assert book.last_run("beta", "quick", root=tiny_book)["stamp"] != before
    assert (executed / "beta.ipynb").stat().st_mtime >= (executed / "alpha.ipynb").stat().st_mtime


def test_reads_ledger_must_be_true_or_false(tiny_book):
    nb = nbformat.read(tiny_book / "book" / "beta.ipynb", as_version=4)
    nb.metadata["onepoch"] = {"reads_ledger": "yes"}
    nbformat.write(nb, tiny_book / "book" / "beta.ipynb")
    with pytest.raises(BookError, match="reads_ledger must be true or false"):
        book.chapters(tiny_book)


def test_effective_values_read_the_quick_block(tmp_path):
    from onepoch.book import effective

    src = tmp_path / "c.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("quick = False\nseeds = [0, 1, 2]\nepochs = 10\nlr = 1e-3"),
                nbformat.v4.new_code_cell("if quick:  # smaller\n    seeds, epochs = [0], 2\n    other = seeds")]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nb, src)
    assert effective.quick_values(src) == {"seeds": "[0]", "epochs": "2", "other": "seeds"}
    defaults = {k: {"default": v} for k, v in (("quick", "False"), ("seeds", "[0, 1, 2]"), ("epochs", "10"),
                                                 ("lr", "1e-3"))}
    got = {e["name"]: (e["value"], e["from"]) for e in effective.effective(src, {"lr": 0.01}, defaults, "quick")}
    assert got == {"quick": ("True", "mode"), "seeds": ("[0]", "quick"), "epochs": ("2", "quick"),
                   "lr": ("0.01", "given")}
    full = {e["name"]: e["from"] for e in effective.effective(src, {}, defaults, "full")}
    assert set(full.values()) == {"default", "mode"}


def test_unknown_chapter_lists_chapters(tiny_book):
    with pytest.raises(BookError, match=r"unknown chapter 'nope'; chapters: alpha, beta, ledger"):
        book.execute_chapter("nope", root=tiny_book)


def test_unknown_parameter_lists_valid_ones(tiny_book):
    with pytest.raises(BookError) as err:
        book.execute_chapter("alpha", parameters={"lr": 0.1}, root=tiny_book)
    msg = str(err.value)
    assert "unknown parameter lr" in msg and "valid parameters: quick=False, n=2, fail=False" in msg


def test_quick_needs_a_quick_parameter(tiny_book):
    (tiny_book / "book" / "beta.ipynb").write_text(
        (tiny_book / "book" / "beta.ipynb").read_text().replace("quick = False", "x = 1")
    )
    with pytest.raises(BookError, match="no 'quick' parameter"):
        book.execute_chapter("beta", "quick", root=tiny_book)


def test_execute_injects_tags_records_and_skips(tiny_book, fixed_package_hash):
    out = tiny_book / "_build"
    rec = book.execute_chapter("alpha", "quick", {"n": 3}, out_root=out, root=tiny_book, quiet=True)
    assert rec["skipped"] is False and rec["seconds"] > 0

    dest = out / "quick" / "executed" / "alpha.ipynb"
    cells = _cells(dest)
    injected = [c for c in cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert "remove-cell" in injected[0].metadata.tags
    assert "quick = True" in injected[0].source and "n = 3" in injected[0].source
    printed = "".join(o.get("text", "") for c in cells if c.cell_type == "code" for o in c.outputs)
    assert "30 True" in printed
    # beneath the parameters: a badge with the mode and the values it ran with
    at = cells.index(injected[0]) + 1
    assert "onepoch-effective" in cells[at].metadata.tags and "onepoch-mode-quick" in cells[at].source
    assert "<code>n = 3</code> <em>(given)</em>" in cells[at].source and "<code>fail = False</code>" in cells[at].source

    # run record next to the notebook; ledger rows in the mode's ledger folder
    run = json.loads((out / "quick" / "executed" / "alpha.run.json").read_text())
    assert run["chapter"] == "alpha" and run["mode"] == "quick" and run["seconds"] > 0
    assert {"name": "n", "value": "3", "from": "given"} in run["effective"]
    rows = json.loads((out / "quick" / "ledger" / "alpha.json").read_text())
    assert rows[0]["claim"] == "C3" and rows[0]["measured"] == "3"
    assert dest.stat().st_mode & 0o044  # readable by others, like any built file
    # nothing half-written left behind
    assert not list((out / "quick" / "tmp").iterdir())

    # unchanged: skipped, output untouched
    mtime = dest.stat().st_mtime_ns
    start = time.perf_counter()
    again = book.execute_chapter("alpha", "quick", {"n": 3}, out_root=out, root=tiny_book, quiet=True)
    assert again["skipped"] is True and time.perf_counter() - start < 2.0
    assert dest.stat().st_mtime_ns == mtime

    # other parameters: executed again
    third = book.execute_chapter("alpha", "quick", {"n": 4}, out_root=out, root=tiny_book, quiet=True)
    assert third["skipped"] is False
    assert any("n = 4" in c.source for c in _cells(dest))

    # a failure keeps the previous output and reports the cell's error in one line
    with pytest.raises(BookError) as err:
        book.execute_chapter("alpha", "quick", {"fail": True}, out_root=out, root=tiny_book, quiet=True)
    msg = str(err.value)
    assert "ValueError: boom at n=2" in msg and "\n" not in msg
    assert any("n = 4" in c.source for c in _cells(dest))
    assert (out / "quick" / "failed" / "alpha.ipynb").is_file()
    assert not [p for p in (out / "quick" / "executed").iterdir() if p.suffix not in (".ipynb", ".json")]


def test_full_mode_without_parameters_injects_nothing(tiny_book, fixed_package_hash):
    out = tiny_book / "_build"
    book.execute_chapter("beta", out_root=out, root=tiny_book, quiet=True)
    cells = _cells(out / "executed" / "beta.ipynb")
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in cells)
    assert cells[-1].outputs[0]["text"] == "beta\n"


def _fake_executed(lay, names):
    lay.executed.mkdir(parents=True, exist_ok=True)
    for name in names:
        (lay.executed / f"{name}.ipynb").write_text(
            (lay.root / "book" / f"{name}.ipynb").read_text()
        )
    return [{"chapter": n, "seconds": 1.5, "finished": "2026-01-01 00:00", "parameters": "{}"} for n in names]


def test_stage_toc_points_to_existing_files(tiny_book):
    lay = book.layout("quick", root=tiny_book)
    records = _fake_executed(lay, ["alpha", "beta", "ledger"])
    stage = book.stage(lay, records)
    toc = yaml.safe_load((stage / "_toc.yml").read_text())
    entries = [toc["root"]] + [c["file"] for c in toc["chapters"]]
    for entry in entries:
        assert (stage / f"{entry}.ipynb").is_file() or (stage / f"{entry}.md").is_file(), entry
    assert (stage / "_config.yml").is_file()
    assert (stage / "_static" / "mathjax" / book.MATHJAX_FILE).is_file()
    page = (stage / "book" / "execution.md").read_text()
    assert "{doc}`alpha`" in page and "1.5 s" in page and "Total" in page


def test_stage_rejects_toc_entry_without_file(tiny_book):
    (tiny_book / "_toc.yml").write_text((tiny_book / "_toc.yml").read_text() + "  - file: book/missing\n")
    lay = book.layout("full", root=tiny_book)
    with pytest.raises(BookError, match="book/missing"):
        book.stage(lay, _fake_executed(lay, ["alpha", "beta", "ledger"]))


def test_build_makes_html_and_second_build_is_fast(tiny_book, fixed_package_hash):
    index = book.build("quick", root=tiny_book, quiet=True)
    html = tiny_book / "_build" / "quick" / "html"
    assert index == html / "index.html" and index.is_file()
    for page in ("alpha", "beta", "ledger", "notes", "execution"):
        assert (html / "book" / f"{page}.html").is_file(), page
    # no network assets: math uses the local MathJax
    alpha = (html / "book" / "alpha.html").read_text()
    assert "_static/mathjax/tex-svg.js" in alpha and "cdn." not in alpha
    # the ledger chapter ran last and saw alpha's row
    ledger = _cells(tiny_book / "_build" / "quick" / "executed" / "ledger.ipynb")
    assert ledger[-1].outputs[0]["text"] == "1\n"
    start = time.perf_counter()
    book.build("quick", root=tiny_book, quiet=True)
    assert time.perf_counter() - start < 3.0


def test_prune_drops_chapters_no_longer_in_toc(tiny_book):
    lay = book.layout("quick", root=tiny_book)
    _fake_executed(lay, ["alpha"])
    lay.ledger.mkdir(parents=True)
    for path in (lay.executed / "gone.ipynb", lay.executed / "gone.run.json",
                 lay.ledger / "gone.json", lay.ledger / "alpha.json"):
        path.write_text("{}")
    removed = book.prune(lay, ["alpha", "beta", "ledger"])
    assert sorted(p.name for p in removed) == ["gone.ipynb", "gone.json", "gone.run.json"]
    assert (lay.executed / "alpha.ipynb").is_file() and (lay.ledger / "alpha.json").is_file()


def test_run_chapter_executes_only_that_chapter_and_the_ledger(tiny_book, fixed_package_hash, monkeypatch):
    calls = []
    real = book.execute
    monkeypatch.setattr(book, "execute", lambda name, *a, **k: calls.append(name) or real(name, *a, **k))
    index = book.run_chapter("alpha", {"n": 7}, "quick", root=tiny_book, quiet=True)
    assert index.is_file()
    assert calls == ["alpha", "ledger"]  # one path: the chapter is executed once, not executed then skipped
    executed = tiny_book / "_build" / "quick" / "executed"
    assert sorted(p.name for p in executed.glob("*.ipynb")) == ["alpha.ipynb", "ledger.ipynb"]
    assert (index.parent / "book" / "beta.html").is_file()  # in the book, without outputs
    page = (tiny_book / "_build" / "quick" / "stage" / "book" / "execution.md").read_text()
    assert "{doc}`beta` | not executed" in page and '"n": 7' in page


def test_a_chapter_is_executed_again_when_a_declared_input_changes(tiny_book, fixed_package_hash):
    src = tiny_book / "book" / "beta.ipynb"
    nb = json.loads(src.read_text())
    nb["metadata"]["onepoch"] = {"inputs": ["results"]}  # like the speed appendix: benchmarks/results
    src.write_text(json.dumps(nb))
    (tiny_book / "results").mkdir()
    (tiny_book / "results" / "a.json").write_text('{"x": 1}')
    out = tiny_book / "_build"

    def run():
        return book.execute_chapter("beta", "quick", {}, out_root=out, root=tiny_book, quiet=True)["skipped"]

    assert run() is False and run() is True
    (tiny_book / "results" / "a.json").write_text('{"x": 2}')  # a re-run benchmark
    assert run() is False and run() is True
    (tiny_book / "results" / "b.json").write_text("{}")
    assert run() is False

    nb["metadata"]["onepoch"] = {"inputs": "results"}
    src.write_text(json.dumps(nb))
    with pytest.raises(BookError, match="inputs must be a list of paths"):
        run()


def test_the_execution_page_counts_the_runs_a_chapter_used_and_their_training_time(tiny_book, fixed_package_hash):
    from conftest import notebook

    (tiny_book / "book" / "beta.ipynb").write_text(notebook([
        ("markdown", "# Beta", []),
        ("code", "quick = False", ["parameters"]),
        ("code", "from onepoch.runs.runner import note_use\n"
                 "note_use('k1', 70.0, True)\nnote_use('k2', 3000.0, False)\nnote_use('k1', 70.0, False)", []),
    ]))
    out = tiny_book / "_build"
    rec = book.execute_chapter("beta", "quick", {}, out_root=out, root=tiny_book, quiet=True)
    assert (rec["runs"], rec["trained"], rec["run_seconds"]) == (2, 1, 3070.0)
    lay = book.layout("quick", out, tiny_book)
    assert not list(lay.tmp.glob("*.jsonl"))  # the log is read into the record, then removed
    page = book.execution_page([rec, {**rec, "chapter": "old"}], lay)
    assert "| {doc}`beta` |" in page and "| 2 (1) | 51 min 10 s |" in page
    assert "| **4** | **1 h 42 min** |" in page
    old = {k: v for k, v in rec.items() if k not in ("runs", "trained", "run_seconds")}
    assert "| ? | ? |" in book.execution_page([old], lay)  # a record from before run logs


def test_editing_the_tooling_re_executes_no_chapter_but_editing_research_code_does(tiny_book, tmp_path, monkeypatch):
    import shutil

    package = tmp_path / "pkg"
    shutil.copytree(book.stamps.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(book.stamps, "PACKAGE", package)
    out = tiny_book / "_build"

    def skipped():
        return book.execute_chapter("beta", "quick", out_root=out, root=tiny_book, quiet=True)["skipped"]

    assert skipped() is False and skipped() is True
    for tooling in ("cli.py", "settings.py", "book/__init__.py", "book/toc.py", "book/execution.py"):
        (package / tooling).write_text((package / tooling).read_text() + "\n# a help string changed\n")
        assert skipped() is True, tooling
    (package / "config.py").write_text((package / "config.py").read_text() + "\n# research code changed\n")
    assert skipped() is False


def test_a_failed_chapter_keeps_its_previous_results_and_the_book_says_it_failed(tiny_book, fixed_package_hash):
    out = tiny_book / "_build"
    book.build("quick", root=tiny_book, quiet=True)
    lay = book.layout("quick", root=tiny_book)
    kept = {p: p.read_bytes() for p in (lay.ledger / "alpha.json", lay.executed / "alpha.ipynb", lay.record("alpha"))}
    with pytest.raises(BookError, match="its previous results stay in the book until it succeeds"):
        book.run_chapter("alpha", {"fail": True}, "quick", root=tiny_book, quiet=True)
    assert {p: p.read_bytes() for p in kept} == kept  # rows, notebook and record untouched
    assert not list(lay.tmp.iterdir())
    # the next `onepoch run` of another chapter: a consistent book, which says alpha's last run failed
    book.run_chapter("beta", {}, "quick", root=tiny_book, quiet=True)
    assert {p: p.read_bytes() for p in kept} == kept
    page = (lay.stage / "book" / "execution.md").read_text()
    assert "{doc}`alpha`" in page and "**failed**: cell [3]: ValueError: boom at n=2" in page
    assert _cells(out / "quick" / "executed" / "ledger.ipynb")[-1].outputs[0]["text"] == "1\n"  # alpha's row
    book.run_chapter("alpha", {"n": 5}, "quick", root=tiny_book, quiet=True)  # success clears the note
    assert "**failed**" not in (lay.stage / "book" / "execution.md").read_text()
    assert json.loads((lay.ledger / "alpha.json").read_text())[0]["measured"] == "5"
