"""What search compares of an entry without reading its body, and the snippet it shows.

Each parse depends on the text alone and is cached: every search re-ranks the same few
dozen rows and must not fold and JSON-decode them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from knowledge.indexing import json_list
from knowledge.normalize import fold, syllables
from knowledge.types import has_term_tag


@dataclass(frozen=True, slots=True)
class EntryText:
    """An entry's title, aliases and tags as syllables: what ranking compares."""

    title: list[str]
    aliases: list[list[str]]
    head: frozenset[str]  # every syllable of the title and aliases
    tags: frozenset[str]
    glossary: bool


@lru_cache(maxsize=4096)
def entry_text(title: str, aliases: str | None, tags: str | None) -> EntryText:
    """Parse once per distinct text (the result depends on nothing else): every search
    re-ranks the same few dozen rows and must not fold and JSON-decode them again."""
    t = syllables(title)
    a = [syllables(x) for x in json_list(aliases)]
    head = frozenset(t).union(*a)
    tag_list = json_list(tags)
    tag_set = frozenset(syllables(" ".join(tag_list)))
    return EntryText(t, a, head, tag_set, has_term_tag(tag_list))


def row_text(row: Any) -> EntryText:
    """`entry_text` of an `entries` row."""
    return entry_text(row["title"], row["aliases"], row["tags"])


@lru_cache(maxsize=1024)
def _flat_body(body: str) -> tuple[str, str]:
    """The body on one line, and folded (depends on the text alone; hits repeat often)."""
    flat = " ".join(body.split())
    return flat, fold(flat)


def snippet(body: str, tokens: list[str], width: int = 160) -> str:
    """A short window of the body around the first query syllable it contains."""
    flat, folded = _flat_body(body)
    start = 0
    if len(folded) == len(flat):
        for tok in tokens:
            pos = folded.find(tok)
            if pos >= 0:
                start = max(0, pos - width // 4)
                break
    text = flat[start : start + width]
    return ("…" if start else "") + text + ("…" if start + width < len(flat) else "")
