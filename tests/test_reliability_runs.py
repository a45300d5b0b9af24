"""Reliability, runs and builds: interruption, concurrency, determinism, stale caches.

Real subprocesses are killed (SIGKILL, SIGINT) at seeded random moments: what
they leave is never read as a finished result, and the next sweep or build
resumes from what had finished. Two sweeps, and two builds, at once on the same
cache / build folder both finish correctly. A configuration gives bit-identical
curves in any process, whatever the thread count. The cache keys cover every
setting, the data files, the package's result version and the library versions.

Runs use a small registered S3-Rec style data set (written here, registered
under the name "beauty") through the real `onepoch.data.load`, so the data
cache is exercised too. Book builds use the real `onepoch.book.build` in a real
process, with each chapter "executed" by a small stand-in child process instead
of papermill and a stand-in for Jupyter Book (both far slower).
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import pickle
import random
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from onepoch import atomic, book, config
from onepoch.config import RunConfig
from onepoch.data import dataset
from onepoch.data.sources import DATASETS, DataFile, DatasetSource
from onepoch.runs import ResultCache, runner, sweep

HERE = Path(__file__).resolve()
CONFIGS = [RunConfig(dataset="beauty", construction="last", epochs=2, batch_size=32, eval_every=4, hidden=(16, 8),
                     emb_dim=4, train_eval_size=200, lr=lr) for lr in (1e-3, 1e-2)]
SEEDS = [0, 1]
N_RUNS = len(CONFIGS) * len(SEEDS)


# -- a small data set, registered as "beauty" (also imported by the child processes) ---------------

def register(folder: Path) -> Path:
    """Write (once) and register a 300-user S3-Rec style data set as "beauty"; returns the data folder."""
    files = {}
    rows = []
    for u in range(1, 301):
        n = 4 + (u * 7) % 9
        rows.append(" ".join(map(str, [u, *[1 + (u * 13 + k * k * 5) % 120 for k in range(n)]])))
    files["sequences"] = ("\n".join(rows) + "\n").encode()
    files["attributes"] = json.dumps({str(i): [i % 5 + 1, i % 11 + 1] for i in range(1, 121)}).encode()
    entries = []
    for role, data in files.items():
        path = folder / "small" / role
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        entries.append(DataFile(role, f"small/{role}", hashlib.sha256(data).hexdigest(), "https://example.invalid/"))
    DATASETS["beauty"] = DatasetSource("beauty", "s3rec", tuple(entries))
    return folder


def child_sweep(data_folder: str, out: str) -> None:
    """What a child process runs: the sweep, then its frame pickled to `out`."""
    os.environ["ONEPOCH_DATA"] = str(register(Path(data_folder)))
    print("ready", flush=True)
    frame = sweep(CONFIGS, seeds=SEEDS, n_jobs=1, progress=False)
    Path(out).write_bytes(pickle.dumps(frame))


SWEEP_CHILD = f"""
import sys
sys.path.insert(0, {str(HERE.parent)!r})
import test_reliability_runs as t
t.child_sweep(sys.argv[1], sys.argv[2])
"""


@pytest.fixture
def small(tmp_path, monkeypatch):
    """The registered data set, a fresh run cache; returns (data folder, cache folder)."""
    monkeypatch.setitem(DATASETS, "beauty", DATASETS["beauty"])  # restored after the test
    monkeypatch.setenv("ONEPOCH_DATA", str(register(tmp_path / "data")))
    monkeypatch.setenv("ONEPOCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ONEPOCH_PROGRESS", "0")
    dataset.clear_memory_cache()
    yield tmp_path / "data", tmp_path / "cache"
    dataset.clear_memory_cache()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The sweep's frame, computed once in this process with torch at 2 threads (runs pin 1)."""
    import torch

    folder = tmp_path_factory.mktemp("reference")
    saved = DATASETS["beauty"]
    env = {k: os.environ.get(k) for k in ("ONEPOCH_DATA", "ONEPOCH_CACHE", "ONEPOCH_PROGRESS")}
    threads = torch.get_num_threads()
    try:
        os.environ.update(ONEPOCH_DATA=str(register(folder / "data")), ONEPOCH_CACHE=str(folder / "cache"),
                          ONEPOCH_PROGRESS="0")
        torch.set_num_threads(2)
        dataset.clear_memory_cache()
        return sweep(CONFIGS, seeds=SEEDS, n_jobs=1, progress=False)
    finally:
        torch.set_num_threads(threads)
        DATASETS["beauty"] = saved
        for k, v in env.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        dataset.clear_memory_cache()


