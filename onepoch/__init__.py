"""onepoch: reproducing the one-epoch phenomenon of deep CTR models (CIKM 2022).

Importing ``onepoch`` stays cheap (no torch), so the command line and the book
tools start fast; the names a chapter uses are loaded on first access::

    from onepoch import RunConfig, sweep, plots
    from onepoch.analysis import summary, claims
"""

import importlib

__version__ = "0.1.0"

# name -> module that defines it; modules themselves are listed with None
_LAZY = {
    "RunConfig": "onepoch.config",
    "ConfigError": "onepoch.config",
    "OnepochError": "onepoch.errors",
    "DataError": "onepoch.errors",
    "run": "onepoch.runs",
    "sweep": "onepoch.runs",
    "load": "onepoch.data",
    "fit": "onepoch.train",
    "Callback": "onepoch.train",
    **{m: None for m in ("analysis", "book", "cli", "config", "data", "metrics", "models", "probes",
                         "plots", "runs", "train")},
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'onepoch' has no attribute {name!r}")
    module = _LAZY[name]
    value = importlib.import_module(f"onepoch.{name}" if module is None else module)
    if module is not None:
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_LAZY])
