"""How a chart reaches the page: a static SVG in an ``<img>`` with alt text, fonts readable at the
book's column width, and (through `figure`) a numbered caption.

Importing this module registers and enables the Altair theme "onepoch" (font sizes, stroke legend
symbols) and the renderer "onepoch" (static SVG, no network, identical from run to run). Every chart a
chapter displays, captioned or not, goes through `render`.

Why an ``<img>`` with a data URI instead of the plain SVG output: myst-nb writes an SVG output as an
image whose alt text is its file path; an HTML output keeps the alt text and the caption we give it.
"""
from __future__ import annotations

import base64
import html
import re

import altair as alt

# The book's content column at a 1280 px window (sphinx-book-theme, measured in Chromium): an SVG wider
# than this is scaled down to it, and its text with it.
COLUMN_PX = 688  # the output area of a code cell; the text column is 752
MIN_TEXT_PX = 11.5  # what the smallest text must measure on the page (the page check wants >= 10)
FONT = {"label": 12, "title": 13, "heading": 14}


def theme() -> dict:
    """Font sizes large enough at the column width; legends that show the line they stand for."""
    label, title, heading = FONT["label"], FONT["title"], FONT["heading"]
    return {"config": {
        "axis": {"labelFontSize": label, "titleFontSize": title, "titleFontWeight": "normal"},
        "legend": {"labelFontSize": label, "titleFontSize": title, "titleFontWeight": "normal",
                   "symbolType": "stroke", "symbolStrokeWidth": 3, "symbolSize": 260,
                   "symbolOpacity": 1, "labelLimit": 260, "titleLimit": 320},
        "header": {"labelFontSize": title, "titleFontSize": title},
        "title": {"fontSize": heading, "subtitleFontSize": label, "anchor": "start"},
        "text": {"fontSize": label},
        "view": {"continuousWidth": 360, "continuousHeight": 220},
    }}


_SIZE_KEYS = re.compile(r"(?:^|[a-z])(?:[fF]ontSize)$")


def _scale_fonts(spec, factor: float):
    """A copy of a Vega-Lite spec with every font size multiplied by `factor`."""
    if isinstance(spec, dict):
        return {k: (round(v * factor, 1) if _SIZE_KEYS.search(k) and isinstance(v, (int, float))
                    else _scale_fonts(v, factor)) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_scale_fonts(v, factor) for v in spec]
    return spec


def svg_size(svg: str) -> tuple[float, float]:
    """(width, height) of an SVG document, from its root element."""
    head = svg[:svg.index(">")]
    w = re.search(r'width="([0-9.]+)', head)
    h = re.search(r'height="([0-9.]+)', head)
    return float(w.group(1)) if w else 0.0, float(h.group(1)) if h else 0.0


def svg_min_font(svg: str) -> float | None:
    """The smallest font size of any text in an SVG (attribute or style), None without text."""
    sizes = [float(s) for s in re.findall(r'font-size(?:="|:\s*)([0-9.]+)', svg)]
    return min(sizes) if sizes else None


def effective_min_font(svg: str, column: float = COLUMN_PX) -> float | None:
    """The smallest text of an SVG as a reader sees it once the SVG is scaled to fit `column` px."""
    width, _ = svg_size(svg)
    smallest = svg_min_font(svg)
    if smallest is None or not width:
        return smallest
    return smallest * min(1.0, column / width)


