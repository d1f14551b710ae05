"""Reminders a platform refused, delivered right after the bot's next reply to that chat.

Zalo takes messages the bot did not answer only within its limits; a reminder it refused is
kept (held) and goes out once someone in the chat writes and has been answered. The same
states as any delivery: claimed, sending, sent — a crash in between is recovered the same way.
"""

from __future__ import annotations

import logging
import sqlite3
from functools import partial

from bot.calendar.delivery import (
    CLAIMED_SQL,
    Claimed,
    Reminders,
    claimed_of,
    mark_sending_in,
    mark_sent_in,
)
from bot.core.types import Outbox, Reply
from bot.store.db import Database

log = logging.getLogger(__name__)


def claim_held_in(conn: sqlite3.Connection, platform: str, chat_id: str, run: str) -> list[Claimed]:
    """Take the chat's held reminders, oldest first (marked late: they are)."""
    family = conn.execute(
        "SELECT id FROM families WHERE platform = ? AND chat_id = ?", (platform, chat_id)
    ).fetchone()
    if family is None:
        return []
    conn.execute(
        "UPDATE calendar_deliveries SET status = 'claimed', claimed_by = ?, late = 1"
        " WHERE family_id = ? AND status = 'failed' AND held_at IS NOT NULL",
        (run, family[0]),
    )
    rows = conn.execute(
        CLAIMED_SQL + " WHERE d.family_id = ? AND d.status = 'claimed' AND d.claimed_by = ?"
        " AND d.held_at IS NOT NULL ORDER BY d.due_at",
        (family[0], run),
    ).fetchall()
    return [claimed_of(row) for row in rows]


async def held_count(db: Database, family_id: int | None = None) -> int:
    """How many refused reminders wait for a reply (one family's, or all)."""
    sql = "SELECT count(*) FROM calendar_deliveries WHERE status = 'failed' AND held_at IS NOT NULL"
    if family_id is None:
        return int(await db.scalar(sql))
    return int(await db.scalar(sql + " AND family_id = ?", (family_id,)))


def put_back_in(conn: sqlite3.Connection, claimed: Claimed) -> None:
    """Refused again: held for the reply after."""
    conn.execute(
        "UPDATE calendar_deliveries SET status = 'failed', claimed_by = NULL"
        " WHERE family_id = ? AND id = ?",
        (claimed.family_id, claimed.id),
    )


async def deliver_held(reminders: Reminders, platform: str, chat_id: str, outbox: Outbox) -> int:
    """Send the chat's held reminders through `outbox`; returns how many went out."""
    db, run = reminders.db, reminders.run
    held = await db.write(lambda conn: claim_held_in(conn, platform, chat_id, run))
    sent = 0
    for claimed in held:
        if not await db.write(partial(mark_sending_in, claimed=claimed, run=run)):
            continue
        try:
            ids = await outbox.send(Reply(claimed.text, meta={"reminder": claimed.id}))
        except Exception:  # still refused or unreachable: kept for the next reply
            log.warning("held reminder %s not sent; kept", claimed.id, exc_info=True)
            await db.write(partial(put_back_in, claimed=claimed))
            continue
        now = reminders.clock.now()
        await db.write(partial(mark_sent_in, claimed=claimed, ids=ids, now=now))
        sent += 1
    return sent


class HeldAfterReplies:
    """An outbox that, after each reply, sends the chat's held reminders (Zalo wraps its own)."""

    def __init__(self, inner: Outbox, reminders: Reminders, platform: str, chat_id: str) -> None:
        self.inner = inner
        self.reminders = reminders
        self.platform = platform
        self.chat_id = chat_id

    @property
    def wants_preview(self) -> bool:
        """As the platform's outbox."""
        return self.inner.wants_preview

    async def typing(self) -> None:
        """As the platform's outbox."""
        await self.inner.typing()

    async def preview(self, text: str) -> None:
        """As the platform's outbox."""
        await self.inner.preview(text)

    async def send(self, reply: Reply) -> list[str]:
        """The reply first; then what was held, while the chat takes the bot's messages."""
        ids = await self.inner.send(reply)
        if "reminder" not in reply.meta:
            try:
                await deliver_held(self.reminders, self.platform, self.chat_id, self.inner)
            except Exception:  # the reply went out; what was held waits for the next one
                log.exception("held reminders of a chat could not be delivered")
        return ids

    async def close(self) -> None:
        """As the platform's outbox."""
        await self.inner.close()


def with_held(outbox: Outbox, app: object, platform: str, chat_id: str) -> Outbox:
    """Wrap an adapter's outbox when the app has a calendar (`app`: what holds `services`)."""
    calendar = getattr(getattr(app, "services", None), "calendar", None)
    reminders = getattr(calendar, "reminders", None)
    if not isinstance(reminders, Reminders):
        return outbox
    return HeldAfterReplies(outbox, reminders, platform, chat_id)
