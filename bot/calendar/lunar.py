"""Vietnam's lunar calendar (UTC+7) through lunar-vn: conversions, month layout, can chi.

lunar-vn implements Hồ Ngọc Đức's algorithm, the one Vietnamese calendars publish; the
time zone matters (1985's Tết is 21 January in Vietnam, 20 February in China).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from lunar_vn import LunarDate, can_chi, jd_from_date, lunar_to_solar, solar_to_lunar

VIETNAM_UTC_OFFSET = 7.0
FIRST_YEAR, LAST_YEAR = 1901, 2099  # inside lunar-vn's supported range, with a year to spare
LUNAR_RE = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})\s*([lLnN]?)\s*$")

__all__ = ["LunarDate", "LunarMonth", "day_info", "months_of", "parse_lunar", "to_lunar"]


@dataclass(frozen=True, slots=True)
class LunarMonth:
    """One month of a lunar year: its number, whether it is the leap one, where it starts."""

    year: int
    month: int
    leap: bool
    start: dt.date
    length: int  # 29 or 30

    def day(self, day: int) -> dt.date:
        """The solar date of a day of this month; day 30 of a 29-day month is its day 29."""
        return self.start + dt.timedelta(days=min(day, self.length) - 1)


def check_year(year: int) -> None:
    """Refuse years the library cannot convert, with a message a person can act on."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {year} is outside {FIRST_YEAR}–{LAST_YEAR}")


def to_lunar(day: dt.date) -> LunarDate:
    """The Vietnamese lunar date of a solar day."""
    check_year(day.year)
    return solar_to_lunar(day, time_zone=VIETNAM_UTC_OFFSET)


def to_solar(day: int, month: int, year: int, leap: bool = False) -> dt.date:
    """The solar day of a lunar date; ValueError if that year has no such (leap) month/day."""
    check_year(year)
    months = [m for m in months_of(year) if m.month == month and m.leap == leap]
    if not months:
        raise ValueError(f"lunar year {year} has no leap month {month}")
    if not 1 <= day <= months[0].length:
        raise ValueError(f"lunar month {month}/{year} has {months[0].length} days")
    return months[0].day(day)


@lru_cache(maxsize=512)
def months_of(year: int) -> tuple[LunarMonth, ...]:
    """The 12 or 13 months of a lunar year in order, a leap month right after its namesake."""
    check_year(year)
    start = lunar_to_solar(LunarDate(1, 1, year), time_zone=VIETNAM_UTC_OFFSET)
    months: list[LunarMonth] = []
    while True:
        first = solar_to_lunar(start, time_zone=VIETNAM_UTC_OFFSET)
        if first.year != year:
            return tuple(months)
        day30 = solar_to_lunar(start + dt.timedelta(days=29), time_zone=VIETNAM_UTC_OFFSET)
        length = 30 if day30.day == 30 else 29
        months.append(LunarMonth(year, first.month, first.leap, start, length))
        start += dt.timedelta(days=length)


def leap_month(year: int) -> int | None:
    """The number of the year's leap month, or None in a common year."""
    return next((m.month for m in months_of(year) if m.leap), None)


def month_of(day: dt.date) -> LunarMonth:
    """The lunar month a solar day falls in."""
    lunar = to_lunar(day)
    return next(m for m in months_of(lunar.year) if m.month == lunar.month and m.leap == lunar.leap)


def can_chi_of(day: dt.date) -> dict[str, str]:
    """Can chi of the day, its lunar month and its lunar year (a leap month shares its
    namesake's)."""
    lunar = to_lunar(day)
    return {
        "day": can_chi.get_day_can_chi(jd_from_date(day.day, day.month, day.year)),
        "month": can_chi.get_month_can_chi(lunar.year, lunar.month),
        "year": can_chi.get_year_can_chi(lunar.year),
    }


def lunar_text(lunar: LunarDate) -> str:
    """`D/M/YYYY`, with `L` after a leap month (the form `hearth lich --lunar` reads)."""
    return f"{lunar.day}/{lunar.month}/{lunar.year}" + ("L" if lunar.leap else "")


def day_info(day: dt.date) -> dict[str, object]:
    """One day in both calendars: the document `hearth lich --json` prints."""
    lunar = to_lunar(day)
    return {
        "solar": day.isoformat(),
        "lunar": {"day": lunar.day, "month": lunar.month, "year": lunar.year, "leap": lunar.leap},
        "can_chi": can_chi_of(day),
    }


def parse_lunar(text: str) -> dt.date:
    """`D/M/YYYY` or `D/M/YYYYL` (leap month; `N` for nhuận too) → the solar day."""
    match = LUNAR_RE.match(text)
    if match is None:
        raise ValueError(f"not a lunar date D/M/YYYY[L]: {text!r}")
    day, month, year = int(match[1]), int(match[2]), int(match[3])
    if not 1 <= month <= 12 or not 1 <= day <= 30:
        raise ValueError(f"no lunar date {day}/{month}")
    return to_solar(day, month, year, leap=bool(match[4]))
