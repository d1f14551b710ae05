"""Split long answers into messenger-sized pieces without cutting words or losing text.

Telegram refuses messages over 4096 characters and Zalo over 2000; popular bots simply
truncate. Here every piece ends at the best boundary available inside the limit:
a blank line (paragraph), then a line break, then the end of a sentence, then a space.
Only a single "word" longer than the whole limit (a URL, a hash) is ever cut.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

Measure = Callable[[str], int]

# Boundaries in order of preference; each pattern matches the separator itself.
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_LINE = re.compile(r"\n\s*")
_SENTENCE = re.compile(r"(?<=[.!?…。;:)\]\"'”])\s+")
_SPACE = re.compile(r"\s+")
_BOUNDARIES = (_PARAGRAPH, _LINE, _SENTENCE, _SPACE)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int, measure: Measure = len) -> list[str]:
    """Cut `text` into pieces of at most `limit` (by `measure`) at the best boundary.

    Whitespace at the cut points is dropped; every non-space character is kept, in order.
    An empty or blank text gives an empty list.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if measure(rest) <= limit:
            pieces.append(rest)
            break
        head, tail = _cut(rest, limit, measure)
        pieces.append(head)
        rest = tail.lstrip()
    return pieces


def _fits(text: str, limit: int, measure: Measure) -> int:
    """The longest prefix length (in str indexes) whose measure is within the limit."""
    if measure is len:
        return min(limit, len(text))
    lo, hi = 0, min(len(text), limit)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _cut(text: str, limit: int, measure: Measure) -> tuple[str, str]:
    """One piece within the limit and the remainder, cut at the best boundary."""
    end = _fits(text, limit, measure)
    window = text[: end + 1]  # one extra char: a separator right after the limit counts
    for pattern in _BOUNDARIES:
        cut = None
        for match in pattern.finditer(window):
            if match.start() == 0:
                continue
            if match.start() > end:
                break
            cut = match
        if cut is not None:
            head = text[: cut.start()].rstrip()
            if head:
                return head, text[cut.end() :]
    # A single word longer than the limit: cut it, but never inside a surrogate pair
    # or between a base letter and its combining mark.
    while end > 1 and _is_combining(text[end]):
        end -= 1
    end = max(end, 1)
    return text[:end], text[end:]


def _is_combining(ch: str) -> bool:
    return unicodedata.combining(ch) != 0
