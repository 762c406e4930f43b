"""The widget's height at a given width, known before any browser lays it out.

Every box of the widget has a fixed height in px per layout (texts never wrap beyond a
fixed number of lines: see widget.css), so its height is a sum over what is shown: the
frame, the caption, the column heads, one row per currency (taller with a note), and the
footer's lines. ``/oembed`` answers with it, and ``/widget.js`` reserves it before the
frame loads (zero layout shift on the host page); the loader gets the same numbers as a
table (:func:`loader_table`), so Python and the browser cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from widget.facts import RowFacts


@dataclass(frozen=True)
class Layout:
    """Heights in px of one layout; it applies from ``min_width`` (the frame's width) up."""

    min_width: int
    base: int  # frame borders + caption + column heads + footer padding and border
    row: int
    note: int
    updated_lines: int
    credit_lines: int
    line: int = 16
    empty: int = 0  # the single "no rates" row
    gold_head: int = 0  # the gold table's caption and column heads
    gold_note: int = 45  # the two-line note under it (1 + 6 + 2 * 16 + 6)

    def gold(self, karats: int) -> int:
        """The gold table's height (section 6): nothing when it is not shown."""
        return self.gold_head + self.row * karats + self.gold_note if karats else 0

    def height(self, rows: Sequence[RowFacts]) -> int:
        if not rows:
            return self.base + self.empty + self.line * self.updated_lines
        lines = self.updated_lines
        if any(r.source for r in rows):
            lines += self.credit_lines
        lines += len({r.reason for r in rows if r.reason})
        lines += any(r.held for r in rows)
        return self.base + sum(self.row + self.note * r.noted for r in rows) + self.line * lines


# Must match widget.css: 2 (frame border) + caption + heads (1 + 2*6 + 16) + footer (1 + 7 + 8).
# The breakpoints are the stylesheet's @media widths.
LAYOUTS: tuple[Layout, ...] = (
    Layout(
        min_width=0,
        base=2 + 38 + 29 + 16,
        row=47,
        note=21,
        updated_lines=2,
        credit_lines=2,
        empty=47,
        gold_head=38 + 29,
    ),
    Layout(
        min_width=480,
        base=2 + 42 + 29 + 16,
        row=49,
        note=21,
        updated_lines=2,
        credit_lines=1,
        empty=49,
        gold_head=42 + 29,
    ),
    Layout(
        min_width=640,
        base=2 + 42 + 29 + 16,
        row=49,
        note=21,
        updated_lines=1,
        credit_lines=1,
        empty=49,
        gold_head=42 + 29,
    ),
)
DEFAULT_WIDTH = 360


def layout_for(width: int) -> Layout:
    return [layout for layout in LAYOUTS if layout.min_width <= width][-1]


def widget_height(rows: Sequence[RowFacts], width: int, gold_karats: int = 0) -> int:
    """The widget's height in px at ``width`` px for these rows (and a gold table of ``gold_karats`` rows)."""
    layout = layout_for(width)
    return layout.height(rows) + layout.gold(gold_karats)


def loader_table(facts: Iterable[RowFacts], gold_karats: int = 0) -> dict[str, Any]:
    """What ``widget.js`` needs to compute :func:`widget_height` for any subset of codes."""
    rows = list(facts)
    reasons = sorted({r.reason for r in rows if r.reason})
    return {
        "layouts": [
            [
                lay.min_width,
                lay.base,
                lay.row,
                lay.note,
                lay.updated_lines,
                lay.credit_lines,
                lay.line,
                lay.empty,
                lay.gold(gold_karats),
            ]
            for lay in LAYOUTS
        ],
        "gold": gold_karats,
        # code -> [noted, has a source, reason index + 1 (0 = none), held]
        "codes": {
            r.code: [int(r.noted), int(bool(r.source)), reasons.index(r.reason) + 1 if r.reason else 0, int(r.held)]
            for r in rows
        },
    }


def facts_of(entries: Iterable[Mapping[str, Any]], noted: frozenset[str]) -> list[RowFacts]:
    """Row facts from rates-document entries (the public shape) and the codes that carry a note."""
    return [RowFacts.of(entry, entry.get("code") in noted) for entry in entries]
