"""Altair charts for the book: curves over epochs with epoch boundaries and seed bands.

Importing it switches on the "onepoch" theme and renderer (`onepoch.figures`): charts are
embedded as static SVG images with alt text, show with no network, and are identical from run
to run. `figure(chart, caption=...)` shows a chart as a numbered figure with its caption.
Axis and legend titles are words with units (`TITLES`), not column names; every chart takes
`*_title` keywords to say otherwise.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from onepoch import figures
from onepoch.figures import describe, figure, ink  # noqa: F401  (re-exported for chapters)

METRIC_TITLES = {"auc": "AUC", "gauc": "user-weighted AUC", "logloss": "log loss",
                 "a_distance": "A-distance (0 = same, 2 = separable)",
                 "update": "parameter change per step (L2)", "abundance": "embedding abundance"}

# Column name -> the title a reader sees on an axis or legend.
TITLES = {
    "epoch": "epoch (passes over the training data)", "lr": "Adam learning rate",
    "syn_zipf": "Zipf exponent s (smaller = sparser)", "dataset": "data set",
    "drop_mean": "AUC change at the start of epoch 2", "drop": "AUC change at the start of epoch 2",
    "peak_epoch": "epoch of the peak test AUC", "later_gain_mean": "AUC gain of a later epoch",
    "gain": "AUC gain over one epoch", "samples": "training samples", "a_distance": "A-distance",
    "model": "model", "split": "split", "remedy": "remedy", "transform": "transform",
    "field": "field", "finetune": "fine-tuned part", "part": "parameters", "setting": "setting",
    "boundary": "epoch boundary", "contender": "trainer", "samples/s": "samples per second",
    "id_share": "share of IDs (rarest first)", "occurrence_share": "cumulative share of occurrences",
    "catalogue": "catalogue", "reach": "share of the way from 0.5 to the Bayes AUC",
}


figures.FIELD_WORDS.update(TITLES)


def title_of(column: str | None, override: str | None = None) -> str | None:
    """The reader's title for `column`: `override`, else `TITLES`, else the name with spaces."""
    if override is not None or column is None:
        return override
    return TITLES.get(column, METRIC_TITLES.get(column, str(column).replace("_", " ")))


def seed_band(frame: pd.DataFrame, by: list[str], x: str = "epoch") -> pd.DataFrame:
    """Mean, min and max over seeds of `value` at each x, per group in `by`."""
    grouped = frame.groupby([*by, x], sort=True, dropna=False)["value"]
    out = grouped.agg(mean="mean", lo="min", hi="max", seeds="count").reset_index()
    return out


