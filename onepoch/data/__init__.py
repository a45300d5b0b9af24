"""Data: public data sets -> CTR samples -> one frequency-ordered vocabulary -> tensors.

    from onepoch.data import load
    data = load("sports", construction="positions", data_dir="../shared/data")
    data.train["item_id"], data.vocab_size, data.field_stats()

The paper's own data sets, "amazon-book" and "taobao", are prepared from
their multi-GB raw files once (`onepoch.data.prepared`); `print_table2(name)`
compares their statistics with the paper's Table 2.
"""
from onepoch.data.dataset import DATA_VERSION, FIELDS, CTRData, cache_dir, clear_memory_cache, load
from onepoch.data.prepared import fetch_dataset, print_table2, table2
from onepoch.data.readers import Interactions, read_dataset, read_ml100k, read_s3rec
from onepoch.data.samples import CONSTRUCTIONS, build_samples
from onepoch.data.sources import DATASETS, data_dir, ensure_files
from onepoch.data.stats import bottom_share, field_stats, occurrence_share, summary
from onepoch.data.vocab import Vocabulary
from onepoch.errors import DataError, OnepochError

__all__ = [
    "CONSTRUCTIONS", "DATASETS", "DATA_VERSION", "FIELDS", "CTRData", "DataError", "Interactions",
    "OnepochError", "Vocabulary", "bottom_share", "build_samples", "cache_dir", "clear_memory_cache",
    "data_dir", "ensure_files", "fetch_dataset", "field_stats", "load", "occurrence_share", "print_table2",
    "read_dataset", "read_ml100k", "read_s3rec", "summary", "table2",
]
