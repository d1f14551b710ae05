"""Glossary terms named in a question, found in memory instead of by a full-text query.

Every question asks which glossary entries (tagged `term`) its text names. As an FTS5
query that was the costliest read of a turn (the question's every syllable OR-ed against
the titles, ranked: ~2-4 ms on the benchmark database), while the terms themselves are few
(the starter pack has 22). They are kept here as syllable phrases keyed by their first
syllable, so a question is matched in microseconds; the entries it names are then read by
id with the usual visibility rules (approved, the family's own copy over the shared one),
so a stale index can only miss a term for a moment, never show one it should not.

Freshness: this process's writes mark the index stale at once (`written`); another
process's (`hearth kb` while the bot runs) are seen within RELOAD_S.
"""

from __future__ import annotations

from typing import Any

from bot.store.db import Database
from knowledge.indexing import json_list
from knowledge.normalize import contains_phrase, syllables
from knowledge.reload_gate import ReloadGate
from knowledge.rows import row_to_entry
from knowledge.search import visible_rows
from knowledge.types import Entry, has_term_tag

RELOAD_S = 1.0
MAX_TEXT_CHARS = 4000
# the index rows that can hold a glossary tag (tags are indexed as syllables, and
# "thuật ngữ" also as its bigram); `Entry.is_term` then decides on the tags themselves
LOAD_SQL = (
    "SELECT e.id, e.family_id, e.title, e.aliases, e.tags FROM entries_fts"
    " JOIN entries e ON e.id = entries_fts.rowid"
    ' WHERE entries_fts MATCH \'{tags ftags head2 fhead2} : ("term" OR "glossary"'
    " OR \"thuat_ngu\")' AND e.status = 'approved'"
)

Phrase = tuple[str, ...]


def term_phrases(title: str, aliases: str | None) -> list[Phrase]:
    """A term's title and aliases as syllable phrases (empty ones dropped)."""
    found = (tuple(syllables(p)) for p in (title, *json_list(aliases)) if p)
    return list(dict.fromkeys(p for p in found if p))


class GlossaryIndex:
    """`lookup(text, family_id)`: the glossary entries this family sees that the text names."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._by_first: dict[str, list[tuple[Phrase, int, int | None]]] = {}
        self._gate = ReloadGate(lambda: RELOAD_S)

    def written(self) -> None:
        """An entry was written in this process: read the terms again before the next lookup."""
        self._gate.stale()

    async def _reload(self) -> None:
        rows = await self.db.fetchall(LOAD_SQL)
        self._by_first = _index([r for r in rows if has_term_tag(json_list(r["tags"]))])

    def candidates(self, tokens: list[str], family_id: int | None) -> list[int]:
        """Ids of the terms whose title or an alias occurs in `tokens`, in order of first
        occurrence (the longer phrase first where two start at the same syllable)."""
        found: dict[int, None] = {}
        for i, tok in enumerate(tokens):
            for phrase, entry_id, owner in self._by_first.get(tok, ()):
                if owner is not None and owner != family_id:
                    continue
                if tuple(tokens[i : i + len(phrase)]) == phrase:
                    found.setdefault(entry_id)
        return list(found)

    async def lookup(self, text: str, family_id: int | None, limit: int = 5) -> list[Entry]:
        """Glossary entries whose title or an alias occurs (as syllables) in the text."""
        tokens = syllables((text or "")[:MAX_TEXT_CHARS])
        if not tokens:
            return []
        await self._gate.ensure(self._reload)
        ids = self.candidates(tokens, family_id)
        if not ids:
            return []
        rows = {r["id"]: r for r in await visible_rows(self.db, ids, family_id)}
        found = []
        for entry_id in ids:
            row = rows.get(entry_id)
            if row is None:
                continue  # hidden from this family, shadowed by its own copy, or gone
            entry = row_to_entry(row)
            # the row as it is now: an edit since the index was read may have renamed it
            if entry.is_term and any(
                contains_phrase(tokens, syllables(p)) for p in (entry.title, *entry.aliases) if p
            ):
                found.append(entry)
        return found[:limit]


def _index(rows: list[Any]) -> dict[str, list[tuple[Phrase, int, int | None]]]:
    """First syllable → (phrase, entry id, owning family), longest phrases first."""
    by_first: dict[str, list[tuple[Phrase, int, int | None]]] = {}
    for entry_id, family_id, title, aliases, _tags in rows:
        for phrase in term_phrases(title, aliases):
            by_first.setdefault(phrase[0], []).append((phrase, entry_id, family_id))
    for group in by_first.values():
        group.sort(key=lambda item: (-len(item[0]), item[1]))
    return by_first
