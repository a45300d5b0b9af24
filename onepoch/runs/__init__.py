"""Running configurations: one run, sweeps, and the result cache."""
from onepoch.runs.cache import ResultCache, cache_root
from onepoch.runs.runner import expand, run, sweep

__all__ = ["ResultCache", "cache_root", "expand", "run", "sweep"]
