"""The synthetic phase diagram (chapter `phase_diagram`): its tables and the sentences it states.

The chapter builds its runs' configurations itself (a `config_of` callable, e.g. the chapter's `world`);
this module turns them and their curves into what the page shows:

- `sparsity_comparison` / `sparsity_classes`: how sparse each Zipf exponent's data set is next to the real
  data sets, and which exponents count as "realistic" (rare share within a factor of 2 of the real sets')
  or "low sparsity" (under a tenth of it);
- `classes_text`: those classes in words;
- `grid_runs`, `bayes_ceilings`, `ceiling_frame`: the grid's runs (Zipf exponent x learning rate) and each
  Zipf exponent's Bayes-optimal AUC, the ceiling of any model;
- `diagram_table`: `multi_epoch.phase_table` per Zipf exponent x learning rate, with the columns and cell
  texts of the heat maps; `cells_text` names a set of its cells;
- `size_runs` / `size_table`: the data-size axis (a growing and a fixed catalogue), its table
  (`readable_sizes`, `steps_caption`), curves (`labelled_sizes`) and sentences (`size_findings`,
  `size_beats_text`).
"""
from __future__ import annotations

import pandas as pd

from onepoch.analysis.multi_epoch import LATER_RULE, phase_table, readable_phase
from onepoch.analysis.summary import pm
from onepoch.tables import signed

RARE = "rare share (item ID)"
SIZE_FACTS = ("train_samples", "item_mean_occurrences", "item_rare_share")


def _info(config) -> dict:
    """The synthetic data set's knobs and statistics (generated and cached on first use)."""
    from onepoch.data import synthetic

    return synthetic.info(**config.synthetic_args())


# -- how sparse is "realistic" ----------------------------------------------------------

def sparsity_comparison(zipfs, config_of, real_datasets) -> pd.DataFrame:
    """One row per Zipf exponent (the data set of `config_of(z)`), then per real data set (paper
    construction): training samples, mean occurrences per user and item ID, the rare share of item IDs
    and the Bayes-optimal test AUC (unknown, NaN, for real data)."""
    from onepoch.config import RunConfig
    from onepoch.data import synthetic
    from onepoch.runs.runner import load_data

    rows = []
    for z in zipfs:
        t = _info(config_of(z))
        rows.append(dict(data=f"synthetic s={z:g}", samples=t["train_samples"], **{
            "mean occurrences per user ID": t["user_mean_occurrences"],
            "mean occurrences per item ID": t["item_mean_occurrences"],
            RARE: t["item_rare_share"], "Bayes-optimal test AUC": t["bayes_auc"]}))
    for name in real_datasets:
        d = load_data(RunConfig(dataset=name))
        fs = d.field_stats()
        rows.append(dict(data=name, samples=len(d.train["label"]), **{
            "mean occurrences per user ID": fs.loc["user_id", "mean_occurrences"],
            "mean occurrences per item ID": fs.loc["item_id", "mean_occurrences"],
            RARE: synthetic.sparsity(d, "item_id"), "Bayes-optimal test AUC": float("nan")}))
    return pd.DataFrame(rows)


def sparsity_classes(table: pd.DataFrame, zipfs) -> tuple[float, list, list]:
    """(mean rare share of the real data sets, the "realistic" Zipf exponents, the "low sparsity" ones)
    from `sparsity_comparison(zipfs, ...)`: realistic within a factor of 2 of the real share, low under
    a tenth of it."""
    real_rare = table[~table.data.str.startswith("synthetic")][RARE].mean()
    realistic = [z for z, r in zip(zipfs, table[RARE]) if real_rare / 2 <= r <= 2 * real_rare]
    low = [z for z, r in zip(zipfs, table[RARE]) if r < real_rare / 10]
    return real_rare, realistic, low


def zipfs_text(zipfs) -> str:
    """'0.5, 1' (each exponent with :g); 'none' for no exponent."""
    return ", ".join(f"{z:g}" for z in zipfs) or "none"


def classes_text(real_rare: float, realistic, low) -> str:
    """The classes of `sparsity_classes` in words (Markdown): the real sets' rare share, then which Zipf
    exponents count as realistic and which as low sparsity."""
    return (f"The real data sets rest {real_rare:.0%} of their samples on rare item IDs. We call a Zipf exponent "
            f"**realistic** when its data set's share is within a factor of 2 of that (s = {zipfs_text(realistic)}) "
            f"and **low sparsity** when it is under a tenth of it (s = {zipfs_text(low)}); the others are shown but "
            "not judged.")


