"""The festivals every Vietnamese family keeps, by lunar date, and where they fall."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.calendar.lunar import months_of, to_lunar


@dataclass(frozen=True, slots=True)
class Festival:
    """A festival on a lunar day of a regular month; day 0 is the last day of the month."""

    day: int
    month: int
    vi: str
    en: str


FESTIVALS = (
    Festival(1, 1, "Tết Nguyên Đán", "Lunar New Year (Tết)"),
    Festival(15, 1, "Rằm tháng Giêng", "First full moon (Rằm tháng Giêng)"),
    Festival(3, 3, "Tết Hàn thực", "Cold Food Festival (Hàn thực)"),
    Festival(10, 3, "Giỗ Tổ Hùng Vương", "Hùng Kings' Commemoration"),
    Festival(15, 4, "Lễ Phật Đản", "Buddha's Birthday (Phật Đản)"),
    Festival(5, 5, "Tết Đoan Ngọ", "Mid-year Festival (Đoan Ngọ)"),
    Festival(15, 7, "Lễ Vu Lan", "Vu Lan (Ghost Festival)"),
    Festival(15, 8, "Tết Trung thu", "Mid-Autumn Festival (Trung thu)"),
    Festival(23, 12, "Ông Công ông Táo", "Kitchen Gods' Day (Ông Táo)"),
    Festival(0, 12, "Giao thừa", "Lunar New Year's Eve (Giao thừa)"),
)


def festival_dates(lunar_year: int) -> list[tuple[dt.date, Festival]]:
    """Each festival of a lunar year with its solar day, in date order."""
    regular = {m.month: m for m in months_of(lunar_year) if not m.leap}
    out = []
    for fest in FESTIVALS:
        month = regular[fest.month]
        out.append((month.day(fest.day or month.length), fest))
    return sorted(out, key=lambda pair: pair[0])


def festivals_between(first: dt.date, last: dt.date) -> list[tuple[dt.date, Festival]]:
    """Festivals whose solar day lies in [first, last], in date order."""
    years = range(to_lunar(first).year, to_lunar(last).year + 1)
    return [
        (day, fest) for year in years for day, fest in festival_dates(year) if first <= day <= last
    ]
