"""The ``onepoch`` command.

    onepoch build [--quick] [--jobs N] [--force]   execute the chapters, build the HTML book
    onepoch run CHAPTER [-p key=value ...] [--quick]
                                                  re-execute one chapter with other parameters
    onepoch chapters                              list chapters and their parameters
    onepoch results export FILE [--quick | --all] | import FILE | migrate
                                                  share the runs of a build; convert old cache entries
    onepoch data [NAME ...] [--fetch] [--dir PATH]
                                                  which data sets are in the data folder (checked
                                                  against their sha256); --fetch downloads the missing
    onepoch data add NAME FILE [--format F] [--user COL --item COL --time COL --category COL --label COL ...]
                                                  add your own data set (book/your_data.md)
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


def os_error_text(exc: OSError) -> str:
    """One line for a file-system error: what, where, and the fix."""
    import errno

    where = f" {exc.filename}" if exc.filename else ""
    if isinstance(exc, PermissionError):
        return (f"permission denied:{where}: give yourself access to it (chmod / chown), or point ONEPOCH_DATA "
                f"or ONEPOCH_CACHE at a folder you can use")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"no space left on the device{where and ' of' + where}: free some space, or set ONEPOCH_CACHE to "
                f"a folder on another disk; what was being written was discarded, nothing half-written is kept")
    return f"{exc.strerror or exc}:{where}: check that the path exists and is usable"


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

    p = sub.add_parser("results", help="the run cache: export/import the runs of a build, migrate old entries")
    acts = p.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser, required=True)
    q = acts.add_parser("export", help="write the runs the last build used to an archive (checksummed)")
    q.add_argument("file", help="the archive to write, e.g. onepoch-runs.tar")
    q.add_argument("--quick", action="store_true", help="the runs of the quick book (default: the full book)")
    q.add_argument("--all", action="store_true",
                   help="every run in the cache, not only those of the last build (e.g. of an interrupted one)")
    q = acts.add_parser("import", help="add the runs of an archive to the cache, each verified first")
    q.add_argument("file", help="an archive written by `onepoch results export`")
    acts.add_parser("migrate", help="convert old pickle entries of the cache (written by onepoch on this "
                                    "machine) to the data format, once; never for files from elsewhere")
    from onepoch import lab

    lab.add_parser(sub)  # onepoch lab: JupyterLab with the book's variables set
    return parser


def _results(args) -> int:
    if args.action == "migrate":
        from onepoch.book.execution import book_cache
        from onepoch.runs.migrate import migrate

        done, failed = migrate(book_cache())
        for line in failed:
            print(f"  not migrated: {line}", file=sys.stderr)
        print(f"{done} cache entr{'y' if done == 1 else 'ies'} migrated, {len(failed)} not")
        return 1 if failed else 0
    from onepoch.runs import archive

    if args.action == "export":
        n, size = archive.export_build("quick" if args.quick else "full", args.file, everything=args.all)
        print(f"{n} runs written to {args.file} ({size / 2**20:.1f} MiB)")
    else:
        added, present = archive.import_archive(args.file)
        print(f"{added} runs added to the cache, {present} already there")
    return 0


def _data(names: list[str], fetch: bool, data_dir: str | None) -> int:
    """One line per data set: present and verified, or missing with what to do. Exit status 1 when a
    named data set (or, with --fetch, any) is not ready, 0 otherwise."""
    from onepoch.data import sources
    from onepoch.errors import DataError

    for name in names:
        sources.source(name, data_dir)  # an unknown name: the error lists the valid ones, before any download
    folder = sources.data_dir(data_dir)  # no folder given at all: a one-line error
    print(f"data folder: {folder}")
    failed = []
    for name in names or [n for n in sources.names(folder) if n != "synthetic"]:
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
    public = [n for n in failed if all(f.url for f in sources.source(n, folder).files)]
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


def _data_add(argv: list[str]) -> int:
    """`onepoch data add NAME FILE ...`: check the file, register it in the data folder's datasets.toml."""
    from onepoch.data import register

    p = argparse.ArgumentParser(prog="onepoch data add", description="add your own data set (book/your_data.md)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", choices=("interactions", "sequences", "tabular"),
                   help="default: tabular with --label, interactions with --user/--item/--time, else sequences")
    p.add_argument("--layout", choices=tuple(register.LAYOUTS), help="a standard tabular layout (column names, separator)")
    for col in ("user", "item", "time", "category", "label"):
        p.add_argument(f"--{col}", metavar="COL", help=f"the {col} column")
    for cols in ("categorical", "numeric", "skip", "columns"):
        p.add_argument(f"--{cols}", metavar="A,B,...", type=lambda t: [c for c in t.split(",") if c],
                       help="tabular: " + {"categorical": "the categorical columns (default: all others)",
                                           "numeric": "numeric columns, bucketized", "skip": "columns to leave out",
                                           "columns": "names of the columns of a file without a header"}[cols])
    p.add_argument("--attributes", metavar="JSON", help="sequences: item -> attributes JSON (last = category)")
    p.add_argument("--sep", help="column separator (default: from the file name: .csv ',', .tsv/.txt tab)")
    p.add_argument("--no-header", dest="header", action="store_false", default=None,
                   help="the file has no header line (name the columns with --columns)")
    p.add_argument("--dir", dest="data_dir", metavar="PATH", help="the data folder (default: $ONEPOCH_DATA)")
    a = vars(p.parse_args(argv))
    if a.get("sep") == "\\t":
        a["sep"] = "\t"
    entry = register.add(a.pop("name"), a.pop("file"), a.pop("format"), attributes=a.pop("attributes"),
                         layout=a.pop("layout"), data_dir=a.pop("data_dir"), **a)
    print(f"added: {entry['description']}; format {entry['format']}, sha256 {entry['file_sha256'][:16]}...")
    return 0