# -- the phase diagram ------------------------------------------------------------------

def grid_runs(zipfs, lrs, config_of, seeds, n_jobs=None) -> pd.DataFrame:
    """Curves of the grid's runs, `config_of(z, lr)` for every Zipf exponent z (outer) and learning rate
    lr (inner), over `seeds`."""
    from onepoch.runs import sweep

    return sweep([config_of(z, lr) for z in zipfs for lr in lrs], seeds=seeds, n_jobs=n_jobs)


def bayes_ceilings(zipfs, config_of) -> dict:
    """Zipf exponent -> the Bayes-optimal test AUC of the data set of `config_of(z)` (generated on first
    use), in the order of `zipfs`."""
    return {z: _info(config_of(z))["bayes_auc"] for z in zipfs}


def ceiling_frame(ceiling: dict) -> pd.DataFrame:
    """`bayes_ceilings` as a frame with columns syn_zipf, ceiling (the dotted lines of the curves)."""
    return pd.DataFrame({"syn_zipf": list(ceiling), "ceiling": list(ceiling.values())})


def diagram_table(grid: pd.DataFrame, ceiling: dict, by=("syn_zipf", "lr")) -> pd.DataFrame:
    """`phase_table` per cell of `by` (`ceiling`: Bayes-optimal AUC by the first of them, the Zipf
    exponent), with the heat maps' columns: `change` (minus the drop; negative: test AUC fell),
    `reach` (best AUC's share of the way from chance to Bayes) and the cell texts `change_text` (star:
    sharp drop), `gain_text` (star: a later epoch beats epoch 1), `reach_text`, `peak_text`."""
    by = list(by)
    cells = grid[by].drop_duplicates().itertuples(index=False, name=None)
    phase = phase_table(grid, by, {cell: ceiling[cell[0]] for cell in cells})
    phase["change"] = -phase.drop_mean  # negative: test AUC fell at the boundary
    phase["change_text"] = [f"{signed(c, 3)}{'*' if s else ''}" for c, s in zip(phase.change, phase.sharp_drop)]
    phase["reach"] = (phase.best_mean - 0.5) / (phase.bayes_auc - 0.5)
    phase["gain_text"] = [f"{signed(g, 3)}{'*' if b else ''}"
                          for g, b in zip(phase.later_gain_mean, phase.later_beats)]
    phase["reach_text"] = [f"{r:.0%}" for r in phase.reach]
    phase["peak_text"] = [f"{p:.1f}" for p in phase.peak_epoch]
    return phase


def cells_text(rows: pd.DataFrame, lrs) -> str:
    """The cells of `rows`, grouped by Zipf exponent: "s = 0.5 at every learning rate; s = 2 at lr
    0.001, 0.01" (a whole row of the grid, all of `lrs`, is named once); "none" for no cell."""
    parts = []
    for z, part in rows.groupby("syn_zipf"):
        lr_text = "every learning rate" if len(part) == len(lrs) else "lr " + ", ".join(f"{lr:g}" for lr in part.lr)
        parts.append(f"s = {z:g} at {lr_text}")
    return "; ".join(parts) or "none"


# -- the data-size axis -----------------------------------------------------------------

def size_runs(series: dict, config_of, seeds, n_jobs=None) -> pd.DataFrame:
    """Curves of every size of every series (label -> (sizes, catalogue), `catalogue(n)` the users and
    items `u`, `i` at n impressions), the run of size n being `config_of(n, **catalogue(n))`; labelled in
    column `catalogue`, the number of impressions in column `samples`."""
    from onepoch.runs import sweep

    frames = []
    for label, (ns, catalogue) in series.items():
        configs = [config_of(n, **catalogue(n)) for n in ns]
        for c in configs:  # generate each data set once, before the parallel runs read it
            _info(c)
        frames.append(sweep(configs, seeds=seeds, n_jobs=n_jobs).assign(catalogue=label))
    return pd.concat(frames, ignore_index=True).rename(columns={"syn_samples": "samples"})


def size_table(by_size: pd.DataFrame, series: dict, config_of) -> pd.DataFrame:
    """`phase_table` per series and size of `size_runs(series, config_of, ...)`, with each data set's
    Bayes-optimal AUC, training samples, mean occurrences per item ID and rare share of item IDs."""
    ceilings, facts = {}, []
    for label, (ns, catalogue) in series.items():
        for n in ns:
            t = _info(config_of(n, **catalogue(n)))
            ceilings[label, n] = t["bayes_auc"]
            facts.append(dict(catalogue=label, samples=n, **{k: t[k] for k in SIZE_FACTS}))
    table = phase_table(by_size, ["catalogue", "samples"], ceilings)
    return table.merge(pd.DataFrame(facts), on=["catalogue", "samples"])


