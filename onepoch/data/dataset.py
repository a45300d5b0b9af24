"""`load(name, ...)` -> `CTRData`: encoded train/test tensors, cached.

Building samples takes about a second per data set; the encoded tensors are
cached on disk under `$ONEPOCH_CACHE/data/<key>.pt` (default cache root:
`.onepoch-cache` in the working directory), keyed by the raw files' sha256,
every parameter and `DATA_VERSION`, and kept in a small in-process LRU so that
a notebook calling `load()` again gets the same object at once. Treat the
returned tensors as read-only: they are shared between calls.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from onepoch import atomic
from onepoch.data import files, prepared, readers, registry, stats, tabular, userdata
from onepoch.data.samples import build_samples, validate
from onepoch.data.vocab import Vocabulary

# Bump when a change to the code changes the samples or their encoding.
DATA_VERSION = 1
FIELDS = registry.PAPER_FIELDS
TENSOR_KEYS = FIELDS + ("label", "user_raw")
ENV_CACHE, DEFAULT_CACHE = registry.ENV_CACHE, registry.DEFAULT_CACHE
MEMORY_ENTRIES = 2


@dataclass(repr=False)
class CTRData:
    """Encoded CTR samples; see the data contract in DESIGN.md."""

    train: dict[str, torch.Tensor]
    test: dict[str, torch.Tensor]
    vocab_size: int
    fields: tuple[str, ...]
    checksum: str  # sha256 over the raw files, the construction parameters and DATA_VERSION
    name: str
    construction: str
    vocab: Vocabulary
    params: dict = field(default_factory=dict)

    def summary(self):
        return stats.summary(self)

    def field_stats(self):
        return stats.field_stats(self)

    def occurrence_share(self, fields=None, points: int | None = 201):
        return stats.occurrence_share(self, fields, points)

    def bottom_share(self, share: float = 0.5, field: str = stats.ALL) -> float:
        return stats.bottom_share(self, share, field)

    def __repr__(self) -> str:
        return (f"CTRData({self.name!r}, {self.construction!r}, train={len(self.train['label'])}, "
                f"test={len(self.test['label'])}, vocab_size={self.vocab_size}, checksum={self.checksum[:12]})")


_MEMORY: OrderedDict[str, CTRData] = OrderedDict()


def clear_memory_cache() -> None:
    """Forget the in-process copies (the disk cache stays)."""
    _MEMORY.clear()


cache_dir = registry.cache_dir  # folder of the cached data files: `$ONEPOCH_CACHE/data`


def load(name: str, construction: str | None = None, max_history: int | None = None,
         min_history: int | None = None, test_users: float = 0.1, max_users: int | None = None,
         seed: int = 0, data_dir=None, download: bool = False) -> CTRData:
    """Samples of data set `name` (see `onepoch.data.samples`), encoded with a training vocabulary.

    `construction`, `max_history`, `min_history` left as None take the data
    set's defaults: "positions", 50, 1, except for the paper's own data sets,
    "amazon-book" ("last", 100, 20: DIEN's; its minimum of 20 is part of the
    data set) and "taobao" ("last", 100, 1), see `onepoch.data.amazon_book`
    and `onepoch.data.taobao`.
    """
    src = registry.source(name, data_dir)  # unknown names fail here, before a missing folder does
    folder = registry.data_dir(data_dir)
    if src.reader == "tabular":  # one impression per row (onepoch.data.tabular)
        return _load_tabular(src, folder, test_users, max_users, seed, download)
    args = registry.load_arguments(name, construction, max_history, min_history, folder)
    construction, max_history, min_history = args["construction"], args["max_history"], args["min_history"]
    validate(construction, max_history, min_history, test_users, max_users, seed)
    paths = files.ensure(src, folder, download)
    params = dict(construction=construction, max_history=int(max_history), min_history=int(min_history),
                  # the user split share only matters for "last": keep it out of other keys
                  test_users=float(test_users) if construction == "last" else None,
                  max_users=None if max_users is None else int(max_users), seed=int(seed))
    checksum = userdata.checksum(src, paths) if src.user_added else readers.files_checksum(paths)
    key = _key(name, checksum, params)
    return cached(key, cache_dir() / f"{key}.pt", lambda: _build(src, paths, key, params), _MEMORY)


def _load_tabular(src, folder: Path, test_share: float, max_rows: int | None, seed: int, download: bool) -> CTRData:
    """A tabular data set: `test_users` is the share of rows (the latest) in test, `max_users` a cap on rows."""
    validate("positions", 1, 1, test_share, max_rows, seed)
    paths = files.ensure(src, folder, download)
    params = dict(format="tabular", test_share=float(test_share), max_rows=None if max_rows is None else int(max_rows),
                  seed=int(seed), version=tabular.TABULAR_VERSION)
    key = _key(src.name, userdata.checksum(src, paths), params)

    def build():
        train, test, vocab, fields = tabular.build(src, paths, params)
        return CTRData(train, test, vocab.size, fields, key, src.name, "tabular", vocab,
                       params | {"fields": list(fields), "construction": "tabular"})

    return cached(key, cache_dir() / f"{key}.pt", build, _MEMORY)


def cached(key: str, path: Path, build, memory: OrderedDict) -> CTRData:
    """The data of `key`: from `memory` (an LRU of MEMORY_ENTRIES), else from the disk cache file
    `path`, else `build()` -- then kept in both."""
    if key in memory:
        memory.move_to_end(key)
        return memory[key]
    data = _read_cache(path, key)
    if data is None:
        data = build()
        _write_cache(path, data)
    memory[key] = data
    while len(memory) > MEMORY_ENTRIES:
        memory.popitem(last=False)
    return data


def _key(name: str, files_checksum: str, params: dict) -> str:
    from onepoch.config import versioned_key

    # the samples' random draws come from numpy: another numpy version, another key
    return versioned_key({"name": name, "files": files_checksum, "params": params, "version": DATA_VERSION},
                         ("numpy",))


def _build(src, paths: dict, key: str, params: dict) -> CTRData:
    name = src.name
    inter = userdata.read(src, paths) if src.user_added else readers.read_files(name, paths)
    prepared.check_memory(name, inter, params["construction"], params["max_history"], params["min_history"],
                          params["max_users"])  # the paper's data sets are large: fail early, with the fix
    args = dict(params, test_users=params["test_users"] or 0.1)
    train_raw, test_raw = build_samples(inter, **args)
    vocab = Vocabulary.fit(train_raw)
    return CTRData(vocab.encode(train_raw), vocab.encode(test_raw), vocab.size, FIELDS, key, name,
                   params["construction"], vocab, params)


# -- disk cache ----------------------------------------------------------------

def _compact(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # ids fit in int32: half the file size; widened back to int64 on load
    return {k: t.to(torch.int32) if t.dtype == torch.int64 and _fits_int32(t) else t for k, t in tensors.items()}


def _fits_int32(t: torch.Tensor) -> bool:
    return t.numel() == 0 or (int(t.min()) >= -2**31 and int(t.max()) < 2**31)


def _widen(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: t.long() if t.dtype == torch.int32 else t for k, t in tensors.items()}


def _digest(payload: dict) -> str:
    """sha256 over everything a cache file holds (but the digest): torch.load does not
    notice a flipped byte inside a tensor, this does."""
    h = hashlib.sha256()
    rest = {k: v for k, v in payload.items() if k not in ("train", "test", "vocab", "digest")}
    h.update(json.dumps(rest, sort_keys=True, default=repr).encode())
    for part in ("train", "test", "vocab"):
        for name in sorted(payload[part]):
            t = payload[part][name]
            h.update(f"\0{part}.{name} {t.dtype} {tuple(t.shape)}\0".encode())
            h.update(memoryview(np.ascontiguousarray(t.numpy())).cast("B"))
    return h.hexdigest()


def _write_cache(path: Path, data: CTRData) -> None:
    payload = {
        "version": DATA_VERSION, "key": data.checksum, "name": data.name, "params": data.params,
        "train": _compact(data.train), "test": _compact(data.test), "vocab": data.vocab.state_dict(),
    }
    payload["digest"] = _digest(payload)
    with atomic.replacing(path) as f:  # readers see the old file or the whole new one, never half of it
        torch.save(payload, f)


def _read_cache(path: Path, key: str) -> CTRData | None:
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, weights_only=True)
        if "digest" not in payload:  # written before files carried a digest: rebuild, quietly
            path.unlink(missing_ok=True)
            return None
        if payload["digest"] != _digest(payload):
            raise ValueError("checksum mismatch: the file is corrupted")
        if payload["version"] != DATA_VERSION or payload["key"] != key:
            raise ValueError("stale entry: key or version differs")
        train, test = _widen(payload["train"]), _widen(payload["test"])
        params = payload["params"]
        fields = tuple(params.get("fields", FIELDS))  # a tabular data set's fields are its columns
        for split in (train, test):
            missing = set(fields + TENSOR_KEYS[len(FIELDS):]) - set(split)
            if missing:
                raise ValueError(f"missing tensors {sorted(missing)}")
        vocab = (tabular.FieldVocabulary.from_state_dict(payload["vocab"], fields) if "fields" in params
                 else Vocabulary.from_state_dict(payload["vocab"]))
    except Exception as exc:  # anything unreadable: rebuild rather than fail
        warnings.warn(f"data cache file {path} is unreadable ({type(exc).__name__}: {exc}); "
                      "deleting it and rebuilding", stacklevel=3)
        path.unlink(missing_ok=True)
        return None
    return CTRData(train, test, vocab.size, fields, key, payload["name"], params["construction"], vocab, params)
