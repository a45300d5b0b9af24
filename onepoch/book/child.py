"""The process that executes one chapter: papermill and nothing else (started by execution.py).

``python -m onepoch.book.child SPEC`` where SPEC is JSON: source and output notebooks, the
parameters (JSON values, already checked), the kernel and its working folder, and the file to
write a one-line error to. On error it writes that line and exits 1.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path


def watch_parent(poll_s: float = 0.5) -> None:
    """If ``onepoch`` dies without stopping us (SIGKILL), stop the kernel and everything below us:
    nothing goes on training, and nothing writes ledger rows for a build that is gone."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(poll_s)
        from onepoch.book.processes import descendants, kill_tree

        for pid in descendants(os.getpid()):
            kill_tree(pid, grace_s=1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str]) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    spec = json.loads(argv[0])
    watch_parent()
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            spec["source"],
            spec["output"],
            parameters=spec["parameters"] or None,
            kernel_name=spec["kernel"],
            cwd=spec["cwd"],
            progress_bar=False,
            log_output=False,
            # the kernel's own chatter, not the notebook's output: start-up notes, and the
            # "KeyboardInterrupt caught in kernel" that jupyter_client's shutdown (an interrupt
            # before the shutdown request) makes it log after every successful run
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except PapermillExecutionError as exc:
        evalue = " ".join(str(exc.evalue).split())
        Path(spec["result"]).write_text(f"cell [{exc.exec_count}]: {exc.ename}: {evalue}", encoding="utf-8")
        sys.exit(1)
    except Exception as exc:  # kernel died, bad notebook, ...
        Path(spec["result"]).write_text(f"{type(exc).__name__}: {' '.join(str(exc).split())}", encoding="utf-8")
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
