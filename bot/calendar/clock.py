"""Where the calendar reads the time: the system clock, or a test's clock."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


class Clock(Protocol):
    """Now, as an aware UTC datetime."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> dt.datetime:
        """The current time in UTC."""
        return dt.datetime.now(dt.UTC)


def zone(name: str | None) -> ZoneInfo:
    """A family's time zone (`/family set timezone`), Vietnam's when unset or unknown."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def checked_zone(name: str) -> str:
    """The canonical IANA name for a time zone a person typed, or ValueError."""
    cleaned = name.strip().replace(" ", "_")
    aliases = {"vietnam": DEFAULT_ZONE, "viet_nam": DEFAULT_ZONE, "utc": "UTC"}
    cleaned = aliases.get(cleaned.lower(), cleaned)
    if not cleaned or cleaned.startswith(("/", ".")) or ".." in cleaned:
        raise ValueError(name)
    try:
        ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError):
        matches = [z for z in _all_zones() if z.lower() == cleaned.lower()]
        if not matches:
            raise ValueError(name) from None
        cleaned = matches[0]
    return cleaned


def _all_zones() -> set[str]:
    from zoneinfo import available_timezones

    return available_timezones()
