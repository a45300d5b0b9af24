"""End-to-end check of `onepoch results export/import` on the quick book (about 100 small runs).

    ONEPOCH_DATA=... .venv/bin/python .ci/check_results_archive.py WORKDIR [--reuse]

1. `onepoch build --quick` with an empty cache WORKDIR/cache-a (skipped with --reuse when built);
2. `onepoch results export WORKDIR/runs-quick.tar --quick`;
3. `onepoch results import` into an empty WORKDIR/cache-b;
4. `onepoch build --quick` with cache-b: every chapter executes again (the cache folder is part
   of a chapter's stamp), and must train 0 runs;
5. every chapter page (HTML) and every executed notebook's outputs are identical to step 1's.
Exits 1 with the differences otherwise.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ONEPOCH = [sys.executable, "-m", "onepoch.cli"]
QUICK = REPO / "_build" / "quick"


def onepoch(args: list[str], cache: Path) -> None:
    print("$ ONEPOCH_CACHE=" + str(cache), "onepoch", *args, flush=True)
    subprocess.run([*ONEPOCH, *args], cwd=REPO, env={**os.environ, "ONEPOCH_CACHE": str(cache)}, check=True)


def _merged(outs: list) -> list:
    """Consecutive stream outputs of one name joined, as Jupyter shows them: how the kernel happened
    to split a print into messages is timing, not a result."""
    merged: list = []
    for out in outs:
        if merged and out.get("output_type") == "stream" == merged[-1].get("output_type") \
                and out.get("name") == merged[-1].get("name"):
            merged[-1] = {**merged[-1], "text": "".join(merged[-1]["text"]) + "".join(out["text"])}
        else:
            merged.append({**out, "text": "".join(out["text"])} if out.get("output_type") == "stream" else out)
    return merged


def outputs(executed: Path) -> dict[str, list]:
    return {p.stem: [_merged(c.get("outputs", [])) for c in json.loads(p.read_text())["cells"]
                     if c["cell_type"] == "code"] for p in sorted(executed.glob("*.ipynb"))}


def pages(html: Path, names: list[str]) -> dict[str, str]:
    return {n: (html / "book" / f"{n}.html").read_text() for n in names if (html / "book" / f"{n}.html").is_file()}


def main(work: Path, reuse: bool) -> int:
    work.mkdir(parents=True, exist_ok=True)
    if not (reuse and (work / "html-a").is_dir()):
        onepoch(["build", "--quick"], work / "cache-a")
        for name in ("html", "executed"):
            shutil.rmtree(work / f"{name}-a", ignore_errors=True)
            shutil.copytree(QUICK / name, work / f"{name}-a")
    onepoch(["results", "export", str(work / "runs-quick.tar"), "--quick"], work / "cache-a")
    shutil.rmtree(work / "cache-b", ignore_errors=True)
    onepoch(["results", "import", str(work / "runs-quick.tar")], work / "cache-b")
    onepoch(["build", "--quick"], work / "cache-b")
    records = [json.loads(p.read_text()) for p in sorted((QUICK / "executed").glob("*.run.json"))]
    trained, used = sum(r.get("trained", 0) for r in records), sum(r.get("runs", 0) for r in records)
    names = [p.stem for p in (work / "executed-a").glob("*.ipynb")]
    same_out = outputs(work / "executed-a") == outputs(QUICK / "executed")
    a, b = pages(work / "html-a", names), pages(QUICK / "html", names)
    differ = sorted(n for n in a if a[n] != b.get(n))
    print(f"second build: {len(records)} chapters executed, {used} runs used, {trained} trained; "
          f"notebook outputs identical: {same_out}; chapter pages identical: {len(a) - len(differ)}/{len(a)}"
          + (f" (differ: {', '.join(differ)})" if differ else ""))
    return 0 if trained == 0 and same_out and not differ else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), "--reuse" in sys.argv[2:]))
