"""Sweeps across processes: the same sweep with 1 and 2 local joblib workers
(and through Dask's and Ray's joblib backends with 2 local workers, when they
are installed), each into an empty
result cache; checks that the curves are bit-identical and reports the
speed-up.

    ONEPOCH_DATA=../shared/data .venv/bin/python benchmarks/sweep.py [--quick] [--backends dask ray]

On a cluster the same code runs unchanged under a Dask or Ray joblib backend:

    from dask.distributed import Client; client = Client("scheduler:8786")
    with joblib.parallel_config(backend="dask"):
        frame = onepoch.sweep(configs, seeds=[0, 1, 2])

(Ray: `from ray.util.joblib import register_ray; register_ray()` then
`backend="ray"`.) Workers need the package, the data folder (ONEPOCH_DATA)
and a shared ONEPOCH_CACHE if results are to be cached for the next build.
Writes results/sweep.json.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time

import pandas as pd

from common import load_avg, write_result


def configs(quick: bool):
    from onepoch.config import RunConfig

    base = RunConfig(dataset="beauty", construction="last", epochs=2, eval_every=50,
                     max_users=(3000 if quick else None))
    return [base.replace(lr=lr) for lr in (1e-3, 3e-3)]


def one(n_jobs: int, seeds, quick: bool, backend=None) -> tuple[float, pd.DataFrame]:
    """Seconds and curves of the sweep into an empty run cache. `backend`: None
    (joblib's default, loky processes), or a function returning a context
    manager that selects another joblib backend (called once the cache is set,
    so that workers it starts see it)."""
    from onepoch.data.dataset import cache_dir
    from onepoch.runs import sweep

    before = os.environ.get("ONEPOCH_CACHE")
    data_cache = cache_dir().resolve()
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(data_cache, os.path.join(tmp, "data"))  # empty run cache, same data cache
        os.environ["ONEPOCH_CACHE"] = tmp
        try:
            with (backend() if backend else contextlib.nullcontext()):
                start = time.perf_counter()
                frame = sweep(configs(quick), seeds=seeds, n_jobs=n_jobs, progress=False)
                return time.perf_counter() - start, frame
        finally:
            if before is None:
                os.environ.pop("ONEPOCH_CACHE", None)
            else:
                os.environ["ONEPOCH_CACHE"] = before


@contextlib.contextmanager
def dask_backend(workers: int = 2):
    """A local Dask cluster of `workers` single-threaded processes as joblib's backend."""
    import joblib
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster), joblib.parallel_config(backend="dask"):
        yield


@contextlib.contextmanager
def ray_backend(cpus: int = 2):
    import joblib
    import ray
    from ray.util.joblib import register_ray

    env = {k: os.environ[k] for k in ("ONEPOCH_DATA", "ONEPOCH_CACHE") if k in os.environ}
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
    register_ray()
    try:
        with joblib.parallel_config(backend="ray"):
            yield
    finally:
        ray.shutdown()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--backends", nargs="*", default=["dask", "ray"],
                    help="cluster backends to try with 2 local workers (dask, ray)")
    args = ap.parse_args(argv)
    seeds = [0, 1]
    # warm the data cache (and imports) outside the timed sweeps
    from onepoch.runs.runner import load_data

    for cfg in configs(args.quick):
        load_data(cfg)
    load = [load_avg()]
    t1, f1 = one(1, seeds, args.quick)
    load.append(load_avg())
    t2, f2 = one(2, seeds, args.quick)
    load.append(load_avg())
    result = {"runs": len(configs(args.quick)) * len(seeds), "seconds_1_worker": t1, "seconds_2_workers": t2,
              "speedup_2_workers": t1 / t2, "identical_1_vs_2": bool(f1.equals(f2)), "rows": len(f1)}
    print(f"{result['runs']} runs: 1 worker {t1:.0f} s, 2 workers {t2:.0f} s -> speed-up {t1 / t2:.2f}x; "
          f"curves identical: {result['identical_1_vs_2']}")
    for name, backend in (("dask", dask_backend), ("ray", ray_backend)):
        if name not in args.backends:
            continue
        try:
            tb, fb = one(2, seeds, args.quick, backend=backend)
        except ImportError as exc:
            print(f"{name}: not installed ({exc}); skipped")
            continue
        except Exception as exc:  # noqa: BLE001 - report what a cluster user would meet
            result[f"{name}_error"] = f"{type(exc).__name__}: {exc}"
            print(f"{name} joblib backend FAILED: {result[name + '_error']}")
            continue
        load.append(load_avg())
        result[f"seconds_{name}_2_workers"] = tb
        result[f"identical_{name}_vs_1"] = bool(fb.equals(f1))
        print(f"{name} joblib backend, 2 local workers: {tb:.0f} s; curves identical to 1 worker: "
              f"{result[f'identical_{name}_vs_1']}")
    result["load_average"] = load
    print(f"load average: {load}\nwrote {write_result('sweep', result)}")


if __name__ == "__main__":
    main()
