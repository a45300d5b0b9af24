"""The ``onepoch`` command.

    onepoch build [--quick] [--jobs N] [--force]   execute the chapters, build the HTML book
    onepoch run CHAPTER [-p key=value ...] [--quick]
                                                  re-execute one chapter with other parameters
    onepoch chapters                              list chapters and their parameters
    onepoch data [NAME ...] [--fetch] [--dir PATH]
                                                  which data sets are in the data folder (checked
                                                  against their sha256); --fetch downloads the missing
    onepoch lab [-- JUPYTER_ARGS]                 JupyterLab on the chapters, variables set

Errors are printed as one line on stderr, with exit code 2.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys

from onepoch.errors import OnepochError


class UsageError(OnepochError):
    """Bad command-line input."""


def parse_param(text: str) -> tuple[str, object]:
    """``key=value`` -> (key, value); the value is a Python literal if it parses as one
    (``1e-2``, ``[1, 2]``, ``True``, ``'adam'``), otherwise the text itself."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise UsageError(f"bad parameter {text!r}: write -p name=value, e.g. -p lr=1e-2")
    raw = raw.strip()
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = raw
    return key, value


def parse_params(items: list[str] | None) -> dict:
    params: dict = {}
    for item in items or []:
        key, value = parse_param(item)
        if key in params:
            raise UsageError(f"parameter {key!r} given twice")
        params[key] = value
    return params


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse's own convention)
        raise UsageError(f"{message} (see: {self.prog} --help)")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="onepoch", description="Reproduce the one-epoch phenomenon of deep CTR models: build the book, re-run chapters.")
    from onepoch import __version__

    parser.add_argument("--version", action="version", version=f"onepoch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("build", help="execute the chapters (skipping unchanged ones) and build the HTML book")
    p.add_argument("--quick", action="store_true", help="quick mode: chapters get quick=True; output in _build/quick/")
    p.add_argument("--jobs", "-j", type=int, default=1, help="chapters executed at once (default 1)")
    p.add_argument("--force", action="store_true", help="re-execute every chapter even if unchanged")
    p.add_argument("--no-strict", dest="strict", action="store_false", help="do not turn Sphinx warnings into errors")

    p = sub.add_parser("run", help="re-execute one chapter (with parameters) and rebuild the HTML book")
    p.add_argument("chapter", help="chapter name, e.g. one_epoch (see: onepoch chapters)")
    p.add_argument("-p", "--param", action="append", metavar="NAME=VALUE", default=[],
                   help="override a parameter of the chapter's parameters cell; repeatable")
    p.add_argument("--quick", action="store_true", help="quick mode (output in _build/quick/)")

    sub.add_parser("chapters", help="list the chapters and their parameters with defaults")

    p = sub.add_parser("data", help="which data sets are in the data folder, verified; --fetch downloads the missing")
    p.add_argument("names", nargs="*", metavar="NAME", help="data sets (default: all; see the list this prints)")
    p.add_argument("--fetch", action="store_true",
                   help="download missing files from their public source and verify their sha256")
    p.add_argument("--dir", dest="data_dir", metavar="PATH", help="the data folder (default: $ONEPOCH_DATA)")
    from onepoch import lab

    lab.add_parser(sub)  # onepoch lab: JupyterLab with the book's variables set
    return parser


def _data(names: list[str], fetch: bool, data_dir: str | None) -> int:
    """One line per data set: present and verified, or missing with what to do. Exit status 1 when a
    named data set (or, with --fetch, any) is not ready, 0 otherwise."""
    from onepoch.data import sources
    from onepoch.errors import DataError

    for name in names:
        sources.source(name)  # an unknown name: the error lists the valid ones, before any download
    folder = sources.data_dir(data_dir)  # no folder given at all: a one-line error
    print(f"data folder: {folder}")
    failed = []
    for name in names or list(sources.DATASETS):
        try:
            paths = sources.ensure_files(name, folder, download=fetch)
        except DataError as exc:
            failed.append(name)
            lines = str(exc).splitlines()
            print(f"  {name:<12} MISSING  {lines[0]}")
            for line in lines[1:]:
                print(f"  {'':<12}          {line}")
            continue
        size = sum(p.stat().st_size for p in paths.values())
        print(f"  {name:<12} ok       {len(paths)} file(s), {size / 2**20:,.1f} MiB, sha256 verified where published")
    public = [n for n in failed if all(f.url for f in sources.source(n).files)]
    if public and not fetch:
        print(f"to download what has a public source: onepoch data {' '.join(public)} --fetch"
              + ("" if data_dir is None else f" --dir {folder}"))
    return 1 if failed and (names or fetch) else 0


def _chapters() -> None:
    from onepoch import book

    for name in book.chapters():
        params = book.parameters(name)
        print(name)
        if not params:
            print("    (no parameters cell)")
        for key, info in params.items():
            typ = info.get("inferred_type_name") or ""
            typ = "" if typ in ("None", "") else f"  ({typ})"
            help_ = f"  # {info['help']}" if info.get("help") else ""
            print(f"    {key} = {info['default']}{typ}{help_}")


def main(argv: list[str] | None = None) -> int:
    try:
        args = make_parser().parse_args(argv)
        if args.command is None:
            make_parser().print_help()
            return 0
        from onepoch import book

        mode = "quick" if getattr(args, "quick", False) else "full"
        code = 0
        if args.command == "build":
            if args.jobs < 1:
                raise UsageError("--jobs must be at least 1")
            book.build(mode, jobs=args.jobs, force=args.force, strict=args.strict)
        elif args.command == "run":
            book.run_chapter(args.chapter, parse_params(args.param), mode)
        elif args.command == "chapters":
            _chapters()
        elif args.command == "data":
            code = _data(args.names, args.fetch, args.data_dir)
        elif args.command == "lab":
            from onepoch import lab

            code = lab.lab(args.lab_args)
        sys.stdout.flush()  # a closed pipe shows up here, inside this try, not at interpreter exit
        return code
    except OnepochError as exc:
        print(f"onepoch: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("onepoch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `onepoch chapters | head`: the reader has gone, which is no error of ours
        try:  # keep Python's final flush of stdout from failing (and printing) again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141  # 128 + SIGPIPE, as a shell reports a command cut off by a closed pipe


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
