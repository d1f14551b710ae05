"""Today and the family's coming events for a chat turn, read from the calendar."""

from __future__ import annotations

from typing import Any

from bot.calendar.service import Calendar
from knowledge.calendar_context import DayEvent, Today, lunar_short, today_of

HORIZON_DAYS = 400  # every yearly event's next day, so "when is grandpa's giỗ" is known


async def today_for(services: Any, family_id: int) -> Today | None:
    """The date the rewriter tells the model, and the family-wide events (giỗ, festivals
    the family keeps; not a member's personal reminders) with their next day. None
    without a calendar."""
    calendar = getattr(services, "calendar", None)
    if not isinstance(calendar, Calendar):
        return None
    day = (await calendar.local_now(family_id)).date()
    events = []
    for item in await calendar.upcoming(family_id, day, HORIZON_DAYS):
        if item.event.scope != "family":
            continue
        event = item.event
        events.append(DayEvent(item.day, lunar_short(item.day), event.kind, event.title))
    return today_of(day, tuple(events))
