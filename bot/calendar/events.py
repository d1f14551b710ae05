"""Family events in SQLite, and the one pending delivery each active event keeps.

Every statement names the family. Scheduling runs inside the caller's transaction, so an
event and its next reminder are written together, and a sent reminder and the one after it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import Any

from bot.calendar.clock import Clock, zone
from bot.calendar.parse import Draft
from bot.calendar.rules import Delivery, Rule, next_delivery
from bot.store.db import Database

EVENT_COLUMNS = (
    "id, family_id, no, kind, scope, member_id, member_name, title, rule, at_time, leads,"
    " lang, thread_id, active"
)


@dataclass(frozen=True, slots=True)
class Event:
    """One family event or reminder as stored."""

    id: int
    family_id: int
    no: int
    kind: str  # reminder | gio | event
    scope: str  # personal | family
    member_id: int | None
    member_name: str
    title: str
    rule: Rule
    at: dt.time
    leads: tuple[int, ...]
    lang: str
    thread_id: str | None
    active: bool


def event_of(row: Any) -> Event:
    """An Event from a row with EVENT_COLUMNS."""
    return Event(
        row["id"],
        row["family_id"],
        row["no"],
        row["kind"],
        row["scope"],
        row["member_id"],
        row["member_name"],
        row["title"],
        Rule.from_json(row["rule"]),
        dt.time.fromisoformat(row["at_time"]),
        tuple(int(n) for n in row["leads"].split(",") if n),
        row["lang"],
        row["thread_id"],
        bool(row["active"]),
    )


def unix(moment: dt.datetime) -> int:
    """Seconds since the epoch (the delivery columns)."""
    return int(moment.timestamp())


def zone_name_in(conn: sqlite3.Connection, family_id: int) -> str | None:
    """The family's `timezone` profile value, if set."""
    row = conn.execute(
        "SELECT value FROM family_profile WHERE family_id = ? AND key = 'timezone'", (family_id,)
    ).fetchone()
    return None if row is None else str(row[0])


def schedule_next_in(
    conn: sqlite3.Connection, event: Event, after: dt.datetime
) -> tuple[int, Delivery] | None:
    """Insert the event's next delivery due after `after`; (row id, delivery) or None."""
    if not event.active:
        return None
    tz = zone(zone_name_in(conn, event.family_id))
    delivery = next_delivery(event.rule, event.leads or (0,), event.at, tz, after)
    if delivery is None:
        return None
    platform = conn.execute(
        "SELECT platform FROM families WHERE id = ?", (event.family_id,)
    ).fetchone()[0]
    due = unix(delivery.due)
    cur = conn.execute(
        "INSERT INTO calendar_deliveries (family_id, event_id, platform, occurs_on, lead_days,"
        " due_at, try_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (event_id, occurs_on, lead_days) DO NOTHING",
        (
            event.family_id,
            event.id,
            platform,
            delivery.occurs_on.isoformat(),
            delivery.lead,
            due,
            due,
        ),
    )
    if not cur.rowcount:
        return None  # already scheduled (or delivered): never twice
    return int(cur.lastrowid or 0), delivery


def event_in(conn: sqlite3.Connection, family_id: int, event_id: int) -> Event | None:
    """One event by id, inside a transaction."""
    row = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM calendar_events WHERE family_id = ? AND id = ?",
        (family_id, event_id),
    ).fetchone()
    return None if row is None else event_of(row)


def drop_pending_in(conn: sqlite3.Connection, family_id: int, event_id: int) -> None:
    """Forget the event's next delivery (before it changes or goes)."""
    conn.execute(
        "DELETE FROM calendar_deliveries WHERE family_id = ? AND event_id = ? AND status = 'pending'",
        (family_id, event_id),
    )


