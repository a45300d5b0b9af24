"""Data: public data sets (or your own) -> CTR samples -> one frequency-ordered vocabulary -> tensors.

    from onepoch.data import load
    data = load("sports", construction="positions", data_dir="../shared/data")
    data.train["item_id"], data.vocab_size, data.field_stats()

Your own file: `onepoch.data.add("mylog", "events.csv", user=..., item=..., time=...)`
(`onepoch.data.register`), then `load("mylog")`. The paper's own data sets,
"amazon-book" and "taobao", are prepared from their multi-GB raw files once
(`onepoch.data.prepared`); `print_table2(name)` compares their statistics with
the paper's Table 2.

Names are loaded on first use, so `onepoch.data.registry` (the list of data
sets, which `onepoch.config` checks names against) imports without torch.
Modules, lowest first (each imports only modules above it in this list):
registry -> files -> interactions -> userdata -> tabular -> register; sources;
prepared -> readers -> samples -> vocab -> stats -> dataset -> paper_table2, sparsity,
synthetic.
"""
import importlib

_LAZY = {
    "DATA_VERSION": "dataset", "FIELDS": "dataset", "CTRData": "dataset", "cache_dir": "dataset",
    "clear_memory_cache": "dataset", "load": "dataset",
    "fetch_dataset": "prepared", "print_table2": "paper_table2", "table2": "paper_table2",
    "Interactions": "interactions", "read_dataset": "readers", "read_ml100k": "readers", "read_s3rec": "readers",
    "CONSTRUCTIONS": "samples", "build_samples": "samples",
    "DATASETS": "registry", "data_dir": "registry", "names": "registry", "ensure_files": "sources",
    "add": "register",
    "bottom_share": "stats", "bottom_share_interval": "stats", "field_stats": "stats", "occurrence_share": "stats", "summary": "stats",
    "Vocabulary": "vocab",
    "DataError": "onepoch.errors", "OnepochError": "onepoch.errors",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'onepoch.data' has no attribute {name!r}")
    module = _LAZY[name]
    value = getattr(importlib.import_module(module if "." in module else f"onepoch.data.{module}"), name)
    globals()[name] = value
    return value
