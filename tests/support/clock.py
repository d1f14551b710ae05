"""A clock a test moves by hand (the calendar reads time only through its clock)."""

from __future__ import annotations

import datetime as dt


class FakeClock:
    """Stands still until told: `advance(...)` or `set(...)`."""

    def __init__(self, start: dt.datetime) -> None:
        assert start.tzinfo is not None, "an aware datetime"
        self.current = start.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self.current

    def set(self, moment: dt.datetime) -> None:
        assert moment.tzinfo is not None, "an aware datetime"
        self.current = moment.astimezone(dt.UTC)

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)