def _as_list(value) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def legend_order(values: pd.Series) -> list:
    """Distinct values, numbers in numeric order ("1e-4" before "3e-3", 30000 before 1000000: as text
    they would sort the other way), anything else in order of first appearance."""
    distinct = list(pd.unique(values))
    return sorted(distinct) if pd.api.types.is_numeric_dtype(values) else distinct


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
    order: list | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    color_title: str | None = None,
) -> alt.Chart:
    """Metric over epochs: one line per `color` value (the mean over seeds), a
    band from the lowest to the highest seed, dashed rules at epoch boundaries.

    `split` is "test", "train" or a list of both (then train is dashed).
    `facet` makes one small chart per value of that column. The legend lists
    numeric `color` values in numeric order, others in order of appearance,
    unless `order` gives the values' order. A facet with one value draws one chart
    without a header; a legend that repeats the facet headers is left out.
    """
    splits = _as_list(split)
    rows = frame[(frame["metric"] == metric) & frame["split"].isin(splits)]
    if rows.empty:
        raise ValueError(f"no rows with metric={metric!r} and split in {splits}")
    if facet and rows[facet].nunique(dropna=False) == 1:
        facet = None  # one panel: its header would only repeat what the caption says
    by = [c for c in dict.fromkeys([*_as_list(color), *_as_list(facet), "split"]) if c]
    band = seed_band(rows, by)
    if color:
        order = [str(v) for v in (order if order is not None else legend_order(rows[color]))]
    for c in by:  # categorical legends read better as strings
        band[c] = band[c].astype(str)

    legend = None if color and color == facet else alt.Legend()
    enc_color = (alt.Color(f"{color}:N", title=title_of(color, color_title), sort=order, legend=legend)
                 if color else alt.value("#1f77b4"))
    dash = (
        alt.StrokeDash("split:N", title="split", sort=["test", "train"],
                       legend=None if color == "split" else alt.Legend())
        if len(splits) > 1
        else alt.value([1, 0])
    )
    x = alt.X("epoch:Q", title=x_title or "epoch", axis=alt.Axis(tickMinStep=1))
    if y_title is None:
        y_title = METRIC_TITLES.get(metric, metric) + ("" if len(splits) > 1 else f" ({splits[0]})")
    y = alt.Y("mean:Q", title=y_title, scale=alt.Scale(zero=y_zero))
    # Epoch boundaries travel in the same data as the curves (one set per
    # facet), since Altair can only facet layers that share their data.
    max_epoch = int(band["epoch"].max())
    facet_values = band[facet].unique() if facet else [None]
    bounds = pd.DataFrame([{**({facet: v} if facet else {}), "boundary": e}
                           for v in facet_values for e in range(1, max_epoch + 1)])
    base = alt.Chart(pd.concat([band, bounds], ignore_index=True))
    curves_only = base.transform_filter("isValid(datum.mean)")
    area = curves_only.mark_area(opacity=0.2).encode(
        x=x, y=alt.Y("lo:Q", title=y_title, scale=alt.Scale(zero=y_zero)), y2="hi:Q", color=enc_color,
        detail="split:N",
    )
    line = curves_only.mark_line(strokeWidth=1.6).encode(
        x=x, y=y, color=enc_color, strokeDash=dash,
        tooltip=[*by, "epoch", alt.Tooltip("mean:Q", format=".4f"), "seeds"],
    )
    rules = base.transform_filter("isValid(datum.boundary)").mark_rule(
        color="gray", strokeDash=[4, 4], opacity=0.6).encode(x="boundary:Q")
    chart = alt.layer(area, line, rules).properties(width=width, height=height)
    if facet:
        chart = chart.facet(facet=alt.Facet(f"{facet}:N", title=None), columns=columns).resolve_scale(
            y="independent")
    if title:
        chart = chart.properties(title=title)
    return chart


def _x_labels(values) -> alt.Axis:
    """Category labels level when they fit, slanted (never upright) when they are long."""
    longest = max((len(str(v)) for v in values), default=0)
    return alt.Axis(labelAngle=0 if longest * len(set(values)) <= 48 else -30, labelLimit=180)


def bars(table: pd.DataFrame, x: str, y: str, color: str | None = None, error: str | None = None,
         title: str | None = None, width: int = 360, height: int = 220, x_title: str | None = None,
         y_title: str | None = None, color_title: str | None = None) -> alt.Chart:
    """A small bar chart, with optional +-error bars from column `error`."""
    base = alt.Chart(table)
    enc = dict(x=alt.X(f"{x}:N", title=title_of(x, x_title), sort=None, axis=_x_labels(table[x])),
               y=alt.Y(f"{y}:Q", title=title_of(y, y_title)))
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=title_of(color, color_title),
                                 legend=alt.Legend(symbolType="square"))
        if color != x:  # bars side by side within each x, not stacked on each other
            enc["xOffset"] = alt.XOffset(f"{color}:N")
    chart = base.mark_bar().encode(**enc)
    if error:
        t = table.assign(_lo=table[y] - table[error], _hi=table[y] + table[error])
        err = dict(x=f"{x}:N", y="_lo:Q", y2="_hi:Q")
        if color and color != x:
            err["xOffset"] = alt.XOffset(f"{color}:N")
        chart = chart + alt.Chart(t).mark_errorbar().encode(**err)
    chart = chart.properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


FIELD_TITLES = {
    "user_id": "user ID", "item_id": "item ID", "cat_id": "category",
    "hist_item_ids": "history item IDs", "hist_cat_ids": "history categories",
}


