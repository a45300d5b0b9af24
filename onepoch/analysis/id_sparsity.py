"""How sparse the ID features are, and what filtering or hashing them does (chapter `feature_sparsity`).

The statistics themselves are `onepoch.data.stats` (per-field occurrences, the occurrence-share curve,
the bottom share); this module gathers them over several data sets and states them:

- `load_all`, `field_stats`, `mean_occurrences`, `occurrence_shares`: the per-data-set tables and curves
  (paper Tables 1-2, Fig. 10); `bottom_half_text` / `bottom_names`: the rarest half's share in words;
  `bottom_shares` / `long_tail_text`: that share with its interval, the input of C9, and its sentence;
- `vocab_sizes`, `kept_text`, `transform_settings`: the filter and hash settings of the factor study
  (paper Fig. 11) and how many IDs or buckets each keeps;
- `best_transforms`, `best_text`, `best_with_text`, `change_ranges_text`: what the study's table says;
- `cases_text`: a ledger row's headline with each of its cases (the fields study, paper Fig. 12);
- `dense_control_configs`, `dense_change_text`: the dense control's runs and the change at the epoch-2
  boundary on them.
"""
from __future__ import annotations

import math

import pandas as pd

from onepoch.tables import signed

NONE = "none"  # the untransformed setting of the study


# -- the long tail (Tables 1-2, Fig. 10) ------------------------------------------------

def load_all(names, construction: str = "last", max_users: int | None = None) -> dict:
    """name -> the loaded data set (`onepoch.data.load`), in the order given."""
    from onepoch import data

    return {name: data.load(name, construction=construction, max_users=max_users) for name in names}


def field_stats(loaded: dict) -> pd.DataFrame:
    """Every data set's `field_stats` (unique IDs, occurrences, mean occurrences per field), long format
    with columns field, ..., dataset."""
    return pd.concat([d.field_stats().reset_index().assign(dataset=name) for name, d in loaded.items()])


def mean_occurrences(per_field: pd.DataFrame) -> pd.DataFrame:
    """Mean occurrences per ID: one row per field, one column per data set (fields in their order)."""
    return per_field.pivot_table(index="field", columns="dataset", values="mean_occurrences",
                                 sort=False).reset_index()


def occurrence_shares(loaded: dict) -> pd.DataFrame:
    """Every data set's cumulative occurrence share over IDs sorted rarest first, all fields together,
    labelled in column `dataset`."""
    return pd.concat([d.occurrence_share(fields="all").assign(dataset=name) for name, d in loaded.items()])


def bottom_half_text(loaded: dict) -> str:
    """'2.1% in beauty, 30.0% in ml-100k': the share of occurrences the rarest half of the IDs carry."""
    return ", ".join(f"{100 * d.bottom_share(0.5):.1f}% in {name}" for name, d in loaded.items())


def bottom_names(bottom: pd.DataFrame) -> str:
    """'2.1% (beauty) and 30.0% (ml-100k)' from a table with columns dataset, bottom_share."""
    from onepoch.analysis.chapter_summary import names

    return names(f"{100 * r.bottom_share:.1f}% ({r.dataset})" for r in bottom.itertuples())


def bottom_shares(loaded: dict) -> pd.DataFrame:
    """One row per data set (columns dataset, bottom_share, low, high): the share of occurrences the
    rarest 50% of its IDs carry, with its 95% interval (`onepoch.data.bottom_share_interval`: a bootstrap
    over users); what `claims.record_long_tail` (C9) reads."""
    from onepoch import data

    rows = []
    for name, d in loaded.items():
        estimate, low, high = data.bottom_share_interval(d, 0.5)
        rows.append(dict(dataset=name, bottom_share=estimate, low=low, high=high))
    return pd.DataFrame(rows)


def long_tail_text(bottom: pd.DataFrame, row: dict) -> str:
    """Markdown: each data set's share of `bottom_shares` with its interval (two decimals, in percent),
    then the C9 ledger `row`'s verdict and how its rule changed."""
    from onepoch.analysis import rules

    shares = ", ".join(f"{100 * r.bottom_share:.2f}% [{100 * r.low:.2f}%, {100 * r.high:.2f}%] ({r.dataset})"
                       for r in bottom.itertuples())
    return (f"The rarest 50% of IDs carry {shares} of all occurrences (95% intervals: a bootstrap over users); the "
            f"paper reports about 2.5%. **C9: {row['verdict']}**. Its rule changed in this version: "
            f"{rules.CHANGES['C9']}.")


