"""Write the README's performance-targets table from benchmarks/results/*.json.

    .venv/bin/python benchmarks/readme.py          # rewrite the block in README.md
    .venv/bin/python benchmarks/readme.py --check  # exit 1 if README.md is out of date

The targets are stated once (benchmarks/targets.py) and the figures once (the
results): the README only shows them. Run it after committing a benchmark's JSON.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from onepoch.benchmarks_report import readme_with_targets

README = Path(__file__).resolve().parents[1] / "README.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that README.md is up to date")
    args = parser.parse_args()
    text = README.read_text()
    new = readme_with_targets(text)
    if args.check:
        if new != text:
            print("README.md's targets table is out of date: run benchmarks/readme.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
