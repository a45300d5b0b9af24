"""Every chapter's Exercises section is usable by a class: each numbered exercise has one folded
hint and one folded worked solution (MyST dropdowns nested under the item), the lead paragraph
names the command that runs the chapter in quick mode, and what its runs cost is computed (a hidden
cell after the lead, from the run records), never typed in. Pure text parsing of the stored
notebooks: nothing is executed."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
HEADING = "## Exercises"
ITEM = re.compile(r"^(\d+)\.\s", re.M)  # a numbered item starts at the left margin
DROPDOWN = re.compile(r"^(?P<indent> *):::\{dropdown\}\s*(?P<title>.*?)\s*$", re.M)
RUN_TIME = re.compile(r"\b\d+(\.\d+)?\s*(s|seconds?|minutes?)\b")


def exercises_text(markdown_cells: list[str]) -> str | None:
    """The text of the Exercises section: from its heading to the next heading of level 1 or 2 (or
    the end of the notebook), over the markdown cells that follow its own; None when no cell has one."""
    for i, cell in enumerate(markdown_cells):
        at = cell.find(HEADING)
        if at < 0:
            continue
        rest = "\n\n".join([cell[at + len(HEADING):], *markdown_cells[i + 1:]])
        end = re.search(r"^#{1,2} ", rest, re.M)
        return rest[:end.start()] if end else rest
    return None


def problems(chapter: str, section: str) -> list[str]:
    """What is missing from one chapter's Exercises section (empty when it is complete)."""
    found = []
    items = list(ITEM.finditer(section))
    if not items:
        return [f"{chapter}: the Exercises section has no numbered exercise"]
    lead = section[:items[0].start()]
    if f"onepoch run {chapter} --quick" not in lead:
        found.append(f"{chapter}: the lead paragraph does not name `onepoch run {chapter} --quick`")
    typed = RUN_TIME.search(lead)
    if typed:
        found.append(f"{chapter}: the lead paragraph types in a run time ({typed.group(0)!r}): the cost cell "
                     "after it computes the chapter's run cost from the run records")
    numbers = [int(m.group(1)) for m in items]
    if numbers != list(range(1, len(items) + 1)):
        found.append(f"{chapter}: exercises are numbered {numbers}, not 1..{len(items)}")
    bounds = [m.start() for m in items] + [len(section)]
    for m, start, end in zip(items, bounds, bounds[1:]):
        body = section[start:end]
        titles = [d.group("title") for d in DROPDOWN.finditer(body)]
        unnested = [d.group("title") for d in DROPDOWN.finditer(body) if len(d.group("indent")) < 3]
        if titles != ["Hint", "Solution"]:
            found.append(f"{chapter}: exercise {m.group(1)} has dropdowns {titles}, not one Hint then one Solution")
        if unnested:
            found.append(f"{chapter}: exercise {m.group(1)}: dropdown(s) {unnested} not indented under the item")
    return found


def markdown_cells(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown"]


CHAPTERS = sorted(p for p in BOOK.glob("*.ipynb") if exercises_text(markdown_cells(p)) is not None)


def test_chapters_with_exercises_are_found():
    assert len(CHAPTERS) >= 8, [p.stem for p in CHAPTERS]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_a_hint_and_a_solution(path):
    assert problems(path.stem, exercises_text(markdown_cells(path))) == []


COMPLETE = """## Summary

Something.

## Exercises

Lead: `onepoch run demo --quick` runs the chapter in quick mode.

1. First question?

   :::{dropdown} Hint
   A hint.
   :::

   :::{dropdown} Solution
   A solution.
   :::

2. Second question?

   :::{dropdown} Hint
   A hint.
   :::

   :::{dropdown} Solution
   ```python
   1. not an item: indented code
   ```
   :::
"""


def test_a_complete_section_passes():
    assert problems("demo", exercises_text([COMPLETE])) == []


def test_a_missing_solution_fails():
    broken = COMPLETE.replace("""   :::{dropdown} Solution
   A solution.
   :::
""", "")
    found = problems("demo", exercises_text([broken]))
    assert found == ["demo: exercise 1 has dropdowns ['Hint'], not one Hint then one Solution"]


def test_a_lead_without_the_command_or_with_a_typed_run_time_fails():
    found = problems("demo", exercises_text([COMPLETE.replace("`onepoch run demo --quick` runs the chapter in quick "
                                                              "mode", "Run it in about 15 s")]))
    assert len(found) == 2 and "onepoch run demo --quick" in found[0] and "'15 s'" in found[1]


def test_the_section_spans_the_cells_after_its_heading():
    lead, items = COMPLETE.split("\n1. ", 1)
    assert problems("demo", exercises_text([lead, "1. " + items])) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_run_cost_is_computed_right_after_the_lead(path):
    cells = json.loads(path.read_text())["cells"]
    at = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and HEADING in "".join(c["source"]))
    after = cells[at + 1] if at + 1 < len(cells) else {"cell_type": None, "source": []}
    assert after["cell_type"] == "code" and "run_cost.chapter_cost_text(" in "".join(after["source"]), path.stem
    tags = after.get("metadata", {}).get("tags", [])
    # hidden, and not compared by nbval: its re-execution has no run log, so the sentence differs
    assert "remove-input" in tags and "nbval-ignore-output" in tags, path.stem


def test_a_dropdown_outside_its_item_fails():
    found = problems("demo", exercises_text([COMPLETE.replace("   :::{dropdown} Hint\n   A hint.", ":::{dropdown} Hint\n"
                                                              "A hint.", 1)]))
    assert found == ["demo: exercise 1: dropdown(s) ['Hint'] not indented under the item"]


def test_the_section_ends_at_the_next_heading():
    text = exercises_text([COMPLETE + "\n## Appendix\n\n3. Not an exercise.\n"])
    assert "Appendix" not in text and problems("demo", text) == []
