"""Reminders out through each platform's outbox, once each, across restarts and crashes.

A delivery row moves pending → claimed → sending → sent, each step committed before the
next begins:
- claimed: this process took it (one transaction, so two loops never take the same row).
  A process killed now sent nothing: at the next start its claimed rows are pending again.
- sending: written just before the platform call. A row a killed process left here may or
  may not have reached the chat; it is sent again (a reminder late twice beats one lost),
  the only window where a repeat is possible, and it is logged.
- sent: the platform answered; the event's next delivery is written in the same transaction.
A row due while Hearth was down is sent marked late within CATCH_UP (or, for a reminder
ahead of an event, until the event's day); older ones, and earlier ones a later delivery of
the same event supersedes, become missed (listed in /lich). A failed send is tried again
with growing pauses, then kept as failed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.calendar.clock import Clock, zone
from bot.calendar.events import event_of, schedule_next_in, unix
from bot.calendar.rules import Delivery, next_delivery
from bot.calendar.texts import announcement
from bot.core.types import Outbox, Reply
from bot.store.db import Database

log = logging.getLogger(__name__)

TICK_S = 1.0
BATCH = 64
CONCURRENT_SENDS = 4  # reminders share the bot's send budget with answers; keep it small
GRACE = dt.timedelta(minutes=2)  # later than this is "late"
CATCH_UP = dt.timedelta(hours=6)
MAX_ATTEMPTS = 5
MAX_MISSED_ROWS = 31  # per event and tick, after a long downtime
RETRY_S = (30, 120, 600, 1800)
OutboxFor = Callable[[str], Outbox]

# a delivery with its event, chat and time zone in one read
CLAIMED_SQL = (
    "SELECT d.id AS d_id, d.occurs_on, d.lead_days, d.due_at, d.late, f.chat_id, p.value AS tz,"
    " e.id, e.family_id, e.no, e.kind, e.scope, e.member_id, e.member_name, e.title, e.rule,"
    " e.at_time, e.leads, e.lang, e.thread_id, e.active"
    " FROM calendar_deliveries d JOIN calendar_events e ON e.id = d.event_id"
    " JOIN families f ON f.id = d.family_id"
    " LEFT JOIN family_profile p ON p.family_id = d.family_id AND p.key = 'timezone'"
)
CLAIMABLE = (
    CLAIMED_SQL + " WHERE d.platform = ? AND d.status = 'pending' AND d.try_at <= ?"
    " ORDER BY d.try_at LIMIT ?"
)
EVENT_SQL = (
    "SELECT id, family_id, no, kind, scope, member_id, member_name, title, rule, at_time, leads,"
    " lang, thread_id, active FROM calendar_events WHERE family_id = ? AND id = ?"
)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this process holds, with what its message needs."""

    id: int
    family_id: int
    chat_id: str
    thread_id: str | None
    kind: str
    title: str
    member_name: str
    scope: str
    lead: int
    occurs_on: dt.date
    lang: str
    late: bool

    @property
    def text(self) -> str:
        """The message (made after the claim's transaction, not inside it)."""
        return announcement(
            kind=self.kind,
            title=self.title,
            member_name=self.member_name,
            scope=self.scope,
            lead=self.lead,
            occurs_on=self.occurs_on,
            lang=self.lang,
            late=self.late,
        )


def claimed_of(
    row: sqlite3.Row, delivery: Delivery | None = None, late: bool | None = None
) -> Claimed:
    """A Claimed from a CLAIMED_SQL row (or for another delivery of the same event)."""
    event = event_of(row)
    occurs_on = delivery.occurs_on if delivery else dt.date.fromisoformat(row["occurs_on"])
    return Claimed(
        row["d_id"],
        event.family_id,
        row["chat_id"],
        event.thread_id,
        event.kind,
        event.title,
        event.member_name,
        event.scope,
        delivery.lead if delivery else row["lead_days"],
        occurs_on,
        event.lang,
        bool(row["late"]) if late is None else late,
    )


def _still_useful(delivery: Delivery, now: dt.datetime, tz: ZoneInfo) -> bool:
    """Late but worth sending: within CATCH_UP, or ahead of the event's day still."""
    if now - delivery.due <= CATCH_UP:
        return True
    day_starts = dt.datetime.combine(delivery.occurs_on, dt.time(0), tzinfo=tz)
    return delivery.lead > 0 and now < day_starts


