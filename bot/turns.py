"""A chat's turns: FIFO locks with turn counts, and the SQL of storing and finishing one.

Store first: `store_in` runs inside the arrival transaction (bot/store/families.py
`arrive`), so a message is in the database before it waits for its chat's turn.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import Any

from bot.core.errors import FileUnavailable
from bot.core.types import Attachment, Incoming
from bot.store.answers import link_in
from bot.store.families import Family, Member, Who

MARK_ANSWERED = (
    "UPDATE messages SET status = 'answered', answered_at ="
    " strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE family_id = ? AND id = ?"
)


@dataclass(slots=True)
class Chat:
    """A chat's FIFO lock, how many tasks hold or wait for it, and how many turns it ran."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0
    turns: int = 0


def who_of(inc: Incoming, *, knows_admin: bool = True) -> Who:
    """The chat and person of an update (`knows_admin=False`: a button press keeps roles)."""
    return Who(
        inc.platform,
        inc.chat_id,
        inc.chat_kind,
        inc.chat_title,
        inc.user_id,
        inc.user_name,
        chat_admin=inc.is_chat_admin if knows_admin else None,
        language=(inc.language_code or None),
    )


def nothing(conn: sqlite3.Connection, family: Family, member: Member) -> None:
    """An arrival that stores no message (button presses, resumed messages)."""
    return None


class ChatTurns:
    """One FIFO lock per chat, alive while any task holds or waits for it."""

    def __init__(self) -> None:
        self.chats: dict[str, Chat] = {}

    @contextmanager
    def joined(self, key: str) -> Iterator[Chat]:
        """Keep the chat's lock (and its turn count) alive while this task needs it."""
        chat = self.chats.get(key)
        if chat is None:
            chat = self.chats[key] = Chat()
        chat.users += 1
        try:
            yield chat
        finally:
            chat.users -= 1
            if chat.users == 0:
                del self.chats[key]

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        """FIFO per chat: one family's messages in order, other families in parallel."""
        with self.joined(key) as chat:
            async with chat.lock:
                chat.turns += 1
                yield


def mark_answered_in(
    conn: sqlite3.Connection,
    family_id: int,
    row_id: int,
    answer_id: int | None = None,
    sent: Sequence[str] = (),
) -> None:
    """The message is answered; the platform messages that carried the answer link to it."""
    if answer_id is not None and sent:
        link_in(conn, family_id, answer_id, sent)
    conn.execute(MARK_ANSWERED, (family_id, row_id))


def claim_greeting_in(conn: sqlite3.Connection, family_id: int) -> bool:
    """Mark the family greeted; True only for the call that changed it."""
    cur = conn.execute("UPDATE families SET greeted = 1 WHERE id = ? AND greeted = 0", (family_id,))
    return cur.rowcount == 1


def drop_unconfirmed_in(conn: sqlite3.Connection, family_id: int, row_id: int) -> None:
    """Remove the answers of a still-pending message, with their assistant turns: written
    before a stop or a failed send, never marked delivered, about to be answered again."""
    conn.execute(
        "DELETE FROM messages WHERE family_id = ? AND role = 'assistant' AND platform_message_id"
        " IN (SELECT 'answer:' || id FROM answers WHERE family_id = ? AND message_id = ?)",
        (family_id, family_id, row_id),
    )
    conn.execute("DELETE FROM answers WHERE family_id = ? AND message_id = ?", (family_id, row_id))


# (platform reference, size) -> a function fetching the file's bytes: the adapter's download
FetchFor = Callable[[str, int | None], Callable[[], Awaitable[bytes]]]


def payload_of(inc: Incoming) -> str:
    """The message as stored for a later retry: every field, and where its file lives."""
    payload: dict[str, Any] = {
        f.name: getattr(inc, f.name) for f in fields(inc) if f.name != "attachment"
    }
    att = inc.attachment
    if att is not None:
        payload["attachment"] = {
            "kind": att.kind,
            "file_name": att.file_name,
            "mime_type": att.mime_type,
            "size": att.size,
            "ref": att.ref,
        }
    return json.dumps(payload, ensure_ascii=False)


def incoming_from(payload: str | None, fetch_for: FetchFor | None) -> Incoming:
    """The stored message again, its file fetchable through the adapter when it can be;
    a file that cannot be fetched any more says so politely when the turn asks for it.
    Raises TypeError/ValueError for a payload that does not describe a message."""
    data = json.loads(payload or "{}")
    if not isinstance(data, dict):
        raise ValueError("payload is not an object")
    stored = data.pop("attachment", None)
    kind = data.pop("attachment_kind", None)  # rows stored before files had a reference
    inc = Incoming(**data)
    if stored is None and kind is None:
        return inc
    stored = stored if isinstance(stored, dict) else {"kind": kind}
    ref, size = stored.get("ref"), stored.get("size")
    size = size if isinstance(size, int) else None
    if isinstance(ref, str) and ref and fetch_for is not None:
        fetch = fetch_for(ref, size)
    else:
        ref = None

        async def fetch() -> bytes:
            raise FileUnavailable

    attachment = Attachment(
        kind=stored.get("kind") or "document",
        file_name=str(stored.get("file_name") or "file"),
        mime_type=stored.get("mime_type"),
        fetch=fetch,
        size=size,
        ref=ref,
    )
    return replace(inc, attachment=attachment)


def store_in(conn: sqlite3.Connection, family: Family, member: Member, inc: Incoming) -> int | None:
    """Insert the user message (pending if addressed); None when it is a duplicate delivery."""
    cur = conn.execute(
        "INSERT INTO messages (family_id, member_id, platform_message_id, role, text,"
        " reply_to, thread_id, payload, status) VALUES (?, ?, ?, 'user', ?, ?, ?, ?, ?)"
        " ON CONFLICT (family_id, platform_message_id) DO NOTHING",
        (
            family.id,
            member.id,
            inc.message_id,
            inc.text,
            inc.reply_to_message_id,
            inc.thread_id,
            payload_of(inc),
            "pending" if inc.addressed else "ignored",
        ),
    )
    return cur.lastrowid if cur.rowcount == 1 else None