def to_svg(spec: dict) -> str:
    """A Vega-Lite spec as SVG whose smallest text reads at >= MIN_TEXT_PX in the column: a chart too
    wide for the column is drawn again with fonts scaled up by what the column scales it down."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec)
    for _ in range(3):
        seen = effective_min_font(svg)
        if seen is None or seen >= MIN_TEXT_PX:
            break
        spec = _scale_fonts(spec, MIN_TEXT_PX / seen * 1.02)
        svg = vlc.vegalite_to_svg(spec)
    return svg


# ---- alt text: what the chart shows, read from its spec ---------------------------------------

MARK_NAMES = {"line": "line chart", "bar": "bar chart", "rect": "heat map", "point": "scatter plot",
              "area": "area chart", "text": "diagram"}


def _mark(spec) -> str:
    m = spec.get("mark")
    return (m.get("type") if isinstance(m, dict) else m) or ""


def _walk(spec):
    """Every unit spec (one mark) inside a layered, concatenated or faceted spec."""
    if not isinstance(spec, dict):
        return
    if "mark" in spec:
        yield spec
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for part in spec.get(key, []):
            yield from _walk(part)
    if "spec" in spec:
        yield from _walk(spec["spec"])


FIELD_WORDS: dict[str, str] = {}  # column -> words (onepoch.plots fills it with its TITLES)


def _words(field) -> str:
    return FIELD_WORDS.get(str(field), str(field).replace("_", " "))


def _title(enc) -> str | None:
    if not isinstance(enc, dict) or "field" not in enc and "title" not in enc:
        return None
    if "axis" in enc and enc["axis"] is None:  # a hidden axis (a diagram's layout) says nothing
        return None
    t = enc["title"] if "title" in enc else _words(enc.get("field"))
    if t is None:
        return None
    return " ".join(t) if isinstance(t, list) else str(t)


def _values(spec, field: str, limit: int = 8) -> list[str]:
    seen: dict[str, None] = {}
    for rows in (spec.get("datasets") or {}).values():
        for row in rows:
            v = row.get(field)
            if v is not None and v == v and str(v) not in seen:
                seen[str(v)] = None
    out = list(seen)
    return out if len(out) <= limit else out[:limit] + [f"and {len(out) - limit} more"]


def describe(spec: dict) -> str:
    """One or two sentences for a chart's alt text: kind, axes, colours, panels, titles."""
    units = list(_walk(spec))
    kinds = [MARK_NAMES[_mark(u)] for u in units if _mark(u) in MARK_NAMES and _mark(u) != "text"]
    if "line chart" in kinds:  # a band around a line is part of the line chart
        kinds = [k for k in kinds if k != "area chart"]
    kind = max(sorted(set(kinds)), key=kinds.count) if kinds else "chart"
    ys, xs, colours = [], [], []
    for u in units:
        if _mark(u) in ("rule", "errorbar", "text", "tick"):  # annotations, not the data's axes
            continue
        enc = u.get("encoding", {})
        for key, out in (("y", ys), ("x", xs)):
            t = _title(enc.get(key))
            if t and t not in out and not t.startswith("_") and t not in ("boundary", "zero"):
                out.append(t)
        c = enc.get("color")
        if isinstance(c, dict) and "field" in c and not str(c["field"]).startswith("_"):
            name = c.get("title") or _words(c["field"])
            if (name, c["field"]) not in colours:
                colours.append((name, c["field"]))
    panels = len(spec.get("hconcat", [])) + sum(len(v.get("hconcat", [v])) for v in spec.get("vconcat", []))
    if not xs and not ys and kind == "heat map":
        kind = "diagram"  # boxes placed by hand, no axes
    text = kind[0].upper() + kind[1:]
    if ys and xs:
        text += f" of {' / '.join(ys[:3])} against {' / '.join(xs[:3])}"
    for name, field in colours[:1]:
        values = _values(spec, field)
        if kind in ("heat map", "diagram"):
            text += f", cells coloured by {name}"
        else:
            text += f", one colour per {name}" + (f" ({', '.join(values)})" if values else "")
    facet = spec.get("facet")
    if isinstance(facet, dict) and "field" in facet:
        values = _values(spec, facet["field"])
        text += f", one panel per {facet.get('title') or _words(facet['field'])}" + (
            f" ({', '.join(values)})" if values else "")
    elif panels > 1:
        titles = [t for t in (_plain_title(p) for p in _panels(spec)) if t]
        text += f", {panels} panels" + (f": {'; '.join(titles)}" if titles else "")
    title = _plain_title(spec)
    return (f"{title}. " if title else "") + text + "."


def _panels(spec):
    for part in spec.get("hconcat", []):
        yield part
    for row in spec.get("vconcat", []):
        yield from row.get("hconcat", [row])


def _plain_title(spec) -> str | None:
    t = spec.get("title")
    if isinstance(t, dict):
        t = t.get("text")
    if isinstance(t, list):
        t = " ".join(t)
    return str(t) if t else None


def image_html(svg: str, alt: str, css_class: str = "onepoch-chart") -> str:
    """An ``<img>`` holding the SVG (as a data URI) at its natural width, shrinking to the column."""
    width, _ = svg_size(svg)
    data = base64.b64encode(svg.encode()).decode()
    return (f'<img class="{css_class}" src="data:image/svg+xml;base64,{data}" '
            f'width="{width:.0f}" alt="{html.escape(alt, quote=True)}">')


