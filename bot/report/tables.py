"""Terminal tables that stay aligned with Vietnamese, CJK and emoji text.

Column widths come from display width (East Asian wide/fullwidth = 2 cells, combining marks
and zero-width characters = 0), never from `len`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

ZERO_WIDTH_CATEGORIES = frozenset({"Mn", "Me", "Cf"})
# Bidirectional overrides and isolates would reorder the cells after them on screen.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """One line a terminal shows as-is: no escape sequences, no bidi overrides, no newlines."""
    kept = (
        " " if unicodedata.category(ch) == "Cc" else ch for ch in text if ch not in BIDI_CONTROLS
    )
    return " ".join("".join(kept).split())


def terminal_safe(text: str) -> str:
    """Multi-line text without escape sequences or bidi overrides (newlines and tabs kept)."""
    return "".join(
        " " if unicodedata.category(ch) == "Cc" and ch not in "\n\t" else ch
        for ch in text
        if ch not in BIDI_CONTROLS
    )


def char_width(ch: str) -> int:
    """Cells one code point takes in a terminal."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ZERO_WIDTH_CATEGORIES:
        return 0
    if ch in "\r\n\t" or unicodedata.category(ch) == "Cc":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Cells a string takes in a terminal."""
    return sum(char_width(ch) for ch in text)


def truncate(text: str, width: int) -> str:
    """Cut to at most `width` cells, ending in … when something was cut."""
    text = printable(text)
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def pad(text: str, width: int, align: str = "<") -> str:
    """Pad to exactly `width` cells (left or right aligned)."""
    gap = " " * max(0, width - display_width(text))
    return gap + text if align == ">" else text + gap


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    align: str | None = None,
    max_width: int = 48,
) -> str:
    """Rows under a header, columns aligned; numbers right-aligned unless `align` says."""
    cells = [[truncate("" if v is None else str(v), max_width) for v in row] for row in rows]
    if align is None:
        align = "".join(
            ">" if rows and all(isinstance(r[i], int | float) for r in rows) else "<"
            for i in range(len(headers))
        )
    widths = [
        max([display_width(h)] + [display_width(r[i]) for r in cells])
        for i, h in enumerate(headers)
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(pad(v, widths[i], align[i]) for i, v in enumerate(values)).rstrip()

    out = [line(list(headers)), "  ".join("─" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)