def claim_in(
    conn: sqlite3.Connection, platform: str, now: dt.datetime, run: str, limit: int = BATCH
) -> list[Claimed]:
    """Take the platform's due deliveries: late ones marked, stale ones missed, in one go."""
    out: list[Claimed] = []
    for row in conn.execute(CLAIMABLE, (platform, unix(now), limit)).fetchall():
        event = event_of(row)
        row_id = row["d_id"]
        if not event.active:
            conn.execute(
                "DELETE FROM calendar_deliveries WHERE family_id = ? AND id = ?",
                (event.family_id, row_id),
            )
            continue
        tz = zone(row["tz"])
        current = Delivery(
            dt.date.fromisoformat(row["occurs_on"]),
            row["lead_days"],
            dt.datetime.fromtimestamp(row["due_at"], dt.UTC),
        )
        for _ in range(MAX_MISSED_ROWS):
            late = now - current.due > GRACE
            if late:
                following = next_delivery(
                    event.rule, event.leads or (0,), event.at, tz, current.due
                )
                superseded = following is not None and following.due <= now
                if superseded or not _still_useful(current, now, tz):
                    _set_missed(conn, event.family_id, row_id)
                    inserted = schedule_next_in(conn, event, current.due)
                    if inserted is None or inserted[1].due > now:
                        break  # nothing more of this event is due now
                    row_id, current = inserted
                    continue
            conn.execute(
                "UPDATE calendar_deliveries SET status = 'claimed', claimed_by = ?, late = ?"
                " WHERE family_id = ? AND id = ? AND status = 'pending'",
                (run, int(late), event.family_id, row_id),
            )
            out.append(dataclasses.replace(claimed_of(row, current, late), id=row_id))
            break
    return out


def _set_missed(conn: sqlite3.Connection, family_id: int, row_id: int) -> None:
    conn.execute(
        "UPDATE calendar_deliveries SET status = 'missed', claimed_by = NULL"
        " WHERE family_id = ? AND id = ?",
        (family_id, row_id),
    )


def _event_of_delivery(conn: sqlite3.Connection, family_id: int, row_id: int):  # type: ignore[no-untyped-def]
    row = conn.execute(
        "SELECT e.id, d.due_at FROM calendar_deliveries d JOIN calendar_events e"
        " ON e.id = d.event_id WHERE d.family_id = ? AND d.id = ?",
        (family_id, row_id),
    ).fetchone()
    if row is None:
        return None, None
    event = event_of(conn.execute(EVENT_SQL, (family_id, row[0])).fetchone())
    return event, dt.datetime.fromtimestamp(row[1], dt.UTC)


def mark_sending_in(conn: sqlite3.Connection, claimed: Claimed, run: str) -> bool:
    """The platform call is next; False if the row is no longer ours (event deleted)."""
    cur = conn.execute(
        "UPDATE calendar_deliveries SET status = 'sending', attempts = attempts + 1"
        " WHERE family_id = ? AND id = ? AND status = 'claimed' AND claimed_by = ?",
        (claimed.family_id, claimed.id, run),
    )
    return cur.rowcount == 1


def mark_sent_in(
    conn: sqlite3.Connection, claimed: Claimed, ids: list[str], now: dt.datetime
) -> None:
    """Sent: keep the platform's message ids and schedule the event's next reminder."""
    conn.execute(
        "UPDATE calendar_deliveries SET status = 'sent', sent_at = ?, message_ids = ?"
        " WHERE family_id = ? AND id = ?",
        (unix(now), json.dumps(ids), claimed.family_id, claimed.id),
    )
    event, due = _event_of_delivery(conn, claimed.family_id, claimed.id)
    if event is not None:
        schedule_next_in(conn, event, due)


def refused(exc: BaseException) -> bool:
    """The platform said no for good (a 4xx: Zalo's limits on messages the bot did not
    answer), as opposed to an outage worth another try; adapters' errors say `retryable`."""
    return getattr(exc, "retryable", None) is False


def mark_held_in(conn: sqlite3.Connection, claimed: Claimed, now: dt.datetime) -> None:
    """Refused: kept for the next reply to the chat (bot/calendar/held.py); the event's next
    reminder is scheduled as if this one had gone out."""
    conn.execute(
        "UPDATE calendar_deliveries SET status = 'failed', held_at = ?, claimed_by = NULL"
        " WHERE family_id = ? AND id = ?",
        (unix(now), claimed.family_id, claimed.id),
    )
    event, due = _event_of_delivery(conn, claimed.family_id, claimed.id)
    if event is not None:
        schedule_next_in(conn, event, due)


