"""``onepoch lab``: JupyterLab on the chapters, from the project's environment, with the data, cache
and ledger folders set as a build sets them, so a chapter run cell by cell behaves like its
papermill run (set ``quick = True`` in its parameters cell for the quick settings).

JupyterLab is an optional extra (``pip install -e .[lab]`` puts it beside the package). The
command installs it, pinned by constraints.txt, into its own environment ``.venv-lab`` the first
time it is needed, and starts it there with the project's kernel ("Python 3 (onepoch)", the
project's environment): JupyterLab's dependencies pull in a JSON-schema format checker whose
import costs seconds, which every papermill run and test of the project would pay if it lived
in the project's environment.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from onepoch.errors import OnepochError

LAB_REQUIREMENT = "jupyterlab==4.6.6"  # the same pin as pyproject's [lab] extra and constraints.txt


class LabError(OnepochError):
    """JupyterLab could not be installed or started."""


def repo_root() -> Path:
    """The checkout that holds book/ and _toc.yml (this package's parent folder)."""
    return Path(__file__).resolve().parent.parent


def environment(root: Path | None = None, base: dict | None = None) -> dict:
    """The variables a chapter reads, as absolute paths: ONEPOCH_DATA (kept if set, else
    ../shared/data beside the checkout when it exists), ONEPOCH_CACHE (kept, else .onepoch-cache),
    ONEPOCH_LEDGER (kept, else _build/lab/ledger: interactive runs never touch a build's rows)."""
    root = Path(root or repo_root()).resolve()
    env = dict(os.environ if base is None else base)
    if not env.get("ONEPOCH_DATA"):
        shared = root.parent / "shared" / "data"
        if shared.is_dir():
            env["ONEPOCH_DATA"] = str(shared)
    else:
        env["ONEPOCH_DATA"] = str(Path(env["ONEPOCH_DATA"]).expanduser().resolve())
    env["ONEPOCH_CACHE"] = str(Path(env.get("ONEPOCH_CACHE") or root / ".onepoch-cache").expanduser().resolve())
    env["ONEPOCH_LEDGER"] = str(Path(env.get("ONEPOCH_LEDGER") or root / "_build" / "lab" / "ledger")
                                .expanduser().resolve())
    env.setdefault("PYTHONHASHSEED", "0")
    # the project's kernel ("python3", registered in this environment by `make venv`) comes first,
    # ahead of the one JupyterLab's own environment brings
    kernels = str(Path(sys.prefix) / "share" / "jupyter")
    env["JUPYTER_PATH"] = os.pathsep.join([kernels, *filter(None, [env.get("JUPYTER_PATH")])])
    return env


def lab_python(root: Path | None = None) -> Path:
    """The Python of the JupyterLab environment: this one when it has JupyterLab, else .venv-lab's."""
    if importlib.util.find_spec("jupyterlab") is not None:
        return Path(sys.executable)
    return Path(root or repo_root()) / ".venv-lab" / "bin" / "python"


def installed(root: Path | None = None) -> bool:
    python = lab_python(root)
    return python == Path(sys.executable) or (
        python.is_file() and subprocess.run([str(python), "-c", "import jupyterlab"],
                                            capture_output=True).returncode == 0)


def install(root: Path | None = None) -> None:
    """Create .venv-lab and pip-install JupyterLab there (with constraints.txt)."""
    root = Path(root or repo_root())
    venv = root / ".venv-lab"
    if not (venv / "bin" / "python").is_file():
        print(f"creating {venv} (once)", flush=True)
        if subprocess.run([sys.executable, "-m", "venv", str(venv)]).returncode != 0:
            raise LabError(f"could not create {venv}; remove it and run 'onepoch lab' again")
    cmd = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", LAB_REQUIREMENT]
    constraints = root / "constraints.txt"
    if constraints.is_file():
        cmd[4:4] = ["-c", str(constraints)]
    print("installing JupyterLab (once): " + " ".join(cmd[3:]), flush=True)
    if subprocess.run(cmd).returncode != 0:
        raise LabError(f"could not install {LAB_REQUIREMENT} into {venv}; install it by hand: "
                       f"{venv}/bin/python -m pip install -c constraints.txt {LAB_REQUIREMENT}")


def command(root: Path | None = None, extra: list[str] | None = None) -> list[str]:
    """The JupyterLab command line, opened on book/."""
    root = Path(root or repo_root())
    # JupyterLab refuses to run as root without this; these machines (and many containers) are root
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [str(lab_python(root)), "-m", "jupyter", "lab", f"--notebook-dir={root / 'book'}",
            *as_root, *(extra or [])]


def lab(extra: list[str] | None = None, root: Path | None = None) -> int:
    """Install JupyterLab if missing, then run it in the foreground; its exit status."""
    root = Path(root or repo_root())
    if not (root / "book").is_dir():
        raise LabError(f"no book/ folder in {root}: run 'onepoch lab' from a checkout of onepoch")
    if not installed(root):
        install(root)
    env = environment(root)
    if "ONEPOCH_DATA" not in env:
        print("note: ONEPOCH_DATA is not set and ../shared/data does not exist; chapters that load "
              "data will say where to put it", file=sys.stderr)
    Path(env["ONEPOCH_LEDGER"]).mkdir(parents=True, exist_ok=True)
    print(f"ONEPOCH_DATA={env.get('ONEPOCH_DATA', '')}\nONEPOCH_CACHE={env['ONEPOCH_CACHE']}\n"
          f"ONEPOCH_LEDGER={env['ONEPOCH_LEDGER']}", flush=True)
    return subprocess.run(command(root, extra), env=env).returncode


def add_parser(sub) -> None:
    """Register ``onepoch lab`` on the CLI's subparsers."""
    p = sub.add_parser("lab", help="start JupyterLab on the chapters with the data, cache and ledger "
                                   "variables set (installs JupyterLab on first use)")
    p.add_argument("lab_args", nargs="*", metavar="ARG",
                   help="passed to 'jupyter lab' after '--', e.g. onepoch lab -- --no-browser")