def render(spec: dict, **_) -> dict:
    """The renderer "onepoch": an HTML ``<img>`` with described alt text (plus the SVG for tools
    that do not show HTML)."""
    svg = to_svg(spec)
    return {"text/html": image_html(svg, describe(spec)), "text/plain": describe(spec)}


# ---- heat map labels: black or white, whichever reads on the cell ------------------------------

# A few colours along each scheme (Vega's, approximately): enough to tell a dark cell from a light one.
SCHEME_STOPS = {
    "blues": ["#cfe1f2", "#93c4de", "#4a98c9", "#1764ab", "#0a306b"],
    "reds": ["#fdd5c4", "#fc9f81", "#f4623f", "#c7171c", "#67000d"],
    "greens": ["#d3eecd", "#a1d99b", "#5db96b", "#22843f", "#00441b"],
    "oranges": ["#fdd8b3", "#fdae6b", "#f3701b", "#c54102", "#7f2704"],
    "viridis": ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"],
    "redblue": ["#67001f", "#e48066", "#f7f7f7", "#6aacd0", "#053061"],
    "blueorange": ["#134b85", "#67a9cf", "#f7f7f7", "#f1a340", "#843c0c"],
}


def _luminance(hex_colour: str) -> float:
    """Relative luminance (WCAG) of "#rrggbb"."""
    def channel(c):
        c = int(c, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(hex_colour[i:i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _scheme_luminance(scheme: str, t: float) -> float:
    stops = SCHEME_STOPS.get(scheme, SCHEME_STOPS["blues"])
    t = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(t), len(stops) - 2)
    a, b = _luminance(stops[i]), _luminance(stops[i + 1])
    return a + (b - a) * (t - i)


def ink(values, scheme: str, lo: float, hi: float, mid: float | None = None) -> list[str]:
    """Text colour per cell, "black" or "white", whichever contrasts more with the cell's colour
    (scheme position of each value in [lo, hi], split at `mid` for a diverging scheme)."""
    out = []
    for v in values:
        if v != v:  # missing: the cell is blank
            out.append("black")
            continue
        if mid is None:
            t = 0.5 if hi == lo else (v - lo) / (hi - lo)
        elif v <= mid:
            t = 0.5 * (v - lo) / (mid - lo) if mid > lo else 0.5
        else:
            t = 0.5 + 0.5 * (v - mid) / (hi - mid) if hi > mid else 0.5
        lum = _scheme_luminance(scheme, t)
        out.append("white" if (1.05 / (lum + 0.05)) > ((lum + 0.05) / 0.05) else "black")
    return out


# ---- numbered figures with a caption ------------------------------------------------------------

_NUMBERS: dict[str, int] = {}


def figure_number(name: str) -> int:
    """The figure's number on its page: assigned in order of first display, kept on a re-run."""
    return _NUMBERS.setdefault(name, len(_NUMBERS) + 1)


def figure_html(chart, caption: str, alt: str | None = None, name: str | None = None) -> str:
    """The HTML of a numbered figure: the chart as an image with alt text, then its caption.
    `caption`'s first sentence should say what the figure shows (its takeaway); `alt` describes
    the picture for a reader who cannot see it (default: read from the chart). `name` becomes the
    figure's anchor (``page.html#name``) and keeps its number when the cell runs again."""
    spec = chart.to_dict() if hasattr(chart, "to_dict") else chart
    name = name or re.sub(r"[^a-z0-9]+", "-", caption.lower()).strip("-")[:40] or "figure"
    number = figure_number(name)
    description = alt or describe(spec)
    img = image_html(to_svg(spec), description)
    return (f'<figure class="onepoch-figure" id="{html.escape(name)}">{img}'
            f'<figcaption><span class="caption-number">Figure {number}. </span>'
            f'{_inline_markdown(caption)}</figcaption></figure>')


def _inline_markdown(text: str) -> str:
    """Escape a caption, keeping **bold**, *italic* and `code` as HTML."""
    out = html.escape(text, quote=False)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?!\w)", r"<em>\1</em>", out)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", out)


def figure(chart, caption: str, alt: str | None = None, name: str | None = None) -> None:
    """Display `chart` as a numbered figure with `caption` and alt text (see `figure_html`)."""
    from IPython.display import HTML, display

    display(HTML(figure_html(chart, caption, alt, name)))


alt.theme.register("onepoch", enable=True)(theme)
alt.renderers.register("onepoch", render)
alt.renderers.enable("onepoch")
alt.data_transformers.disable_max_rows()