def start(script: str, *args, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=HERE.parent.parent, **kw)


def wait_for(condition, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Poll until `condition()` holds (the child's progress, seen from outside)."""
    end = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the child ended first: {proc.stderr.read()}"
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def wait_ready(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline()
    assert line.strip() == "ready", (line, proc.stderr.read() if proc.poll() is not None else "")


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "runs").rglob("*.json"))


def read_all_strictly(cache: Path) -> dict:
    """Every run cache entry, read with warnings as errors: a corrupted entry would warn and be dropped."""
    store = ResultCache(cache / "runs")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return {p.stem: store.get(p.stem) for p in entries(cache)}


def count_fits(monkeypatch) -> list:
    from onepoch.train import trainer

    calls, real = [], trainer.fit

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer, "fit", counting)
    return calls


# -- interruption -------------------------------------------------------------------------------

CACHE_WRITER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("cache", sys.argv[1])
cache = importlib.util.module_from_spec(spec); spec.loader.exec_module(cache)  # no torch: starts fast
from onepoch.train.trainer import curves_frame
store = cache.ResultCache(sys.argv[2])
print("ready", flush=True)
for i in range(10_000):
    frame = curves_frame([(j, float(i), "test", "auc", float(j % 251)) for j in range(200_000)])
    store.put(f"{i:064x}", {"config": {"i": i}, "data_checksum": "x", "frame": frame, "seconds": 1.0})
"""


@pytest.mark.parametrize("sig, delays", [(signal.SIGKILL, (0.1, 0.6)), (signal.SIGINT, (0.3,))])
def test_killing_cache_writes_at_random_moments_leaves_only_whole_entries(tmp_path, sig, delays):
    rng = random.Random(sig)
    module = Path(config.__file__).parent / "runs" / "cache.py"
    for attempt, delay in enumerate(delays):
        root = tmp_path / f"attempt{attempt}"
        proc = start(CACHE_WRITER, module, root)
        wait_ready(proc)
        time.sleep(delay * rng.uniform(0.8, 1.2))
        proc.send_signal(sig)
        proc.wait(timeout=30)
        assert proc.returncode != 0  # it was writing, not done
        store = ResultCache(root)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an entry failing its checksum would warn
            for path in root.rglob("*.json"):
                value = store.get(path.stem)
                i = value["config"]["i"]
                assert path.stem == f"{i:064x}" and len(value["frame"]) == 200_000
                assert (value["frame"]["epoch"] == float(i)).all()
        leftovers = [p for p in root.rglob("*") if p.is_file() and p.suffix not in (".json", ".parquet")]
        assert all(p.name.startswith(".") and p.suffix == ".tmp" for p in leftovers)  # never read as entries
        if sig == signal.SIGINT:
            assert not leftovers  # an interrupted write removes its temporary file


def test_killing_a_sweep_keeps_finished_runs_and_the_next_sweep_resumes(small, reference, monkeypatch):
    data_folder, cache = small
    proc = start(SWEEP_CHILD, data_folder, cache / "never-written.pkl")
    wait_ready(proc)
    wait_for(lambda: entries(cache), proc)  # a run has finished: kill at a seeded random moment after it
    time.sleep(random.Random(7).uniform(0.0, 0.1))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    finished = read_all_strictly(cache)
    assert 0 < len(finished) < N_RUNS, "killed too late: nothing was interrupted"
    for path in (cache / "data").glob("*.pt"):  # a data cache file there is whole and right
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert dataset._read_cache(path, path.stem) is not None

    calls = count_fits(monkeypatch)
    resumed = sweep(CONFIGS, seeds=SEEDS, n_jobs=1, progress=False)
    assert len(calls) == N_RUNS - len(finished)  # only what had not finished is run again
    pd.testing.assert_frame_equal(resumed, reference)  # and the killed process' entries are right
    assert len(entries(cache)) == N_RUNS


# -- concurrency -------------------------------------------------------------------------------

def test_two_sweeps_at_once_on_one_cache_both_finish_with_identical_curves(small, reference):
    data_folder, cache = small
    proc = start(SWEEP_CHILD, data_folder, cache.parent / "child.pkl")
    wait_ready(proc)
    here = sweep(CONFIGS, seeds=SEEDS, n_jobs=1, progress=False)  # meanwhile, the same sweep here
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    # bit-identical to each other and to the reference (another process, another thread count)
    pd.testing.assert_frame_equal(pickle.loads((cache.parent / "child.pkl").read_bytes()), reference)
    pd.testing.assert_frame_equal(here, reference)
    assert len(read_all_strictly(cache)) == N_RUNS
    assert len(list((cache / "data").glob("*.pt"))) == len(SEEDS)  # each seed draws its own data (data_seed = seed)
    assert not [p for p in cache.rglob("*") if p.is_file() and p.suffix not in (".json", ".parquet", ".pt")]


# -- determinism -------------------------------------------------------------------------------

def test_the_same_configuration_and_seed_give_bit_identical_curves(small, reference):
    import torch

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        again = sweep(CONFIGS, seeds=SEEDS, n_jobs=1, progress=False)
    finally:
        torch.set_num_threads(threads)
    pd.testing.assert_frame_equal(again, reference)  # other process state, other thread count: same bits
    assert torch.get_num_threads() == threads  # runs pin one thread and give it back
    # the parallel sweep (joblib processes) = serial: tests/test_runs.py::test_parallel_sweep_gives_the_same_curves_as_serial


# -- stale cache entries: the keys cover everything that changes the numbers ---------------------------

def _other(value):
    """A different value of the same kind (validity does not matter: only the key is computed)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "-other"
    if isinstance(value, tuple):
        return value[:-1] if len(value) > 1 else (*value, value[0] if value else "x")
    if value is None:
        return 7
    raise AssertionError(f"add a case for {value!r}")


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(RunConfig)])
def test_the_run_key_covers_every_setting(field):
    base = RunConfig()
    changed = copy.copy(base)
    object.__setattr__(changed, field, _other(getattr(base, field)))
    assert changed.key("data") != base.key("data"), f"RunConfig.{field} is not in the cache key"


