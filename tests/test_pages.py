"""Every page of the built quick book, as a reader's browser renders it (headless Chromium).

At 1280 px: no table or figure wider than the content column, no SVG text under 10 px once the
SVG is scaled to its place, no image without real alt text. At 400 px (a phone): no image wider
than the screen's column. Runs after `make quick` (skipped, saying why, when the quick book,
chromium or playwright is missing); `make pagecheck` installs the last two and runs it.
"""
from __future__ import annotations

import base64
import os
import re
import shutil
import urllib.parse
from pathlib import Path

import pytest

from onepoch.figures import svg_min_font, svg_size

ROOT = Path(__file__).resolve().parent.parent
HTML = Path(os.environ.get("ONEPOCH_PAGECHECK_HTML") or ROOT / "_build" / "quick" / "html")

MEASURE = """() => {
  const main = document.querySelector('main') || document.body;
  const right = main.getBoundingClientRect().right;
  const out = {tables: [], imgs: []};
  for (const t of main.querySelectorAll('table')) {
    const box = t.parentElement;
    if (box.scrollWidth > box.clientWidth + 2 || t.getBoundingClientRect().right > right + 2)
      out.tables.push((t.innerText || '').slice(0, 60).replace(/\\s+/g, ' '));
  }
  for (const i of main.querySelectorAll('img')) {
    const r = i.getBoundingClientRect();
    out.imgs.push({src: i.getAttribute('src') || '', alt: i.getAttribute('alt') || '', w: r.width,
                   over: r.right > right + 2});
  }
  return out;
}"""


def _svg_text(page: Path, src: str) -> str | None:
    """The SVG behind an image source (a data URI or a file beside the page), None otherwise."""
    if src.startswith("data:image/svg+xml"):
        head, _, data = src.partition(",")
        return base64.b64decode(data).decode() if head.endswith(";base64") else urllib.parse.unquote(data)
    if src.split("?")[0].endswith(".svg"):
        path = (page.parent / urllib.parse.unquote(src.split("?")[0])).resolve()
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
    return None


def _short(src: str) -> str:
    return src[:40] + "..." if src.startswith("data:") else src


def check_pages(html: Path) -> list[str]:
    """One line per problem on the pages of a built book."""
    from playwright.sync_api import sync_playwright

    pages = sorted((html / "book").glob("*.html"))
    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        for width in (1280, 400):
            tab = browser.new_page(viewport={"width": width, "height": 900})
            for page in pages:
                tab.goto(page.as_uri())
                tab.wait_for_load_state("load")
                seen = tab.evaluate(MEASURE)
                name = f"{page.name} at {width} px"
                for im in seen["imgs"]:
                    if im["over"]:
                        problems.append(f"{name}: image wider than the column ({_short(im['src'])})")
                if width != 1280:
                    continue
                for text in seen["tables"]:
                    problems.append(f"{name}: table wider than the column ({text!r})")
                for im in seen["imgs"]:
                    alt, src = im["alt"].strip(), im["src"]
                    if not alt or alt == src or re.search(r"[0-9a-f]{32,}|\.(svg|png)$", alt):
                        problems.append(f"{name}: image without alt text ({_short(src)})")
                    svg = _svg_text(page, src)
                    if svg and im["w"]:
                        smallest, (w, _) = svg_min_font(svg), svg_size(svg)
                        if smallest and w and smallest * im["w"] / w < 10:
                            problems.append(f"{name}: SVG text {smallest * im['w'] / w:.1f} px < 10 "
                                            f"({alt[:60]!r})")
            tab.close()
        browser.close()
    return problems


def _skip_reason() -> str | None:
    if not (HTML / "book").is_dir():
        return f"no built quick book in {HTML} (run `make quick` first)"
    if shutil.which("chromium") is None:
        return "chromium is not installed (`make pagecheck` installs it)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (`make pagecheck` installs playwright==1.65.2)"
    return None


@pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")
def test_every_page_fits_the_column_with_readable_figures():
    problems = check_pages(HTML)
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
