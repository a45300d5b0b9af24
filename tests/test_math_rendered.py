"""Every formula of the quick book reached MathJax whole: no dollar sign left beside a rendered
formula (a `$$...$$` inside a paragraph renders as `$` + inline math + `$`), and no raw `$$` in a
page's text. Runs on the quick build (`make test` builds it before the unit tests)."""
import re
from pathlib import Path

import pytest

HTML = Path(__file__).resolve().parents[1] / "_build" / "quick" / "html" / "book"
STRAY = re.compile(r'\$<span class="math|\\\)</span>\$|\$\$')


def stray_dollars(page: str) -> list[str]:
    text = re.sub(r"<script.*?</script>|<pre.*?</pre>|<code.*?</code>", "", page, flags=re.S)
    return [text[max(0, m.start() - 40):m.end() + 40] for m in STRAY.finditer(text)]


def test_the_check_finds_a_paragraph_with_display_math_inline():
    broken = '<p>probability\n$<span class="math notranslate nohighlight">\\(p = 1\\)</span>$</p>'
    assert stray_dollars(broken) and not stray_dollars('<p><span class="math">\\(p = 1\\)</span></p>')


def test_no_page_shows_stray_dollars():
    pages = sorted(HTML.glob("*.html"))
    if not pages:
        pytest.skip("no quick build yet (make quick)")
    found = {p.name: hits for p in pages if (hits := stray_dollars(p.read_text(encoding="utf-8")))}
    assert not found, f"formulas not rendered whole: {found}"