def model_diagram(config=None, width: int = 640, height: int = 400) -> alt.Chart:
    """The Embedding & MLP model of a RunConfig, drawn from its settings (paper Fig. 1)."""
    from onepoch.config import RunConfig
    from onepoch.models.fields import SEQUENCE_FIELDS

    config = config or RunConfig()
    fields = list(config.fields)
    n = len(fields)
    boxes, edges = [], []

    def box(name, x, y, w, label, kind):
        boxes.append(dict(name=name, x=x - w / 2, x2=x + w / 2, y=y - 0.32, y2=y + 0.32, cx=x, cy=y,
                          label=label, kind=kind))

    xs = [(i + 0.5) * 10 / n for i in range(n)]
    for i, (f, x) in enumerate(zip(fields, xs)):
        box(f"in{i}", x, 0, 10 / n - 0.3, FIELD_TITLES.get(f, f), "input ids")
        pool = "mean pool (mask)" if f in SEQUENCE_FIELDS else "lookup"
        box(f"pool{i}", x, 2, 10 / n - 0.3, pool, "embedding")
        edges += [(x, 0.32, x, 0.68), (x, 1.32, x, 1.68), (x, 2.32, 5, 2.68)]
    dim = 1 if config.model == "lr" else config.emb_dim
    box("table", 5, 1, 10, f"one shared embedding table (vocabulary x {dim})", "embedding")
    if config.model == "lr":
        box("sum", 5, 3, 4, "sum of the field weights + bias", "output")
        box("out", 5, 4, 4, "sigmoid -> p(click)", "output")
        edges.append((5, 3.32, 5, 3.68))
    else:
        box("concat", 5, 3, 4, f"concatenate: {n} x {dim} = {n * dim}", "embedding")
        y = 3
        for units in config.hidden:
            y += 1
            box(f"fc{y}", 5, y, 4, f"fully connected {units} + {config.activation}", "MLP")
            edges.append((5, y - 0.68, 5, y - 0.32))
        y += 1
        box("out", 5, y, 4, "fully connected 1 + sigmoid -> p(click)", "output")
        edges.append((5, y - 0.68, 5, y - 0.32))
    b = pd.DataFrame(boxes)
    e = pd.DataFrame(edges, columns=["x", "y", "x2", "y2"])
    scale_x = alt.Scale(domain=[-0.2, 10.2])
    top = b["y2"].max() + 0.1
    scale_y = alt.Scale(domain=[-0.5, top])

    def X(col):
        return alt.X(f"{col}:Q", scale=scale_x, axis=None)

    def Y(col):
        return alt.Y(f"{col}:Q", scale=scale_y, axis=None)

    rect = alt.Chart(b).mark_rect(cornerRadius=4, stroke="#444", strokeWidth=0.8).encode(
        x=X("x"), x2="x2:Q", y=Y("y"), y2="y2:Q",
        color=alt.Color("kind:N", title=None, legend=alt.Legend(symbolType="square"), scale=alt.Scale(
            domain=["input ids", "embedding", "MLP", "output"],
            range=["#e8eef7", "#cfe3cf", "#f6dfc4", "#f2c9c9"])),
    )
    text = alt.Chart(b).mark_text(fontSize=12).encode(x=X("cx"), y=Y("cy"), text="label:N")
    arrows = alt.Chart(e).mark_rule(color="#666").encode(x=X("x"), y=Y("y"), x2="x2:Q", y2="y2:Q")
    return alt.layer(arrows, rect, text).properties(width=width, height=height).configure_view(strokeWidth=0)


def heatmap(table: pd.DataFrame, x: str, y: str, value: str, text: str | None = None, title: str | None = None,
            scheme: str = "blues", width: int = 300, height: int = 240, x_title: str | None = None,
            y_title: str | None = None, value_title: str | None = None, mid: float | None = None,
            text_size: int | None = None) -> alt.Chart:
    """A grid of cells (x by y, both ordinal, in the order the table gives them), coloured by
    `value` (a diverging `scheme` centred on `mid` when given), each labelled with the string
    column `text` (default: `value` to 3 decimals) in black or white, whichever reads on the cell."""
    data = table.copy()
    data["_label"] = data[text] if text else data[value].map(lambda v: f"{v:.3g}")
    x_order, y_order = list(dict.fromkeys(data[x].astype(str))), list(dict.fromkeys(data[y].astype(str)))
    data[x], data[y] = data[x].astype(str), data[y].astype(str)
    lo, hi = float(data[value].min()), float(data[value].max())
    if mid is not None:  # a diverging scale needs the midpoint inside its domain
        lo, hi = min(lo, mid), max(hi, mid)
    data["_ink"] = ink(data[value], scheme, lo, hi, mid)
    enc_x = alt.X(f"{x}:O", sort=x_order, title=title_of(x, x_title), axis=alt.Axis(labelAngle=0))
    enc_y = alt.Y(f"{y}:O", sort=y_order[::-1], title=title_of(y, y_title))
    base = alt.Chart(data).encode(x=enc_x, y=enc_y)
    scale = alt.Scale(scheme=scheme, domain=[lo, hi])
    if mid is not None:
        scale = alt.Scale(scheme=scheme, domain=[lo, hi], domainMid=mid)
    legend = alt.Legend(symbolType="square", gradientLength=min(height, 160))
    rect = base.mark_rect().encode(color=alt.Color(f"{value}:Q", title=title_of(value, value_title),
                                                   scale=scale, legend=legend))
    label = base.mark_text(**({"fontSize": text_size} if text_size else {})).encode(
        text="_label:N", color=alt.Color("_ink:N", scale=None))
    # the labels' colour is a fixed ink, not a second colour scale to merge with the cells'
    chart = alt.layer(rect, label).resolve_scale(color="independent").properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