def readable_sizes(table: pd.DataFrame) -> pd.DataFrame:
    """`readable_phase` of the size table, impressions with thousands separators and the samples per
    item ID beside them."""
    show = readable_phase(table, ["catalogue", "samples"])
    show["samples"] = [f"{int(n):,}" for n in show.samples]
    show.insert(2, "samples per item ID", [f"{x:.1f}" for x in table.item_mean_occurrences])
    return show


def steps_caption(table: pd.DataFrame, batch_size: int = 128) -> str:
    """'Steps per epoch (training samples / batch 128), by size: 39, 117.' (each distinct count once)."""
    steps = ", ".join(f"{s:,}" for s in dict.fromkeys(table.train_samples // batch_size))
    return f"Steps per epoch (training samples / batch {batch_size}), by size: {steps}."


def labelled_sizes(curves: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """(`curves` with the impressions written with thousands separators, '15,000', in column samples;
    those labels from the smallest size up) for a legend in order of size, not of text."""
    order = [f"{n:,}" for n in sorted(curves.samples.unique())]
    return curves.assign(samples=curves.samples.map(lambda n: f"{n:,}")), order


def sizes_text(part: pd.DataFrame) -> str:
    """'5,000, 15,000 impressions' for the rows of `part`; 'none of the sizes' for none."""
    return (", ".join(f"{int(n):,}" for n in part.samples) + " impressions") if len(part) else "none of the sizes"


def size_findings(table: pd.DataFrame, labels) -> str:
    """The data-size axis in words (Markdown): per series (`labels`, e.g. "growing catalogue", "fixed
    catalogue"), the later-epoch gain from the smallest to the largest size with its rank correlation with
    the size, and where a later epoch wins or the curve peaks late; then which way the two series point,
    and the rule."""
    said, trend = [], {}
    for label in labels:
        part = table[table.catalogue == label].sort_values("samples")
        trend[label] = part.samples.corr(part.later_gain_mean, method="spearman")
        first, last = part.iloc[0], part.iloc[-1]
        said.append(
            f"- **{label}** ({first.item_mean_occurrences:.1f} to {last.item_mean_occurrences:.1f} training samples per "
            f"item ID): the best later epoch end minus the end of epoch 1 goes from "
            f"{pm(first.later_gain_mean, first.later_gain_std)} at {int(first.samples):,} impressions to "
            f"{pm(last.later_gain_mean, last.later_gain_std)} at {int(last.samples):,} (rank correlation with the "
            f"size {trend[label]:+.2f}). A later epoch beats epoch 1 beyond seed noise at {sizes_text(part[part.later_beats])}; "
            f"the seed-mean curve peaks after epoch 1 at {sizes_text(part[~part.peak_in_epoch1])}.")
    said.append(_trend_text(trend["growing catalogue"], trend["fixed catalogue"]))
    said.append(f"\nRule: {LATER_RULE}.")
    return "\n".join(said)


def _trend_text(grow: float, fixed: float) -> str:
    """What the two series' rank correlations (size vs later-epoch gain) say together."""
    if fixed > 0 >= grow:
        return ("\nAs the samples per ID grow (fixed catalogue), later epochs gain on epoch 1; as only the steps per "
                "epoch grow at the same samples per ID (growing catalogue), they fall further behind it. On this "
                "synthetic data, a larger data set at the same sparsity makes one epoch more clearly the best; "
                "denser data is what lets later epochs catch up.")
    if grow > 0 >= fixed:
        return ("\nLater epochs gain on epoch 1 as the steps per epoch grow at the same sparsity, and not as the "
                "samples per ID grow: here the length of an epoch, not the sparsity, moves the best epoch.")
    return (f"\nThe later-epoch gain moves the same way with size in both series (rank correlations {grow:+.2f} and "
            f"{fixed:+.2f}): the two axes are not separated at these sizes and seeds.")


def size_beats_text(table: pd.DataFrame, labels) -> str:
    """'with a growing catalogue at none of the sizes; with a fixed catalogue at 15,000 impressions'."""
    return "; ".join(f"with a {label} at {sizes_text(table[(table.catalogue == label) & table.later_beats])}"
                     for label in labels)
