"""The calendar as the rest of Hearth sees it: one object built in bot/app.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from contextlib import suppress
from dataclasses import dataclass

from bot.calendar.clock import Clock, SystemClock, zone
from bot.calendar.delivery import TICK_S, OutboxFor, Reminders
from bot.calendar.events import Event, EventStore
from bot.calendar.festivals import Festival, festivals_between
from bot.calendar.rules import occurrences
from bot.store.db import Database

REPEATING = ("daily", "weekly", "monthly", "monthly_lunar")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Upcoming:
    """An event's occurrence in a span of days."""

    day: dt.date
    event: Event


class Calendar:
    """Events, reminders and the clock they share (a test may set another clock)."""

    def __init__(self, db: Database, clock: Clock | None = None, *, tick_s: float = TICK_S):
        self.db = db
        self.events = EventStore(db, clock or SystemClock())
        self.reminders = Reminders(db, self.events.clock, tick_s=tick_s)

    @property
    def clock(self) -> Clock:
        """Where now comes from."""
        return self.events.clock

    def set_clock(self, clock: Clock) -> None:
        """Use another clock everywhere (tests drive time with it)."""
        self.events.clock = clock
        self.reminders.clock = clock

    async def local_now(self, family_id: int) -> dt.datetime:
        """Now in the family's time zone."""
        name = await self.db.scalar(
            "SELECT value FROM family_profile WHERE family_id = ? AND key = 'timezone'",
            (family_id,),
        )
        return self.clock.now().astimezone(zone(name))

    async def upcoming(self, family_id: int, today: dt.date, days: int = 30) -> list[Upcoming]:
        """Each active event's next day within `days` of `today`, soonest first."""
        last = today + dt.timedelta(days=days)
        found = []
        for event in await self.events.listed(family_id):
            day = event.rule.on_or_after(today)
            if day is not None and day <= last:
                found.append(Upcoming(day, event))
        return sorted(found, key=lambda u: (u.day, u.event.no))

    async def year(self, family_id: int, year: int) -> list[Upcoming]:
        """The family's dated events (one-off, yearly) that fall in a solar year."""
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        found = [
            Upcoming(day, event)
            for event in await self.events.listed(family_id)
            if event.rule.kind not in REPEATING
            for day in occurrences(event.rule, first, last)
        ]
        return sorted(found, key=lambda u: (u.day, u.event.no))

    @staticmethod
    def festivals(today: dt.date, days: int = 30) -> list[tuple[dt.date, Festival]]:
        """The main festivals within `days` of `today`."""
        return festivals_between(today, today + dt.timedelta(days=days))

    async def serve(self, platform: str, outbox_for: OutboxFor, stop: asyncio.Event) -> None:
        """The reminder loop for one platform, until `stop` (adapters start it)."""
        await self.reminders.serve(platform, outbox_for, stop)


async def upcoming_events(
    calendar: Calendar, family_id: int, today: dt.date, days: int = 7
) -> list[dict[str, object]]:
    """The family's events of the coming days as plain facts, for whoever builds a prompt:
    `{"date", "lunar", "kind", "title", "days_away"}`, soonest first."""
    from bot.calendar.lunar import to_lunar

    out: list[dict[str, object]] = []
    for item in await calendar.upcoming(family_id, today, days):
        lunar = to_lunar(item.day)
        out.append(
            {
                "date": item.day.isoformat(),
                "lunar": f"{lunar.day}/{lunar.month}" + ("L" if lunar.leap else ""),
                "kind": item.event.kind,
                "title": item.event.title,
                "days_away": (item.day - today).days,
            }
        )
    return out


def start_reminders(
    app: object, platform: str, outbox_for: OutboxFor, stop: asyncio.Event
) -> asyncio.Task[None] | None:
    """The seam adapters call once they can send: the platform's reminder loop as a task
    (`app` is the Hearth, or the pipeline: whatever holds `services`)."""
    calendar = getattr(getattr(app, "services", None), "calendar", None)
    if not isinstance(calendar, Calendar):
        return None
    return asyncio.create_task(
        calendar.serve(platform, outbox_for, stop), name=f"{platform}-reminders"
    )


async def stop_reminders(
    task: asyncio.Task[None] | None, stop: asyncio.Event, grace_s: float = 5.0
) -> None:
    """When the adapter ends: a stopping loop finishes its send (bounded); an adapter that
    ends for another reason (an error) cancels it (what it claimed is released)."""
    if task is None:
        return
    if stop.is_set():
        await asyncio.wait({task}, timeout=grace_s)
    if not task.done():
        task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    if not task.cancelled() and task.exception() is not None:
        log.error("the reminder loop failed", exc_info=task.exception())