def curves_with_ceiling(frame: pd.DataFrame, ceilings: pd.DataFrame, color: str, metric: str = "auc",
                        split: str = "test", title: str | None = None, width: int = 420, height: int = 260) -> alt.Chart:
    """`curves` (one line per `color` value, no facets) with each value's ceiling drawn as a
    dotted horizontal line in the same colour; `ceilings` has columns `color` and `ceiling`."""
    lines = curves(frame, metric=metric, split=split, color=color, width=width, height=height)
    order = [str(v) for v in legend_order(frame[color])]
    rules = alt.Chart(ceilings.assign(**{color: ceilings[color].astype(str)})).mark_rule(
        strokeDash=[2, 2], strokeWidth=1.4).encode(y=alt.Y("ceiling:Q"),
                                                   color=alt.Color(f"{color}:N", title=title_of(color), sort=order))
    chart = alt.layer(lines, rules).properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


def lines(table: pd.DataFrame, x: str, y: str, color: str | None = None, error: str | None = None,
          log_x: bool = False, title: str | None = None, x_title: str | None = None, y_title: str | None = None,
          width: int = 320, height: int = 220, zero: bool = False,
          color_title: str | None = None) -> alt.Chart:
    """y against a quantitative x (log scale with `log_x`), points joined by lines, one line per
    `color` value, with +-error bars from column `error`."""
    xs = sorted(table[x].dropna().unique())
    # A log axis over few points: ticks at the points themselves, not a crowd of 2, 3, 5...
    axis = (alt.Axis(format="~s", values=[float(v) for v in xs]) if log_x and len(xs) <= 6
            else alt.Axis(format="~s", tickCount=5) if log_x else alt.Axis())
    enc_x = alt.X(f"{x}:Q", title=title_of(x, x_title), axis=axis,
                  scale=alt.Scale(type="log", nice=False, padding=12) if log_x else alt.Scale(zero=False))
    enc_y = alt.Y(f"{y}:Q", title=title_of(y, y_title), scale=alt.Scale(zero=zero))
    y_title = title_of(y, y_title)
    enc = dict(x=enc_x, y=enc_y)
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=title_of(color, color_title))
    base = alt.Chart(table)
    chart = base.mark_line(point=True).encode(**enc)
    if error:
        t = table.assign(_lo=table[y] - table[error], _hi=table[y] + table[error])
        bars = alt.Chart(t).mark_errorbar().encode(x=enc_x, y=alt.Y("_lo:Q", title=y_title), y2="_hi:Q",
                                                   **({"color": alt.Color(f"{color}:N")} if color else {}))
        chart = alt.layer(chart, bars)
    chart = chart.properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


def facet_bars(table: pd.DataFrame, x: str, y: str, facet: str, error: str | None = None, order=None,
               title: str | None = None, y_title: str | None = None, width: int = 300, height: int = 200) -> alt.Chart:
    """One small bar chart of y by x per value of `facet`, side by side, x in `order` (default: as
    given), with +-error bars from column `error` and a rule at y = 0."""
    order = list(order) if order is not None else list(dict.fromkeys(table[x].astype(str)))
    charts = []
    for value in dict.fromkeys(table[facet]):
        part = table[table[facet] == value].assign(**{x: lambda d: d[x].astype(str)})
        enc_x = alt.X(f"{x}:N", sort=order, title=None, axis=alt.Axis(labelAngle=-30, labelLimit=200))
        enc_y = alt.Y(f"{y}:Q", title=title_of(y, y_title))
        layers = [alt.Chart(part).mark_bar().encode(x=enc_x, y=enc_y, tooltip=[x, alt.Tooltip(f"{y}:Q", format=".4f")])]
        if error:
            part = part.assign(_lo=part[y] - part[error], _hi=part[y] + part[error])
            layers.append(alt.Chart(part).mark_rule(color="black").encode(x=enc_x, y=alt.Y("_lo:Q", title=title_of(y, y_title)),
                                                                          y2="_hi:Q"))
        layers.append(alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color="gray").encode(y="zero:Q"))
        charts.append(alt.layer(*layers).properties(width=width, height=height, title=str(value)))
    chart = alt.hconcat(*charts).resolve_scale(y="shared")
    return chart.properties(title=title) if title else chart