def test_the_run_key_covers_data_result_version_torch_and_library_versions(monkeypatch):
    import torch

    cfg = RunConfig()
    base = cfg.key("data")
    assert cfg.key("other data") != base
    monkeypatch.setattr(config, "RESULT_VERSION", config.RESULT_VERSION + 1)
    assert cfg.key("data") != base
    monkeypatch.undo()
    monkeypatch.setattr(torch, "__version__", "2.99.0")
    assert cfg.key("data") != base
    monkeypatch.undo()
    assert cfg.key("data") == base
    for package in config.KEYED_LIBRARIES:
        monkeypatch.setattr(config, "installed_version", lambda p, package=package: (
            "0.0.1" if p == package else config.KEYED_LIBRARIES[p]))
        assert cfg.key("data") != base, package
    # at the versions the cached results were computed with, the key is the one it always was
    monkeypatch.setattr(config, "installed_version", lambda p: config.KEYED_LIBRARIES[p])
    assert cfg.key("data") == base == _key_without_libraries(cfg, "data")


def _key_without_libraries(cfg: RunConfig, data: str) -> str:
    import torch

    settings = {k: v for k, v in cfg.as_dict().items() if k not in config.NEUTRAL or v != config.NEUTRAL[k]}
    payload = {"config": settings, "data": data, "version": config.RESULT_VERSION, "torch": torch.__version__}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def test_the_data_key_covers_file_contents_parameters_data_version_and_numpy(small, monkeypatch):
    from onepoch.data import load

    base = load("beauty").checksum
    assert load("beauty", seed=1).checksum != base and load("beauty", max_history=5).checksum != base
    monkeypatch.setattr(dataset, "DATA_VERSION", dataset.DATA_VERSION + 1)
    assert load("beauty").checksum != base
    monkeypatch.setattr(dataset, "DATA_VERSION", dataset.DATA_VERSION - 1)
    monkeypatch.setattr(config, "installed_version", lambda p: "0.0.1" if p == "numpy" else config.KEYED_LIBRARIES[p])
    assert load("beauty").checksum != base
    monkeypatch.setattr(config, "installed_version", lambda p: config.KEYED_LIBRARIES[p])
    assert load("beauty").checksum == base


def test_a_changed_data_file_or_setting_never_hits_a_stale_run(small, monkeypatch):
    data_folder, cache = small
    calls = count_fits(monkeypatch)
    cfg = CONFIGS[0]
    first = runner.run(cfg, progress=False)
    assert runner.run(cfg, progress=False) is not None and len(calls) == 1  # a hit
    runner.run(cfg.replace(emb_init_std=0.02), progress=False)  # a setting unused by this model: still a miss
    assert len(calls) == 2
    # the same files with other contents (a corrected release, pinned anew): a miss
    seq = data_folder / "small" / "sequences"
    seq.write_bytes(seq.read_bytes().replace(b"\n7 ", b"\n7 3 ", 1))
    src = DATASETS["beauty"]
    files = tuple(dataclasses.replace(f, sha256=hashlib.sha256((data_folder / f.path).read_bytes()).hexdigest())
                  for f in src.files)
    monkeypatch.setitem(DATASETS, "beauty", dataclasses.replace(src, files=files))
    dataset.clear_memory_cache()
    second = runner.run(cfg, progress=False)
    assert len(calls) == 3 and len(entries(cache)) == 3
    assert not first.equals(second)


