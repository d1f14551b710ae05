"""Values shared by the knowledge store, search, memory and the context rewriter."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.calendar_context import Today

TERM_TAGS = frozenset({"term", "thuật ngữ", "glossary"})  # any of these makes a glossary entry


def has_term_tag(tags: Iterable[str]) -> bool:
    """Whether tags mark a glossary entry (the one definition search, the glossary index
    and the rewriter share)."""
    return any(t.lower() in TERM_TAGS for t in tags)


@dataclass(frozen=True, slots=True)
class Entry:
    """A knowledge entry as handlers and the rewriter see it (the latest revision)."""

    id: int
    title: str
    body: str
    tags: tuple[str, ...] = ()
    language: str = "vi"
    region: str | None = None
    family_id: int | None = None  # None: global
    verbatim: bool = False
    author: str | None = None
    status: str = "approved"
    aliases: tuple[str, ...] = ()
    version: int = 1
    created_at: str = ""
    updated_at: str = ""

    @property
    def is_term(self) -> bool:
        """Glossary entries are tagged `term` (or `thuật ngữ`)."""
        return has_term_tag(self.tags)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: the entry, a score where higher is better, a short snippet."""

    entry: Entry
    score: float
    snippet: str = ""
    strong: bool = False  # the query matched this entry's title/alias as a phrase
    cosine: float | None = None  # similarity to the question when vectors ranked it


@dataclass(frozen=True, slots=True)
class Fact:
    """A remembered family fact."""

    id: int
    text: str
    created_at: str = ""


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of recent history."""

    role: str  # 'user' | 'assistant'
    text: str
    author: str = ""


@dataclass(slots=True)
class ContextInput:
    """Everything the rewriter may use; all plain data, so rewriting stays pure."""

    question: str
    language: str  # 'vi' | 'en' preferred reply language
    profile: dict[str, str] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)
    summary: str | None = None
    recent: list[Turn] = field(default_factory=list)
    hits: list[SearchHit] = field(default_factory=list)
    glossary: list[Entry] = field(default_factory=list)
    budget_tokens: int = 3000
    strict_privacy: bool = False  # remote endpoint + /family set privacy strict
    today: Today | None = None  # the date and the family's coming events (None: unknown)


@dataclass(slots=True)
class ContextResult:
    """The messages for the model and a record of what was added and why (for /why)."""

    messages: list[dict[str, str]]
    language: str
    entry_ids: list[int]
    record: dict[str, object]
    sources: list[Entry] = field(default_factory=list)  # the entries quoted, in rank order
    guarded: str = ""  # the prompt text an answer must not repeat (rules, constraints, closing)
