"""Recurrence rules of family events, and when each of their reminders is due.

Lunar rules, as families keep them: a day 30 in a month that has 29 days that year falls
on day 29; an event set in a leap month falls in that leap month in a year that has it and
in the regular month of that number otherwise (set it without the leap mark to keep it in
the regular month always); a yearly lunar event never falls in a leap month otherwise.
Monthly lunar events (rằm, mùng một) fall in leap months too. Solar: day 31 in a shorter
month is its last day, 29 February in a common year is the 28th.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from bot.calendar.lunar import LunarMonth, months_of, to_lunar

Kind = Literal["once", "daily", "weekly", "monthly", "monthly_lunar", "yearly", "yearly_lunar"]
KINDS: tuple[Kind, ...] = (
    "once",
    "daily",
    "weekly",
    "monthly",
    "monthly_lunar",
    "yearly",
    "yearly_lunar",
)
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Rule:
    """When an event happens: its kind and the fields that kind uses."""

    kind: Kind
    date: dt.date | None = None  # once
    weekday: int | None = None  # weekly: Monday is 0
    days: tuple[int, ...] = field(default=())  # monthly, monthly_lunar
    month: int | None = None  # yearly, yearly_lunar
    day: int | None = None  # yearly, yearly_lunar
    leap: bool = False  # yearly_lunar set in a leap month

    def to_json(self) -> str:
        """The stored form."""
        doc: dict[str, object] = {"kind": self.kind}
        if self.date is not None:
            doc["date"] = self.date.isoformat()
        if self.weekday is not None:
            doc["weekday"] = self.weekday
        if self.days:
            doc["days"] = list(self.days)
        if self.month is not None:
            doc["month"], doc["day"] = self.month, self.day
        if self.leap:
            doc["leap"] = True
        return json.dumps(doc, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Rule:
        """Read the stored form back."""
        doc = json.loads(text)
        return cls(
            kind=doc["kind"],
            date=dt.date.fromisoformat(doc["date"]) if "date" in doc else None,
            weekday=doc.get("weekday"),
            days=tuple(doc.get("days", ())),
            month=doc.get("month"),
            day=doc.get("day"),
            leap=bool(doc.get("leap", False)),
        )

    def on_or_after(self, start: dt.date) -> dt.date | None:
        """The first day on or after `start` the event happens, or None when it never will."""
        if self.kind == "once":
            assert self.date is not None
            return self.date if self.date >= start else None
        if self.kind == "daily":
            return start
        if self.kind == "weekly":
            assert self.weekday is not None
            return start + dt.timedelta(days=(self.weekday - start.weekday()) % 7)
        if self.kind == "monthly":
            return _monthly_solar(self.days, start)
        if self.kind == "yearly":
            assert self.month is not None and self.day is not None
            for year in range(start.year, start.year + 2):
                day = _clamped(year, self.month, self.day)
                if day >= start:
                    return day
            raise AssertionError("a yearly date recurs within two years")
        if self.kind == "monthly_lunar":
            return _monthly_lunar(self.days, start)
        return self._yearly_lunar(start)

    def _yearly_lunar(self, start: dt.date) -> dt.date:
        assert self.month is not None and self.day is not None
        first = to_lunar(start).year - 1
        for year in range(first, first + 4):
            day = self.in_lunar_year(year)
            if day >= start:
                return day
        raise AssertionError("a yearly lunar date recurs within two years")

    def in_lunar_year(self, year: int) -> dt.date:
        """The solar day of a yearly lunar event in one lunar year (leap and day-30 rules)."""
        assert self.month is not None and self.day is not None
        months = [m for m in months_of(year) if m.month == self.month]
        chosen = months[-1] if self.leap else months[0]  # the leap month follows its namesake
        return chosen.day(self.day)


def _clamped(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _monthly_solar(days: tuple[int, ...], start: dt.date) -> dt.date:
    year, month = start.year, start.month
    for _ in range(3):
        found = sorted(d for d in {_clamped(year, month, n) for n in days} if d >= start)
        if found:
            return found[0]
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("a monthly date recurs within two months")


def _months_from(start: dt.date) -> list[LunarMonth]:
    year = to_lunar(start).year
    return [m for y in (year, year + 1) for m in months_of(y)]


def _monthly_lunar(days: tuple[int, ...], start: dt.date) -> dt.date:
    for month in _months_from(start):
        found = sorted(d for d in {month.day(n) for n in days} if d >= start)
        if found:
            return found[0]
    raise AssertionError("a monthly lunar date recurs within a year")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One reminder of one occurrence: `lead` days before the day, due at `due` (UTC)."""

    occurs_on: dt.date
    lead: int
    due: dt.datetime


def due_at(occurs_on: dt.date, lead: int, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """When a reminder `lead` days ahead of a day is due: at `at` in the family's zone."""
    local = dt.datetime.combine(occurs_on - dt.timedelta(days=lead), at, tzinfo=zone)
    return local.astimezone(dt.UTC)


def next_delivery(
    rule: Rule, leads: tuple[int, ...], at: dt.time, zone: ZoneInfo, after: dt.datetime
) -> Delivery | None:
    """The first reminder of the event due strictly after `after`, or None (a past one-off)."""
    best: Delivery | None = None
    today = after.astimezone(zone).date()
    for lead in leads:
        day = rule.on_or_after(today + dt.timedelta(days=lead) - ONE_DAY)
        while day is not None:
            due = due_at(day, lead, at, zone)
            if due > after:
                if best is None or (due, lead) < (best.due, best.lead):
                    best = Delivery(day, lead, due)
                break
            day = rule.on_or_after(day + ONE_DAY)
    return best


def occurrences(rule: Rule, first: dt.date, last: dt.date, limit: int = 400) -> list[dt.date]:
    """The days in [first, last] the event happens, at most `limit` of them."""
    out: list[dt.date] = []
    day = rule.on_or_after(first)
    while day is not None and day <= last and len(out) < limit:
        out.append(day)
        day = rule.on_or_after(day + ONE_DAY)
    return out