def main(argv: list[str] | None = None) -> int:
    from onepoch.book.processes import Stopped, handle_stop_signals

    try:
        if argv is None:  # the command itself (not a test calling main): SIGTERM/SIGHUP stop it like Ctrl-C
            handle_stop_signals()
        argv = sys.argv[1:] if argv is None else list(argv)
        if argv[:2] == ["data", "add"]:
            return _data_add(argv[2:])
        args = make_parser().parse_args(argv)
        if args.command is None:
            make_parser().print_help()
            return 0
        from onepoch import book

        mode = "quick" if getattr(args, "quick", False) else "full"
        code = 0
        if args.command in ("build", "run"):
            from onepoch import settings

            settings.jobs()  # a bad ONEPOCH_JOBS fails here, not inside a chapter
            book.execution.book_cache().check_writable()  # nothing trains into a cache that cannot take it
        if args.command == "build":
            if args.jobs < 1:
                raise UsageError("--jobs must be at least 1")
            book.build(mode, jobs=args.jobs, force=args.force, strict=args.strict)
        elif args.command == "run":
            book.run_chapter(args.chapter, parse_params(args.param), mode)
        elif args.command == "chapters":
            _chapters()
        elif args.command == "results":
            code = _results(args)
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
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP: the children are stopped by now
        signum = exc.signum if isinstance(exc, Stopped) else 2
        print(f"onepoch: interrupted ({'Ctrl-C' if signum == 2 else Stopped(signum)}); "
              "finished chapters and runs are kept, the next build resumes", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:  # `onepoch chapters | head`: the reader has gone, which is no error of ours
        try:  # keep Python's final flush of stdout from failing (and printing) again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141  # 128 + SIGPIPE, as a shell reports a command cut off by a closed pipe
    except OSError as exc:  # file-system faults (permissions, a full disk): one line, with the fix
        print(f"onepoch: error: {os_error_text(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