def mark_failed_in(conn: sqlite3.Connection, claimed: Claimed, now: dt.datetime) -> None:
    """The platform refused or was unreachable: try later, or give up after MAX_ATTEMPTS."""
    attempts = conn.execute(
        "SELECT attempts FROM calendar_deliveries WHERE family_id = ? AND id = ?",
        (claimed.family_id, claimed.id),
    ).fetchone()[0]
    if attempts >= MAX_ATTEMPTS:
        conn.execute(
            "UPDATE calendar_deliveries SET status = 'failed' WHERE family_id = ? AND id = ?",
            (claimed.family_id, claimed.id),
        )
        event, due = _event_of_delivery(conn, claimed.family_id, claimed.id)
        if event is not None:
            schedule_next_in(conn, event, due)
        return
    pause = RETRY_S[min(attempts, len(RETRY_S)) - 1]
    conn.execute(
        "UPDATE calendar_deliveries SET status = 'pending', claimed_by = NULL, try_at = ?"
        " WHERE family_id = ? AND id = ?",
        (unix(now) + pause, claimed.family_id, claimed.id),
    )


def recover_in(conn: sqlite3.Connection, platform: str, run: str) -> tuple[int, int]:
    """At start: rows an earlier process claimed go back to pending; (claimed, sending)."""
    claimed = conn.execute(
        "UPDATE calendar_deliveries SET status = 'pending', claimed_by = NULL"
        " WHERE platform = ? AND status = 'claimed' AND claimed_by IS NOT ?",
        (platform, run),
    ).rowcount
    sending = conn.execute(
        "UPDATE calendar_deliveries SET status = 'pending', claimed_by = NULL"
        " WHERE platform = ? AND status = 'sending' AND claimed_by IS NOT ?",
        (platform, run),
    ).rowcount
    return claimed, sending


def release_in(conn: sqlite3.Connection, platform: str, run: str) -> None:
    """At stop: what this process claimed but did not start sending is pending again."""
    conn.execute(
        "UPDATE calendar_deliveries SET status = 'pending', claimed_by = NULL"
        " WHERE platform = ? AND status = 'claimed' AND claimed_by = ?",
        (platform, run),
    )


class Reminders:
    """The due-check loop of one process: claim, send, mark."""

    def __init__(self, db: Database, clock: Clock, *, tick_s: float = TICK_S) -> None:
        self.db = db
        self.clock = clock
        self.tick_s = tick_s
        self.run = uuid.uuid4().hex
        self._sends = asyncio.Semaphore(CONCURRENT_SENDS)

    async def due(self, platform: str) -> bool:
        """A cheap read: is anything of this platform due now? (no write when not)."""
        row = await self.db.fetchone(
            "SELECT 1 FROM calendar_deliveries WHERE platform = ? AND status = 'pending'"
            " AND try_at <= ? LIMIT 1",
            (platform, unix(self.clock.now())),
        )
        return row is not None

    async def tick(self, platform: str, outbox_for: OutboxFor) -> int:
        """One due-check: claim what is due and send it; returns how many went out."""
        if not await self.due(platform):
            return 0
        now = self.clock.now()
        claimed = await self.db.write(lambda conn: claim_in(conn, platform, now, self.run))
        results = await asyncio.gather(*(self._send(c, outbox_for) for c in claimed))
        return sum(results)

    async def _send(self, claimed: Claimed, outbox_for: OutboxFor) -> int:
        async with self._sends:
            if not await self.db.write(lambda conn: mark_sending_in(conn, claimed, self.run)):
                return 0
            outbox = outbox_for(claimed.chat_id)
            try:
                ids = await outbox.send(Reply(claimed.text, meta={"reminder": claimed.id}))
            except Exception as exc:  # the platform's failure: held, or retried later
                now = self.clock.now()
                if refused(exc):
                    log.warning(
                        "reminder %s refused (%s); held for the next reply", claimed.id, exc
                    )
                    await self.db.write(lambda conn: mark_held_in(conn, claimed, now))
                else:
                    log.warning("reminder %s not sent; will retry", claimed.id, exc_info=True)
                    await self.db.write(lambda conn: mark_failed_in(conn, claimed, now))
                return 0
            finally:
                await outbox.close()
            now = self.clock.now()
            await self.db.write(lambda conn: mark_sent_in(conn, claimed, ids, now))
            return 1

    async def serve(self, platform: str, outbox_for: OutboxFor, stop: asyncio.Event) -> None:
        """Until `stop`: recover what a crash left, then a due-check every tick."""
        claimed, sending = await self.db.write(lambda conn: recover_in(conn, platform, self.run))
        if sending:
            log.warning(
                "%s: %d reminders were being sent at a crash; sent again", platform, sending
            )
        if claimed:
            log.info("%s: %d reminders claimed before a stop are due again", platform, claimed)
        try:
            while not stop.is_set():
                try:
                    await self.tick(platform, outbox_for)
                except Exception:  # the loop must outlive one bad tick
                    log.exception("%s: reminder due-check failed", platform)
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.tick_s)
        finally:
            await self.db.write(lambda conn: release_in(conn, platform, self.run))
