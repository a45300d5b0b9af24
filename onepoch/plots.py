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
) -> alt.Chart:
    """Metric over epochs: one line per `color` value (the mean over seeds), a
    band from the lowest to the highest seed, dashed rules at epoch boundaries.

    `split` is "test", "train" or a list of both (then train is dashed).
    `facet` makes one small chart per value of that column. The legend lists
    numeric `color` values in numeric order, others in order of appearance,
    unless `order` gives the values' order.
    """
    splits = _as_list(split)
    rows = frame[(frame["metric"] == metric) & frame["split"].isin(splits)]
    if rows.empty:
        raise ValueError(f"no rows with metric={metric!r} and split in {splits}")
    by = [c for c in dict.fromkeys([*_as_list(color), *_as_list(facet), "split"]) if c]
    band = seed_band(rows, by)
    if color:
        order = [str(v) for v in (order if order is not None else legend_order(rows[color]))]
    for c in by:  # categorical legends read better as strings
        band[c] = band[c].astype(str)

    enc_color = alt.Color(f"{color}:N", title=color, sort=order) if color else alt.value("#1f77b4")
    dash = (
        alt.StrokeDash("split:N", title="split", sort=["test", "train"],
                       legend=None if color == "split" else alt.Legend())
        if len(splits) > 1
        else alt.value([1, 0])
    )
    x = alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1))
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
        x=x, y=alt.Y("lo:Q", scale=alt.Scale(zero=y_zero)), y2="hi:Q", color=enc_color,
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


FIELD_TITLES = {
    "user_id": "user ID", "item_id": "item ID", "cat_id": "category",
    "hist_item_ids": "history item IDs", "hist_cat_ids": "history categories",
}


def model_diagram(config=None, width: int = 560, height: int = 380) -> alt.Chart:
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
        color=alt.Color("kind:N", title=None, scale=alt.Scale(
            domain=["input ids", "embedding", "MLP", "output"],
            range=["#e8eef7", "#cfe3cf", "#f6dfc4", "#f2c9c9"])),
    )
    text = alt.Chart(b).mark_text(fontSize=10).encode(x=X("cx"), y=Y("cy"), text="label:N")
    arrows = alt.Chart(e).mark_rule(color="#666").encode(x=X("x"), y=Y("y"), x2="x2:Q", y2="y2:Q")
    return alt.layer(arrows, rect, text).properties(width=width, height=height).configure_view(strokeWidth=0)


def heatmap(table: pd.DataFrame, x: str, y: str, value: str, text: str | None = None, title: str | None = None,
            scheme: str = "blues", width: int = 300, height: int = 240, x_title: str | None = None,
            y_title: str | None = None, value_title: str | None = None, mid: float | None = None) -> alt.Chart:
    """A grid of cells (x by y, both ordinal, in the order the table gives them), coloured by
    `value` (a diverging `scheme` centred on `mid` when given), each labelled with the string
    column `text` (default: `value` to 3 decimals)."""
    data = table.copy()
    data["_label"] = data[text] if text else data[value].map(lambda v: f"{v:.3f}")
    x_order, y_order = list(dict.fromkeys(data[x].astype(str))), list(dict.fromkeys(data[y].astype(str)))
    data[x], data[y] = data[x].astype(str), data[y].astype(str)
    enc_x = alt.X(f"{x}:O", sort=x_order, title=x_title or x)
    enc_y = alt.Y(f"{y}:O", sort=y_order[::-1], title=y_title or y)
    base = alt.Chart(data).encode(x=enc_x, y=enc_y)
    scale = alt.Scale(scheme=scheme) if mid is None else alt.Scale(scheme=scheme, domainMid=mid)
    rect = base.mark_rect().encode(color=alt.Color(f"{value}:Q", title=value_title or value, scale=scale))
    label = base.mark_text(fontSize=10).encode(text="_label:N")
    chart = alt.layer(rect, label).properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


def curves_with_ceiling(frame: pd.DataFrame, ceilings: pd.DataFrame, color: str, metric: str = "auc",
                        split: str = "test", title: str | None = None, width: int = 420, height: int = 260) -> alt.Chart:
    """`curves` (one line per `color` value, no facets) with each value's ceiling drawn as a
    dotted horizontal line in the same colour; `ceilings` has columns `color` and `ceiling`."""
    lines = curves(frame, metric=metric, split=split, color=color, width=width, height=height)
    order = [str(v) for v in legend_order(frame[color])]
    rules = alt.Chart(ceilings.assign(**{color: ceilings[color].astype(str)})).mark_rule(
        strokeDash=[2, 2], strokeWidth=1.4).encode(y=alt.Y("ceiling:Q"),
                                                   color=alt.Color(f"{color}:N", title=color, sort=order))
    chart = alt.layer(lines, rules).properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


def lines(table: pd.DataFrame, x: str, y: str, color: str | None = None, error: str | None = None,
          log_x: bool = False, title: str | None = None, x_title: str | None = None, y_title: str | None = None,
          width: int = 320, height: int = 220, zero: bool = False) -> alt.Chart:
    """y against a quantitative x (log scale with `log_x`), points joined by lines, one line per
    `color` value, with +-error bars from column `error`."""
    enc_x = alt.X(f"{x}:Q", title=x_title or x, scale=alt.Scale(type="log") if log_x else alt.Scale(zero=False),
                  axis=alt.Axis(format="~s", tickCount=5) if log_x else alt.Axis())
    enc_y = alt.Y(f"{y}:Q", title=y_title or y, scale=alt.Scale(zero=zero))
    enc = dict(x=enc_x, y=enc_y)
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=color)
    base = alt.Chart(table)
    chart = base.mark_line(point=True).encode(**enc)
    if error:
        t = table.assign(_lo=table[y] - table[error], _hi=table[y] + table[error])
        bars = alt.Chart(t).mark_errorbar().encode(x=enc_x, y=alt.Y("_lo:Q", title=y_title or y), y2="_hi:Q",
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
        enc_x = alt.X(f"{x}:N", sort=order, title=None, axis=alt.Axis(labelAngle=-40, labelLimit=200))
        enc_y = alt.Y(f"{y}:Q", title=y_title or y)
        layers = [alt.Chart(part).mark_bar().encode(x=enc_x, y=enc_y, tooltip=[x, alt.Tooltip(f"{y}:Q", format=".4f")])]
        if error:
            part = part.assign(_lo=part[y] - part[error], _hi=part[y] + part[error])
            layers.append(alt.Chart(part).mark_rule(color="black").encode(x=enc_x, y=alt.Y("_lo:Q", title=y_title or y),
                                                                          y2="_hi:Q"))
        layers.append(alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color="gray").encode(y="zero:Q"))
        charts.append(alt.layer(*layers).properties(width=width, height=height, title=str(value)))
    chart = alt.hconcat(*charts).resolve_scale(y="shared")
    return chart.properties(title=title) if title else chart
