"""One factor at a time (paper Sec. 4): settings of one knob, on several data sets.

A factor is a name and a mapping from a readable label to the changes it
makes to the base configuration, e.g.

    factor("embedding dim", {str(d): {"emb_dim": d} for d in (1, 2, 4, 8)})

`run_factor` sweeps every label x data set x seed through the cache and
returns the curves with a column named after the factor, in the order the
labels were given; `factor_table` gives the numbers each chapter quotes.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from onepoch.config import RunConfig
from onepoch.runs import sweep
from onepoch.analysis.summary import drop_table, peak_epochs, pm


@dataclass(frozen=True)
class Factor:
    name: str
    settings: dict  # label -> dict of RunConfig changes

    def configs(self, base: RunConfig, datasets) -> list[tuple[str, RunConfig]]:
        return [(label, base.replace(dataset=d, **changes)) for label, changes in self.settings.items()
                for d in datasets]


def factor(name: str, settings: dict) -> Factor:
    return Factor(name, dict(settings))


def run_factor(f: Factor, base: RunConfig, datasets, seeds, **sweep_args) -> pd.DataFrame:
    """Curves of every setting of `f` on every data set, labelled in column `f.name`."""
    pairs = f.configs(base, datasets)
    changed = list(dict.fromkeys(k for changes in f.settings.values() for k in changes))
    frames = []
    for label, changes in f.settings.items():
        configs = [c for lab, c in pairs if lab == label]
        # one column per setting the factor changes, with its value in this run
        values = {k: (lambda v: str(v) if isinstance(v, tuple) else v)(getattr(configs[0], k)) for k in changed}
        frames.append(sweep(configs, seeds=seeds, **sweep_args).assign(**{**values, f.name: label}))
    out = pd.concat(frames, ignore_index=True)
    out[f.name] = pd.Categorical(out[f.name], categories=list(f.settings), ordered=True)
    return out


def factor_table(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Per data set and setting: drop at epoch 2 (sharp or not), best and peak test AUC."""
    by = ["dataset", name]
    frame = frame.assign(**{name: frame[name].astype(str)})
    table = drop_table(frame, by)
    peaks = peak_epochs(frame, by)
    table = table.merge(peaks, on=by)
    order = {label: i for i, label in enumerate(dict.fromkeys(frame[name]))}
    return table.sort_values(["dataset", name], key=lambda s: s.map(order) if s.name == name else s).reset_index(drop=True)


def readable(table: pd.DataFrame, name: str) -> pd.DataFrame:
    return pd.DataFrame({
        "dataset": table["dataset"], name: table[name],
        "end of epoch 1": [pm(m, s) for m, s in zip(table.end_epoch1_mean, table.end_epoch1_std)],
        "change at epoch 2": [pm(-m, s, sign=True) for m, s in zip(table.drop_mean, table.drop_std)],
        "sharp": ["yes" if x else "no" for x in table.sharp_drop],
        "best test AUC": [pm(m, s) for m, s in zip(table.best_mean, table.best_std)],
        "peak epoch (mean curve)": [f"{x:.2f}" for x in table.peak_epoch],
    })


def width(multiplier: float, base=(200, 80)) -> tuple[int, ...]:
    """The paper's MLP width setting: every hidden layer times `multiplier`."""
    return tuple(max(1, round(h * multiplier)) for h in base)


def depth(layers: int) -> tuple[int, ...]:
    """The original code's depth setting: (layers - 1) x 200 units, then 80."""
    return (200,) * (layers - 1) + (80,)


@dataclass
class Study:
    """A factor's curves and table, with the chart and table a chapter shows."""

    factor: Factor
    curves: pd.DataFrame
    table: pd.DataFrame

    def chart(self, **kwargs):
        from onepoch import plots

        args = dict(color=self.factor.name, facet="dataset", width=300, height=200)
        return plots.curves(self.curves.assign(**{self.factor.name: self.curves[self.factor.name].astype(str)}),
                            **{**args, **kwargs})

    def figure(self, paper: str = "", **kwargs) -> None:
        """Display the chart as a numbered figure whose caption states the range of the change at epoch 2
        (computed from the table), then the table. `paper`: the paper's figure it reproduces, e.g. "Fig. 5"."""
        from IPython.display import display

        from onepoch import figures, plots
        from onepoch.tables import signed

        words = figures._words(self.factor.name)
        change = -self.table["drop_mean"]
        caption = (f"Test AUC during training for each {words} (colour), one panel per data set"
                   + (f" (paper {paper})" if paper else "") + ". At the first evaluation of epoch 2 the seed-mean "
                   f"test AUC changes by {signed(change.min())} to {signed(change.max())} across these settings; "
                   "the table below gives each with its spread over seeds.")
        name = "fig-" + "".join(c if c.isalnum() else "-" for c in self.factor.name.lower()).strip("-")
        plots.figure(self.chart(**kwargs), caption=caption, name=name)
        display(self.show())

    def show(self):
        from onepoch import tables

        return tables.show(readable(self.table, self.factor.name))


def study(f: Factor, base: RunConfig, datasets, seeds, **sweep_args) -> Study:
    curves = run_factor(f, base, datasets, seeds, **sweep_args)
    return Study(f, curves, factor_table(curves, f.name))


def overview(studies) -> pd.DataFrame:
    """Every setting of the `studies` in one frame: dataset, factor (its name), setting (as text), the seed-mean
    drop at epoch 2 and best test AUC, and `change` (= -drop: minus when test AUC fell)."""
    frame = pd.concat([s.table.assign(factor=s.factor.name, setting=s.table[s.factor.name].astype(str))
                       [["dataset", "factor", "setting", "drop_mean", "best_mean"]]
                       for s in studies], ignore_index=True)
    frame["change"] = -frame.drop_mean
    return frame