def test_a_corrupted_run_entry_is_detected_and_redone(small, monkeypatch):
    data_folder, cache = small
    calls = count_fits(monkeypatch)
    first = runner.run(CONFIGS[0], progress=False)
    (path,) = entries(cache)
    blob = bytearray(path.read_bytes())
    # flip the case of a letter near the middle: the file stays valid JSON, only its checksum can tell
    at = next(i for i in range(len(blob) // 2, len(blob)) if chr(blob[i]).isalpha())
    blob[at] ^= 0x20
    path.write_bytes(bytes(blob))
    with pytest.warns(UserWarning, match="invalid cache entry .*checksum mismatch"):
        again = runner.run(CONFIGS[0], progress=False)
    assert len(calls) == 2
    pd.testing.assert_frame_equal(again, first)


# -- book builds: killed, and two at once ---------------------------------------------------------

FAKE_CHAPTER = """
import ast, json, os, sys, time
import nbformat
spec = json.loads(sys.argv[1])
name = os.environ["ONEPOCH_CHAPTER"]
parent = os.getppid()
def orphaned():  # its build was killed (papermill's kernel would go on; this stand-in stops)
    if os.getppid() != parent:
        sys.exit(1)
nb = nbformat.read(spec["source"], as_version=4)
time.sleep(0.3)
orphaned()
if name != "ledger":
    from onepoch.analysis import ledger
    ledger.record("C1", "x", 1, "agrees", chapter=name)
for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
    cell.execution_count = i + 1
    cell.outputs = [nbformat.v4.new_output("stream", text=f"{name} ran\\n")]
    orphaned()
    nbformat.write(nb, spec["output"])  # written cell by cell, like papermill
    time.sleep(0.05)
orphaned()
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(name + "\\n")
"""

BUILD_CHILD = """
import json, sys
from onepoch import atomic, book
from onepoch.book import execution, stamps
def html(lay, strict=True, quiet=False, force=False):
    import time
    time.sleep(0.3)
    atomic.write_text(lay.html / "index.html", book.folder_hash_all(lay.stage))
    return lay.html / "index.html"
execution.child_command = lambda spec: [sys.executable, sys.argv[2], json.dumps(spec)]  # the stand-in, not papermill
book.build_html = html
stamps.research_hash = lambda *a, **k: "fixed"
print("ready", flush=True)
if len(sys.argv) > 3:  # wait for the go: two builds then really start together
    import os, time
    while not os.path.exists(sys.argv[3]):
        time.sleep(0.01)
book.build("quick", root=sys.argv[1], strict=False)
"""


@pytest.fixture
def small_book(tiny_book, tmp_path, monkeypatch):
    fake = tmp_path / "fake_chapter.py"
    fake.write_text(FAKE_CHAPTER)
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "executions.log"))
    monkeypatch.setenv("PYTHONPATH", str(HERE.parent.parent))
    return tiny_book, fake, tmp_path / "executions.log"


def executions(log: Path) -> list[str]:
    return log.read_text().split() if log.is_file() else []


def check_build_state(root: Path) -> list[str]:
    """What a later build would take as finished is whole; returns the chapters it takes as up to date."""
    lay = book.layout("quick", root=root)
    done = []
    for name in book.chapters(root):
        record = book.read_record(lay, name)
        if not record or record.get("stamp") is None:
            continue
        nb = nbformat.read(lay.executed / f"{name}.ipynb", as_version=4)  # whole, valid JSON
        assert all(c.execution_count and c.outputs for c in nb.cells if c.cell_type == "code"), name
        if name != book.LEDGER_CHAPTER:
            assert json.loads((lay.ledger / f"{name}.json").read_text())[0]["chapter"] == name
        done.append(name)
    if lay.executed.is_dir():
        assert {p.suffix for p in lay.executed.iterdir()} <= {".ipynb", ".json"}
    return done


def execute_here(root: Path, fake: Path, monkeypatch) -> dict:
    monkeypatch.setattr(book.execution, "child_command", _stand_in(fake))
    monkeypatch.setattr(book.stamps, "research_hash", lambda *a, **k: "fixed")
    return book.execute_chapter("alpha", "quick", root=root, quiet=True)