def scatter(table: pd.DataFrame, x: str, y: str, color: str | None = None, facet: str | None = None,
            x_title: str | None = None, y_title: str | None = None, tooltip=(), title: str | None = None,
            width: int = 300, height: int = 240) -> alt.Chart:
    """Points of y against x, coloured by `color`, one panel per value of `facet` side by side
    (titled by the value; no panel title for a single one), with a rule at x = 0."""
    panels = list(dict.fromkeys(table[facet])) if facet else [None]
    charts = []
    for value in panels:
        part = table if value is None else table[table[facet] == value]
        enc = dict(x=alt.X(f"{x}:Q", title=title_of(x, x_title)),
                   y=alt.Y(f"{y}:Q", title=title_of(y, y_title), scale=alt.Scale(zero=False)),
                   tooltip=[*tooltip, alt.Tooltip(f"{x}:Q", format=".4f"), alt.Tooltip(f"{y}:Q", format=".4f")])
        if color:
            enc["color"] = alt.Color(f"{color}:N", title=title_of(color), sort=list(dict.fromkeys(table[color])))
        points = alt.Chart(part).mark_point(filled=True, size=60).encode(**enc)
        zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color="gray").encode(x="zero:Q")
        panel = alt.layer(points, zero).properties(width=width, height=height)
        charts.append(panel.properties(title=str(value)) if value is not None and len(panels) > 1 else panel)
    chart = charts[0] if len(charts) == 1 else alt.hconcat(*charts).resolve_scale(y="shared")
    return chart.properties(title=title) if title else chart


def occurrence_share(shares: pd.DataFrame, color: str = "dataset", field: str = "all",
                     width: int = 380, height: int = 260, title: str | None = None) -> alt.Chart:
    """Paper Fig. 10: cumulative share of occurrences over IDs sorted rarest first, one curve per
    `color` value, for one `field` of `CTRData.occurrence_share()`'s frame ("all": all fields
    together), with the diagonal of equally frequent IDs and a rule at half of the IDs."""
    rows = shares[shares["field"] == field] if "field" in shares else shares
    if rows.empty:
        raise ValueError(f"no rows for field {field!r}; fields present: {sorted(shares['field'].unique())}")
    diagonal = alt.Chart(pd.DataFrame({"id_share": [0, 1], "occurrence_share": [0, 1]})).mark_line(
        color="#999", strokeDash=[3, 3]).encode(x="id_share:Q", y="occurrence_share:Q")
    curve = alt.Chart(rows).mark_line(strokeWidth=2).encode(
        x=alt.X("id_share:Q", title=title_of("id_share"), axis=alt.Axis(format="%")),
        y=alt.Y("occurrence_share:Q", title=title_of("occurrence_share"), axis=alt.Axis(format="%")),
        color=alt.Color(f"{color}:N", title=title_of(color), sort=list(dict.fromkeys(rows[color]))))
    rule = alt.Chart(pd.DataFrame({"x": [0.5]})).mark_rule(color="gray", strokeDash=[4, 4]).encode(x="x:Q")
    chart = alt.layer(diagonal, curve, rule).properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


def peak_text(frame: pd.DataFrame, by: str | None = None, metric: str = "auc", split: str = "test") -> str:
    """Where the mean curve over seeds peaks, for a caption: "peaks at epoch 1.0 (beauty), 2.4
    (sports)", read from the curves frame (columns epoch, metric, split, value)."""
    rows = frame[(frame["metric"] == metric) & (frame["split"] == split)]
    if rows.empty:
        return ""
    keys = [by] if by else []
    mean = rows.groupby([*keys, "epoch"], sort=True)["value"].mean().reset_index()
    if not keys:
        return f"peaks at epoch {mean.loc[mean['value'].idxmax(), 'epoch']:.1f}"
    best = mean.loc[mean.groupby(by, sort=False)["value"].idxmax()]
    def label(key) -> str:  # 3000000 -> "3,000,000"
        return f"{key:,}" if isinstance(key, (int, np.integer)) and not isinstance(key, bool) else str(key)

    return "peaks at epoch " + ", ".join(f"{r.epoch:.1f} ({label(getattr(r, by))})" for r in best.itertuples())
