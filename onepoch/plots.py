"""Altair charts for the book: curves over epochs with epoch boundaries and seed bands.

The SVG renderer is switched on at import: charts are embedded as static
SVG, show with no network, and are identical from run to run.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

alt.renderers.enable("svg")
alt.data_transformers.disable_max_rows()

METRIC_TITLES = {"auc": "AUC", "gauc": "user-weighted AUC", "logloss": "log loss"}


def seed_band(frame: pd.DataFrame, by: list[str], x: str = "epoch") -> pd.DataFrame:
    """Mean, min and max over seeds of `value` at each x, per group in `by`."""
    grouped = frame.groupby([*by, x], sort=True, dropna=False)["value"]
    out = grouped.agg(mean="mean", lo="min", hi="max", seeds="count").reset_index()
    return out


def _as_list(value) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def curves(
    frame: pd.DataFrame,
    metric: str = "auc",
    split="test",
    color: str | None = "model",
    facet: str | None = None,
    title: str | None = None,
    width: int = 420,
    height: int = 240,
    columns: int = 2,
    y_zero: bool = False,
) -> alt.Chart:
    """Metric over epochs: one line per `color` value (the mean over seeds), a
    band from the lowest to the highest seed, dashed rules at epoch boundaries.

    `split` is "test", "train" or a list of both (then train is dashed).
    `facet` makes one small chart per value of that column.
    """
    splits = _as_list(split)
    rows = frame[(frame["metric"] == metric) & frame["split"].isin(splits)]
    if rows.empty:
        raise ValueError(f"no rows with metric={metric!r} and split in {splits}")
    by = [c for c in dict.fromkeys([*_as_list(color), *_as_list(facet), "split"]) if c]
    band = seed_band(rows, by)
    for c in by:  # categorical legends read better as strings
        band[c] = band[c].astype(str)

    enc_color = alt.Color(f"{color}:N", title=color) if color else alt.value("#1f77b4")
    dash = (
        alt.StrokeDash("split:N", title="split", sort=["test", "train"])
        if len(splits) > 1
        else alt.value([1, 0])
    )
    x = alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1))
    y_title = METRIC_TITLES.get(metric, metric) + ("" if len(splits) > 1 else f" ({splits[0]})")
    y = alt.Y("mean:Q", title=y_title, scale=alt.Scale(zero=y_zero))
    base = alt.Chart(band)
    area = base.mark_area(opacity=0.2).encode(
        x=x, y=alt.Y("lo:Q", scale=alt.Scale(zero=y_zero)), y2="hi:Q", color=enc_color,
        detail="split:N",
    )
    line = base.mark_line(strokeWidth=1.6).encode(
        x=x, y=y, color=enc_color, strokeDash=dash,
        tooltip=[*by, "epoch", alt.Tooltip("mean:Q", format=".4f"), "seeds"],
    )
    max_epoch = int(band["epoch"].max())
    bounds = pd.DataFrame({"epoch": list(range(1, max_epoch + 1))})
    rules = alt.Chart(bounds).mark_rule(color="gray", strokeDash=[4, 4], opacity=0.6).encode(x="epoch:Q")
    chart = alt.layer(area, line, rules).properties(width=width, height=height)
    if facet:
        chart = chart.facet(facet=alt.Facet(f"{facet}:N", title=facet), columns=columns).resolve_scale(y="independent")
    if title:
        chart = chart.properties(title=title)
    return chart


def bars(table: pd.DataFrame, x: str, y: str, color: str | None = None, error: str | None = None,
         title: str | None = None, width: int = 360, height: int = 220) -> alt.Chart:
    """A small bar chart, with optional +-error bars from column `error`."""
    base = alt.Chart(table)
    enc = dict(x=alt.X(f"{x}:N", title=x, sort=None), y=alt.Y(f"{y}:Q", title=y))
    if color:
        enc["color"] = alt.Color(f"{color}:N")
    chart = base.mark_bar().encode(**enc)
    if error:
        t = table.assign(_lo=table[y] - table[error], _hi=table[y] + table[error])
        chart = chart + alt.Chart(t).mark_errorbar().encode(x=f"{x}:N", y="_lo:Q", y2="_hi:Q")
    chart = chart.properties(width=width, height=height)
    return chart.properties(title=title) if title else chart