def _stand_in(fake: Path):
    return lambda spec: [sys.executable, str(fake), json.dumps(spec)]


def build_here(root: Path, fake: Path, monkeypatch):
    def html(lay, strict=True, quiet=False, force=False):
        atomic.write_text(lay.html / "index.html", book.folder_hash_all(lay.stage))
        return lay.html / "index.html"

    monkeypatch.setattr(book.execution, "child_command", _stand_in(fake))
    monkeypatch.setattr(book, "build_html", html)
    monkeypatch.setattr(book.stamps, "research_hash", lambda *a, **k: "fixed")
    return book.build("quick", root=root, strict=False, quiet=True)


@pytest.mark.parametrize("sig, moment", [(signal.SIGKILL, "alpha done"), (signal.SIGINT, "alpha running")])
def test_killing_a_build_leaves_nothing_half_done_and_the_next_build_resumes(small_book, monkeypatch, sig, moment):
    root, fake, log = small_book
    lay = book.layout("quick", root=root)
    proc = start(BUILD_CHILD, root, fake)
    wait_ready(proc)
    if moment == "alpha done":  # then, at a seeded random moment: during the next chapter
        wait_for(lambda: (lay.executed / "alpha.run.json").is_file(), proc)
    else:
        wait_for(lambda: lay.tmp.is_dir() and any(lay.tmp.glob("alpha.*/alpha.ipynb")), proc)
    time.sleep(random.Random(moment).uniform(0.0, 0.4))
    proc.send_signal(sig)
    proc.wait(timeout=60)
    time.sleep(1.0)  # a chapter child orphaned by SIGKILL finishes, writing only into the temporary folder
    before = executions(log)
    done = check_build_state(root)
    index = build_here(root, fake, monkeypatch)
    assert index.is_file()
    again = executions(log)[len(before):]
    chapters = book.chapters(root)
    # what had not finished is executed; what had finished is not (the ledger page may follow a rerun)
    assert set(chapters) - set(done) <= set(again)
    assert not set(again) & (set(done) - {book.LEDGER_CHAPTER})
    assert check_build_state(root) == chapters
    assert not list((book.layout("quick", root=root).tmp).glob("*"))


def test_an_interrupted_execution_leaves_the_previous_results_whole(small_book, monkeypatch):
    root, fake, log = small_book
    execute_here(root, fake, monkeypatch)
    lay = book.layout("quick", root=root)
    assert check_build_state(root) == ["alpha"]
    before = {p.name: p.read_bytes() for p in [*lay.executed.iterdir(), *lay.ledger.glob("*.json")]}

    def interrupted(cmd, **kw):  # Ctrl-C while the chapter runs
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(book.execution.processes, "run", interrupted)
        m.setattr(book.stamps, "research_hash", lambda *a, **k: "fixed")
        with pytest.raises(KeyboardInterrupt):
            book.execute_chapter("alpha", "quick", root=root, force=True, quiet=True)
    # the previous notebook, record and ledger rows are untouched, and still agree with each other
    assert {p.name: p.read_bytes() for p in [*lay.executed.iterdir(), *lay.ledger.glob("*.json")]} == before
    assert check_build_state(root) == ["alpha"]
    assert execute_here(root, fake, monkeypatch)["skipped"] is True
    assert not list(lay.tmp.iterdir())


def test_two_builds_at_once_on_one_folder_both_finish(small_book):
    root, fake, log = small_book
    go = root.parent / "go"
    procs = [start(BUILD_CHILD, root, fake, go) for _ in range(2)]
    for proc in procs:
        wait_ready(proc)
    go.touch()
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err
    assert sorted(executions(log)) == sorted(book.chapters(root))  # each chapter executed once
    assert any("another build is running" in err for _, err in results)
    assert check_build_state(root) == book.chapters(root)
    lay = book.layout("quick", root=root)
    assert (lay.html / "index.html").read_text() == book.folder_hash_all(lay.stage)
    assert not list(lay.tmp.glob("*"))


def test_the_build_lock_is_released_when_its_holder_is_killed(tiny_book):
    lay = book.layout("quick", root=tiny_book)
    holder = start(f"""
from onepoch import book
import time
with book.build_lock(book.layout("quick", root={str(tiny_book)!r}), quiet=True):
    print("ready", flush=True)
    time.sleep(60)
""")
    wait_ready(holder)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    start_time = time.perf_counter()
    with book.build_lock(lay, quiet=True):
        assert time.perf_counter() - start_time < 5