class EventStore:
    """Add, list, change and remove a family's events; each change reschedules at once."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def add(
        self,
        family_id: int,
        member_id: int | None,
        member_name: str,
        draft: Draft,
        *,
        kind: str,
        scope: str,
        lang: str,
        thread_id: str | None = None,
    ) -> Event:
        """Store an event and schedule its first reminder, in one transaction."""
        now = self.clock.now()

        def work(conn: sqlite3.Connection) -> Event:
            no = conn.execute(
                "SELECT COALESCE(MAX(no), 0) + 1 FROM calendar_events WHERE family_id = ?",
                (family_id,),
            ).fetchone()[0]
            cur = conn.execute(
                "INSERT INTO calendar_events (family_id, no, kind, scope, member_id, member_name,"
                " title, rule, at_time, leads, lang, thread_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    family_id, no, kind, scope, member_id, member_name, draft.title,
                    draft.rule.to_json(), f"{draft.at:%H:%M}", ",".join(map(str, draft.leads)),
                    lang, thread_id,
                ),
            )  # fmt: skip
            event = event_in(conn, family_id, int(cur.lastrowid or 0))
            assert event is not None
            schedule_next_in(conn, event, now)
            return event

        return await self.db.write(work)

    async def listed(self, family_id: int, kinds: tuple[str, ...] | None = None) -> list[Event]:
        """The family's active events, by number."""
        rows = await self.db.fetchall(
            f"SELECT {EVENT_COLUMNS} FROM calendar_events WHERE family_id = ? AND active = 1"
            " ORDER BY no",
            (family_id,),
        )
        events = [event_of(r) for r in rows]
        return [e for e in events if kinds is None or e.kind in kinds]

    async def get(self, family_id: int, no: int) -> Event | None:
        """An active event by the number lists show."""
        row = await self.db.fetchone(
            f"SELECT {EVENT_COLUMNS} FROM calendar_events"
            " WHERE family_id = ? AND no = ? AND active = 1",
            (family_id, no),
        )
        return None if row is None else event_of(row)

    async def replace(self, event: Event, draft: Draft) -> Event:
        """New rule, time, title and reminders for an event; its next reminder follows."""
        now = self.clock.now()

        def work(conn: sqlite3.Connection) -> Event:
            conn.execute(
                "UPDATE calendar_events SET title = ?, rule = ?, at_time = ?, leads = ?"
                " WHERE family_id = ? AND id = ?",
                (
                    draft.title, draft.rule.to_json(), f"{draft.at:%H:%M}",
                    ",".join(map(str, draft.leads)), event.family_id, event.id,
                ),
            )  # fmt: skip
            return self._rescheduled(conn, event, now)

        return await self.db.write(work)

    async def set_leads(self, event: Event, leads: tuple[int, ...]) -> Event:
        """Change only how many days ahead the event is announced."""
        now = self.clock.now()

        def work(conn: sqlite3.Connection) -> Event:
            conn.execute(
                "UPDATE calendar_events SET leads = ? WHERE family_id = ? AND id = ?",
                (",".join(map(str, leads)), event.family_id, event.id),
            )
            return self._rescheduled(conn, event, now)

        return await self.db.write(work)

    @staticmethod
    def _rescheduled(conn: sqlite3.Connection, event: Event, now: dt.datetime) -> Event:
        drop_pending_in(conn, event.family_id, event.id)
        fresh = event_in(conn, event.family_id, event.id)
        assert fresh is not None
        schedule_next_in(conn, fresh, now)
        return fresh

    async def remove(self, event: Event) -> None:
        """Retire an event: no more reminders; what was sent stays for the report."""

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE calendar_events SET active = 0 WHERE family_id = ? AND id = ?",
                (event.family_id, event.id),
            )
            drop_pending_in(conn, event.family_id, event.id)

        await self.db.write(work)

    async def rezone(self, family_id: int) -> int:
        """After the family's time zone changed: every next reminder at the new local time."""
        now = self.clock.now()

        def work(conn: sqlite3.Connection) -> int:
            rows = conn.execute(
                f"SELECT {EVENT_COLUMNS} FROM calendar_events WHERE family_id = ? AND active = 1",
                (family_id,),
            ).fetchall()
            for row in rows:
                self._rescheduled(conn, event_of(row), now)
            return len(rows)

        return await self.db.write(work)

    async def next_days(self, family_id: int) -> dict[int, dt.date]:
        """Event id → the day its next reminder is about (what lists show)."""
        rows = await self.db.fetchall(
            "SELECT event_id, occurs_on FROM calendar_deliveries"
            " WHERE family_id = ? AND status IN ('pending', 'claimed', 'sending')",
            (family_id,),
        )
        return {r["event_id"]: dt.date.fromisoformat(r["occurs_on"]) for r in rows}

    async def missed(self, family_id: int, since: dt.datetime) -> list[dict[str, Any]]:
        """Reminders that never went out (missed in downtime, or refused), newest first."""
        rows = await self.db.fetchall(
            "SELECT d.occurs_on, d.lead_days, d.due_at, d.status, e.title, e.kind"
            " FROM calendar_deliveries d JOIN calendar_events e ON e.id = d.event_id"
            " WHERE d.family_id = ? AND d.status IN ('missed', 'failed') AND d.held_at IS NULL"
            " AND d.due_at >= ?"
            " ORDER BY d.due_at DESC LIMIT 20",
            (family_id, unix(since)),
        )
        return [dict(r) for r in rows]
