"""Run one configuration, or a sweep of them, through the result cache."""
from __future__ import annotations

import contextlib
import time

import pandas as pd
import torch

from onepoch import settings as env
from onepoch.config import RunConfig
from onepoch.run_log import note_use
from onepoch.runs.cache import ResultCache


@contextlib.contextmanager
def one_thread():
    """Pin torch to one thread: results then do not depend on the core count,
    and parallel runs (one per process) do not fight over cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def load_data(config: RunConfig):
    """The encoded data a run trains on, sparsity transform applied."""
    from onepoch import data
    from onepoch.data import sparsity, synthetic

    if config.dataset == "synthetic":
        base = synthetic.load(**config.synthetic_args())
    else:
        base = data.load(config.dataset, **config.data_args())
    return sparsity.apply(base, config.sparsity, config.sparsity_m)


def data_checksum(config: RunConfig) -> str:
    """`load_data(config).checksum` without building the transformed copy."""
    from onepoch import data
    from onepoch.data import sparsity, synthetic

    if config.dataset == "synthetic":
        base = synthetic.checksum(**config.synthetic_args())
    else:
        base = data.load(config.dataset, **config.data_args()).checksum
    return sparsity.checksum(base, config.sparsity, config.sparsity_m)


RUN_LOG = env.RUN_LOG  # set by `onepoch build` for each chapter: which runs it used, and their cost


def result_key(config: RunConfig, data_checksum: str, callback_keys=()) -> str:
    """Cache key of a run: every setting, the data, and what its callbacks record."""
    return config.key(data_checksum + "|" + "|".join(callback_keys))


def cached_curves(store: ResultCache, config: RunConfig, key: str, checksum: str, callback_keys=()):
    """A cached run's cache entry, or for a run on a thinner evaluation schedule (no probes) the
    entry of its paper-cadence run with the curves cut to its steps (the same values: see
    onepoch.train.schedule), so no run is trained twice; None when neither is cached."""
    hit = store.get(key)
    if hit is not None or any(callback_keys):
        return hit
    from onepoch.train import schedule

    full = schedule.paper_equivalent(config)
    hit = store.get(result_key(full, checksum)) if full is not None else None
    return None if hit is None else {**hit, "frame": schedule.from_paper_run(hit["frame"], config)}


def run(config: RunConfig, cache: bool = True, callbacks=(), progress: bool | None = None) -> pd.DataFrame:
    """Evaluation curves of one run: from the cache when it has them, else trained and stored.

    Callbacks that record results must have a `cache_key` attribute (a string
    describing them); a run with other callbacks is not cached.
    """
    from onepoch.train.trainer import fit

    store = ResultCache()
    store.check_usable()  # ONEPOCH_CACHE a file: say so before loading data
    data = load_data(config)
    extra = [getattr(cb, "cache_key", None) for cb in callbacks]
    cacheable = cache and all(e is not None for e in extra)
    key = result_key(config, data.checksum, extra) if cacheable else None
    if cacheable:
        hit = cached_curves(store, config, key, data.checksum, extra)
        if hit is not None:
            note_use(key, hit.get("seconds", 0.0), trained=False)
            return hit["frame"]
    if cacheable:
        store.check_writable()  # a cache that cannot take the result fails now, not after the training
    start = time.perf_counter()
    with one_thread():
        frame = fit(config, data, callbacks=callbacks, progress=progress)
    seconds = time.perf_counter() - start
    if cacheable:
        store.put(key, {"config": config.as_dict(), "data_checksum": data.checksum, "frame": frame,
                        "seconds": seconds})
        note_use(key, seconds, trained=True)
    return frame


def default_jobs() -> int:
    return env.jobs()


def _describe(frame: pd.DataFrame, config: RunConfig, varying: list[str]) -> pd.DataFrame:
    frame = frame.copy()
    settings = config.as_dict()
    for name in varying:
        value = settings[name]
        frame[name] = str(value) if isinstance(value, tuple) else value
    return frame


def expand(configs, seeds, vary_data: bool = True) -> list[RunConfig]:
    """Every configuration x seed; with `vary_data`, each seed also draws its own data (data_seed = seed),
    except on synthetic data, whose data_seed picks the generated world itself (and its Bayes ceiling)."""
    configs = [configs] if isinstance(configs, RunConfig) else list(configs)
    if seeds is None:
        return configs
    return [c.replace(seed=s, **({"data_seed": s} if vary_data and c.dataset != "synthetic" else {}))
            for c in configs for s in seeds]


def _run_with(config: RunConfig, probes, progress) -> pd.DataFrame:
    return run(config, callbacks=[make() for make in probes], progress=progress)


def sweep(configs, seeds=(0, 1, 2), n_jobs: int | None = None, progress: bool | None = None,
          probes=(), vary_data: bool = True) -> pd.DataFrame:
    """Run every configuration x seed, in parallel processes, through the cache.

    Returns one frame: the runs' curves plus a column for each setting that
    varies between the configurations (always `dataset`, `model`, `seed`).
    Parallel runs go through joblib; with a Dask or Ray joblib backend
    (`with joblib.parallel_config(backend="dask"): ...`) the same sweep runs
    on a cluster. Results do not depend on the number of workers.

    `probes` are callables that make a fresh callback per run (a probe class,
    or a `functools.partial` of one); their records join the curves.

    `vary_data` (default): each seed also draws its own user split and
    negatives (data_seed = seed), so the spread over seeds includes test-set
    sampling error (what `onepoch.analysis.stats.seed_effect` relies on);
    seed 0 keeps data seed 0, so its runs stay cached. Synthetic data keeps
    its data_seed (it is the generated world, whose Bayes ceiling chapters
    state). `vary_data=False`: every seed uses the configuration's data_seed.
    """
    from joblib import Parallel, delayed


    jobs = expand(configs, seeds, vary_data)
    if not jobs:
        return pd.DataFrame()
    settings = [c.as_dict() for c in jobs]  # as the runs use them (max_history=None: the data set's own)
    varying = [f for f in settings[0] if len({repr(d[f]) for d in settings}) > 1]
    varying = list(dict.fromkeys(["dataset", "model", *varying, "seed"]))

    store = ResultCache()
    store.check_usable()  # ONEPOCH_CACHE a file: say so before loading data
    frames: dict[int, pd.DataFrame] = {}
    missing = []
    probe_keys = [make().cache_key for make in probes]
    for i, cfg in enumerate(jobs):
        checksum = data_checksum(cfg)
        key = result_key(cfg, checksum, probe_keys)
        hit = cached_curves(store, cfg, key, checksum, probe_keys)
        if hit is not None:
            note_use(key, hit.get("seconds", 0.0), trained=False)
            frames[i] = hit["frame"]
        else:
            missing.append(i)
    if missing:
        from onepoch import atomic
        from onepoch.runs.cache import cache_root

        store.check_writable()  # before any training: a result that cannot be stored is not trained
        atomic.remove_stale(cache_root())  # orphans of writers killed earlier (runs and encoded data)
        n_jobs = min(n_jobs or default_jobs(), len(missing))
        show = progress if progress is not None else env.progress_enabled()
        if n_jobs == 1:
            results = [_run_with(jobs[i], probes, show) for i in missing]
        else:
            tasks = [delayed(_run_with)(jobs[i], probes, False) for i in missing]
            try:
                results = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
            except ValueError:  # a backend that cannot return a generator (Ray): plain list
                results = Parallel(n_jobs=n_jobs)(tasks)
            if show:
                from tqdm.auto import tqdm

                results = tqdm(results, total=len(missing), desc="runs", leave=False)
            results = list(results)
        frames.update(zip(missing, results))
    return pd.concat([_describe(frames[i], jobs[i], varying) for i in range(len(jobs))], ignore_index=True)
