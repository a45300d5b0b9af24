"""Tables a reader can scan: the decision column first, numbers right-aligned on one line, signed
changes instead of negative drops, long lists summarised, details folded.

    tables.show(frame, first="verdict", fold="per setting")   # an HTML table for the page
    tables.signed(-0.0032)          -> "−0.0032"
    tables.k_of_n([True, False, True], "settings")  -> "2 of 3 settings"

The HTML uses the classes styled in book/_static/onepoch.css (``onepoch-table``, ``num``), so a
table fits the book's column at 1280 px and scrolls only inside its own box on a phone.
"""
from __future__ import annotations

import html
import math
import re

import pandas as pd

MINUS = "\u2212"  # a real minus sign: as wide as "+", never a line break after it
# A cell that reads as a number: "0.0249", "-3", "+0.003 ± 0.001", "12,000", "45%", "[0.1, 0.2]"
_NUMBER = re.compile(r"^[\s(\[]*[-+\u2212]?[0-9][0-9,.]*(e[-+]?\d+)?%?"
                     r"(\s*(±|to|,|\u2013|-)\s*[-+\u2212]?[0-9][0-9,.]*(e[-+]?\d+)?%?)*[\s)\]*]*$")


def signed(value: float, digits: int = 4) -> str:
    """A change with its sign always shown and a true minus: "+0.0031", "−0.0032", "0" for zero
    at this precision (never "-0.0000")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = f"{value:+.{digits}f}"
    if float(text) == 0:
        return f"{0:.{digits}f}"
    return text.replace("-", MINUS)


def number(value, digits: int = 4) -> str:
    """A value with a true minus when negative, never "-0.0000"; "n/a" when missing or not finite."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "n/a"
    text = f"{value:.{digits}f}"
    return f"{0:.{digits}f}" if float(text) == 0 else text.replace("-", MINUS)


def singular(noun: str) -> str:
    """The singular of a plural noun as the book uses them: "seeds" -> "seed", "boundaries" ->
    "boundary", "data sets" -> "data set", "passes" -> "pass"."""
    if noun.endswith("ies"):
        return noun[:-3] + "y"
    if noun.endswith(("sses", "ches", "shes", "xes")):
        return noun[:-2]
    return noun[:-1] if noun.endswith("s") else noun


def count(n: int, noun: str) -> str:
    """ "1 seed", "3 seeds": the noun agrees with the number (a plural noun given, as in "seeds")."""
    return f"{n} {singular(noun) if n == 1 else noun}"


def k_of_n(flags, noun: str = "settings") -> str:
    """ "k of n <noun>" for a list of booleans (singular noun when n is 1)."""
    flags = list(flags)
    n, k = len(flags), sum(bool(f) for f in flags)
    return f"{k} of {n} {singular(noun) if n == 1 else noun}"


def is_number(cell) -> bool:
    if isinstance(cell, bool):
        return False
    if isinstance(cell, (int, float)):
        return True
    return bool(_NUMBER.match(str(cell))) if str(cell).strip() else False


def _plain(value):
    return value.replace("\u00a0", " ") if isinstance(value, str) else value


def _cell(value, digits: int) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:,.{digits}f}".replace("-", MINUS)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace("-", MINUS)
    return str(value)


def to_html(frame: pd.DataFrame, first: str | list[str] | None = None, digits: int = 4,
            fold: str | None = None, rows: int | None = None, caption: str | None = None,
            escape: bool = True, stack: bool = True) -> str:
    """`frame` as an HTML table: columns `first` moved to the front, numeric columns (numbers or
    number-like text) right-aligned and unbroken, floats to `digits` places. `rows` shows only
    the first rows and folds the rest under a "<n> more rows" line; `fold` folds the whole table
    under that summary line (``<details>``). `escape=False` keeps HTML in cells (links).
    With `stack`, a "value ± spread" cell shows the spread on a second line, so a table of
    many such columns fits the column."""
    frame = frame.reset_index(drop=True) if not isinstance(frame.index, pd.RangeIndex) else frame
    firsts = [first] if isinstance(first, str) else list(first or [])
    missing = [c for c in firsts if c not in frame.columns]
    if missing:
        raise KeyError(f"tables.to_html: no column {missing[0]!r}; columns: {list(frame.columns)}")
    columns = [*firsts, *[c for c in frame.columns if c not in firsts]]
    numeric = {c for c in columns
               if frame[c].map(lambda v: v == "" or v is None or is_number(_plain(v))).all()
               and frame[c].map(lambda v: is_number(_plain(v))).any()}
    esc = html.escape if escape else str

    def cell_html(text: str, is_number: bool) -> str:
        text = text.replace("\u00a0±\u00a0", " ± ")
        if stack and is_number and " ± " in text:  # the spread under its value: narrow columns
            value, _, spread = text.partition(" ± ")
            return f'{esc(value)}<br><span class="spread">± {esc(spread)}</span>'
        return esc(text)

    def row_html(values) -> str:
        cells = []
        for c, v in zip(columns, values):
            cls = ' class="num"' if c in numeric else (' class="decision"' if c in firsts else "")
            cells.append(f"<td{cls}>{cell_html(_cell(v, digits), c in numeric)}</td>")
        return "<tr>" + "".join(cells) + "</tr>"

    num_class = ' class="num"'
    head = "".join(f"<th{num_class if c in numeric else ''}>{html.escape(str(c))}</th>" for c in columns)
    body = [row_html(r) for r in frame[columns].itertuples(index=False)]
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""

    def table(lines) -> str:
        return (f'<div class="onepoch-table-box"><table class="onepoch-table">{cap}'
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table></div>")

    if rows is not None and len(body) > rows:
        rest = len(body) - rows
        out = (table(body[:rows]) + f"<details><summary>{rest} more row{'s' if rest != 1 else ''}"
               f"</summary>{table(body[rows:])}</details>")
    else:
        out = table(body)
    if fold:
        out = f"<details><summary>{html.escape(fold)}</summary>{out}</details>"
    return out


def show(frame: pd.DataFrame, **kwargs):
    """`to_html(frame, **kwargs)` as an HTML object: shown when it ends a cell or is `display`ed."""
    from IPython.display import HTML

    return HTML(to_html(frame, **kwargs))