# -- filter and hash (Fig. 11) ----------------------------------------------------------

def vocab_sizes(names, max_users: int | None = None, construction: str = "last") -> dict:
    """name -> number of real IDs in its vocabulary (the padding and default IDs left out)."""
    from onepoch import data

    return {d: data.load(d, construction=construction, max_users=max_users).vocab_size - 2 for d in names}


def kept_text(vocab: dict, ms) -> str:
    """'beauty: m=0.1 -> 1234, m=0.001 -> 13': IDs kept (filter) or buckets (hash) per m and data set."""
    return "; ".join(f"{d}: " + ", ".join(f"m={m:g} -> {max(1, math.ceil(m * n))}" for m in ms)
                     for d, n in vocab.items())


def transform_settings(ms) -> dict:
    """The study's settings: no transform, then the filter at each m, then the hash at each m."""
    settings = {NONE: {}}
    settings.update({f"filter m={m:g}": {"sparsity": "filter", "sparsity_m": m} for m in ms})
    settings.update({f"hash m={m:g}": {"sparsity": "hash", "sparsity_m": m} for m in ms})
    return settings


def best_transforms(table: pd.DataFrame, name: str = "transform") -> tuple[pd.DataFrame, pd.Series]:
    """(the row with the highest best test AUC per data set, the untransformed best AUC by data set)
    from the study's table."""
    best = table.loc[table.groupby("dataset").best_mean.idxmax()]
    base_best = table[table[name] == NONE].set_index("dataset").best_mean
    return best, base_best


def best_text(best: pd.DataFrame, base_best: pd.Series, name: str = "transform") -> str:
    """'beauty: hash m=0.1 (0.6512, against 0.6498 untransformed); ...'."""
    return "; ".join(f"{r.dataset}: {getattr(r, name)} ({r.best_mean:.4f}, against {base_best[r.dataset]:.4f} "
                     "untransformed)" for r in best.itertuples())


def best_with_text(best: pd.DataFrame, base_best: pd.Series, name: str = "transform") -> str:
    """'hash m=0.1 on beauty (0.6512, untransformed 0.6498); ...'."""
    return "; ".join(f"{getattr(r, name)} on {r.dataset} ({r.best_mean:.4f}, untransformed {base_best[r.dataset]:.4f})"
                     for r in best.itertuples())


def change_ranges_text(table: pd.DataFrame, name: str = "transform") -> str:
    """Per data set, the range of the seed-mean change at the epoch-2 boundary over the transformed
    settings and the untransformed change: '−0.0100 and +0.0020 across the filter and hash settings on
    beauty (untransformed: −0.0050)'; data sets joined by '; '."""
    t = table.assign(change=-table.drop_mean)
    none = t[t[name] == NONE].set_index("dataset")
    return "; ".join(f"{signed(part.change.min())} and {signed(part.change.max())} across the filter and hash "
                     f"settings on {d} (untransformed: {signed(none.change[d])})"
                     for d, part in t[t[name] != NONE].groupby("dataset", sort=False))


def cases_text(row: dict) -> str:
    """Markdown: the ledger `row`'s headline, then one bullet per case of its `measured` text (cases
    separated by '; ')."""
    from onepoch.analysis.verdict_rows import headline

    return headline(row) + "\n\n" + "\n".join(f"- {part}" for part in row["measured"].split("; "))


# -- the dense control ------------------------------------------------------------------

def dense_control_configs(base, datasets, epochs: int, eval_every: int, max_users: int | None,
                          dense: str = "ml-100k") -> list:
    """The dense control's runs: `base` with every position of a history a sample ('positions'
    construction), `epochs`, `eval_every` and `max_users`, on the `dense` data set and then on each of
    `datasets`."""
    control = base.replace(construction="positions", epochs=epochs, eval_every=eval_every, max_users=max_users)
    return [control.replace(dataset=d) for d in [dense, *datasets]]


def dense_change_text(curves: pd.DataFrame, dense: str = "ml-100k") -> str:
    """'ml-100k: test AUC falls by ...': the change at the epoch-2 boundary (95% interval over seeds) on
    the dense data set's runs among `curves`."""
    from onepoch.analysis.chapter_summary import change
    from onepoch.analysis.measures import effects

    table = effects(curves[curves.dataset == dense], ["dataset"])
    return "; ".join(f"{r.dataset}: {change(r.drop)}" for r in table.itertuples())
