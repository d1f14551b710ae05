"""Shared by the usage, report and privacy tests: knowledge entries and a scripted search.

The search side is a scripted boundary (which entries a question hits is decided by the
test, so the credit that follows is known exactly); the entries themselves are real rows
in the `entries` table, with the authorship columns the credit queries read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.app import Hearth
from bot.core.types import CallbackEvent, Reply
from bot.core.usage import has_table, normalize_question
from knowledge.types import Entry, SearchHit
from tests.support import RecordingOutbox, msg

# Only used while the knowledge base migration is not on this branch yet.
MINIMAL_ENTRIES = """
CREATE TABLE entries (
    id INTEGER PRIMARY KEY, family_id INTEGER REFERENCES families (id) ON DELETE CASCADE,
    title TEXT NOT NULL, body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'approved', author TEXT, author_platform TEXT,
    author_user_id TEXT, author_member_id INTEGER REFERENCES members (id) ON DELETE SET NULL,
    approved_by TEXT, source TEXT NOT NULL DEFAULT 'chat'
)
"""


@dataclass
class ScriptedKB:
    """Hits every entry whose keyword occurs in the (folded) question, in listing order."""

    entries: list[tuple[str, Entry]] = field(default_factory=list)

    async def search(self, query: str, family_id: int | None, limit: int = 5) -> list[SearchHit]:
        folded = normalize_question(query)
        return [
            SearchHit(e, 1.0 / (i + 1))
            for i, (key, e) in enumerate(self.entries)
            if key in folded and (e.family_id is None or e.family_id == family_id)
        ][:limit]

    async def glossary_for(self, text: str, family_id: int | None, limit: int = 5) -> list[Entry]:
        return []


async def add_entry(
    hearth: Hearth,
    key: str,
    title: str,
    *,
    family_id: int | None = None,
    author: str | None = None,
    platform: str | None = None,
    user_id: str | None = None,
    member_id: int | None = None,
    approved_by: str | None = None,
    source: str = "chat",
    status: str = "approved",
) -> int:
    """A real entries row, searchable by `key` through the scripted KB on hearth.services."""
    db = hearth.services.db
    if not await has_table(db, "entries"):
        await db.execute(MINIMAL_ENTRIES)
    entry_id = await db.execute(
        "INSERT INTO entries (family_id, title, body, status, author, author_platform,"
        " author_user_id, author_member_id, approved_by, source) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            family_id,
            title,
            f"{title}: cách làm.",
            status,
            author,
            platform,
            user_id,
            member_id,
            approved_by,
            source,
        ),
    )
    kb = hearth.services.kb
    if not isinstance(kb, ScriptedKB):
        kb = hearth.services.kb = ScriptedKB()
    kb.entries.append((key, Entry(entry_id, title, f"{title}: cách làm.", family_id=family_id)))
    return entry_id


async def ask(hearth: Hearth, text: str, *, chat: str = "fam1", user: str = "u1") -> Reply:
    """Ask through the real pipeline and return the answer reply."""
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg(text, chat=chat, user=user), out)
    answer = [r for r in out.sent if r.answer_id is not None]
    assert answer, out.texts
    return answer[-1]


async def say(
    hearth: Hearth, text: str, *, chat: str = "fam1", user: str = "u1", **kw: object
) -> RecordingOutbox:
    """Send one message through the pipeline; the outbox holds what came back."""
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg(text, chat=chat, user=user, **kw), out)
    return out


async def press(hearth: Hearth, data: str, *, chat: str = "fam1", user: str = "u1") -> str:
    """A button press as an adapter reports it."""
    return await hearth.pipeline.handle_callback(CallbackEvent("console", chat, user, data))


async def message_ids(hearth: Hearth, answer_id: int) -> list[str]:
    """The platform messages that carry an answer."""
    rows = await hearth.services.db.fetchall(
        "SELECT platform_message_id FROM answer_messages WHERE answer_id = ?", (answer_id,)
    )
    return [r[0] for r in rows]


async def backdate(hearth: Hearth, table: str, row_id: int, minutes: int) -> None:
    """Move a row's timestamp into the past (the usage rules depend on elapsed time)."""
    await hearth.services.db.execute(
        f"UPDATE {table} SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) WHERE id = ?",
        (f"-{minutes} minutes", row_id),
    )


async def returns(hearth: Hearth) -> list[tuple[int, str, int]]:
    """(answer_id, kind, positive) of every return event, in order."""
    rows = await hearth.services.db.fetchall(
        "SELECT answer_id, kind, positive FROM returns ORDER BY id"
    )
    return [(r[0], r[1], r[2]) for r in rows]
