"""Recurrence rules and when their reminders fall, with the lunar rules the issue names."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from lunar_vn import convert_lunar_to_solar

from bot.calendar.rules import Rule, next_delivery, occurrences

VN = ZoneInfo("Asia/Ho_Chi_Minh")
LA = ZoneInfo("America/Los_Angeles")
D = dt.date


def days(rule: Rule, first: dt.date, last: dt.date) -> list[str]:
    return [d.isoformat() for d in occurrences(rule, first, last)]


def test_round_trip_of_the_stored_form() -> None:
    for rule in (
        Rule("once", date=D(2026, 5, 1)),
        Rule("daily"),
        Rule("weekly", weekday=6),
        Rule("monthly", days=(5, 31)),
        Rule("monthly_lunar", days=(1, 15)),
        Rule("yearly", month=2, day=29),
        Rule("yearly_lunar", month=6, day=5, leap=True),
    ):
        assert Rule.from_json(rule.to_json()) == rule


def test_once_daily_weekly_across_the_year_end() -> None:
    assert days(Rule("once", date=D(2027, 1, 1)), D(2026, 12, 30), D(2027, 1, 5)) == ["2027-01-01"]
    assert days(Rule("once", date=D(2026, 1, 1)), D(2026, 12, 30), D(2027, 1, 5)) == []
    assert days(Rule("daily"), D(2026, 12, 30), D(2027, 1, 2)) == [
        "2026-12-30", "2026-12-31", "2027-01-01", "2027-01-02",
    ]  # fmt: skip
    assert days(Rule("weekly", weekday=4), D(2026, 12, 20), D(2027, 1, 10)) == [
        "2026-12-25", "2027-01-01", "2027-01-08",
    ]  # fmt: skip


def test_monthly_and_yearly_solar_clamp_to_short_months() -> None:
    assert days(Rule("monthly", days=(31,)), D(2026, 11, 1), D(2027, 3, 1)) == [
        "2026-11-30", "2026-12-31", "2027-01-31", "2027-02-28",
    ]  # fmt: skip
    assert days(Rule("yearly", month=2, day=29), D(2026, 1, 1), D(2029, 1, 1)) == [
        "2026-02-28", "2027-02-28", "2028-02-29",
    ]  # fmt: skip
    assert days(Rule("yearly", month=1, day=1), D(2026, 12, 31), D(2027, 1, 2)) == ["2027-01-01"]


def test_monthly_lunar_runs_through_leap_months_and_lunar_new_year() -> None:
    rằm_mùng_một = Rule("monthly_lunar", days=(1, 15))
    # 2023: the 2nd month is followed by a leap 2nd month (from 22 March)
    assert days(rằm_mùng_một, D(2023, 2, 19), D(2023, 4, 21)) == [
        "2023-02-20", "2023-03-06", "2023-03-22", "2023-04-05", "2023-04-20",
    ]  # fmt: skip
    # across Tết Bính Ngọ (17 February 2026)
    assert days(rằm_mùng_một, D(2026, 1, 20), D(2026, 3, 4)) == [
        "2026-02-02", "2026-02-17", "2026-03-03",
    ]  # fmt: skip


def test_day_30_falls_on_day_29_in_a_short_month() -> None:
    # the 12th month of Ất Tỵ has 29 days (Tết is 17 February 2026): no 30 Tết that year
    last_day = Rule("yearly_lunar", month=12, day=30)
    assert days(last_day, D(2025, 6, 1), D(2027, 3, 1)) == ["2026-02-16", "2027-02-05"]
    monthly_30 = Rule("monthly_lunar", days=(29, 30))  # one day in a short month, two in a long
    assert days(monthly_30, D(2026, 1, 30), D(2026, 3, 20)) == [
        "2026-02-16", "2026-03-17", "2026-03-18",
    ]  # fmt: skip


def lunar(day: int, month: int, year: int, leap: bool = False) -> str:
    """lunar-vn's own conversion, as the oracle."""
    return convert_lunar_to_solar(day, month, year, int(leap)).isoformat()


def test_yearly_lunar_in_a_leap_month_and_in_years_without_one() -> None:
    leap_6 = Rule("yearly_lunar", month=6, day=5, leap=True)  # set in 2025's leap 6th month
    regular_6 = Rule("yearly_lunar", month=6, day=5)
    assert days(leap_6, D(2025, 1, 1), D(2027, 12, 31)) == [
        lunar(5, 6, 2025, leap=True),  # 2025 has the leap 6th month: there
        lunar(5, 6, 2026),  # 2026 has none: the regular 6th
        lunar(5, 6, 2027),
    ]
    assert days(leap_6, D(2025, 1, 1), D(2025, 12, 31)) == ["2025-07-29"]
    assert days(regular_6, D(2025, 1, 1), D(2025, 12, 31)) == [lunar(5, 6, 2025)]  # not the leap
    leap_2 = Rule("yearly_lunar", month=2, day=10, leap=True)
    assert days(leap_2, D(2023, 1, 1), D(2024, 12, 31)) == [
        lunar(10, 2, 2023, leap=True),
        lunar(10, 2, 2024),
    ]
    assert lunar(10, 2, 2023, leap=True) == "2023-03-31"


def test_giỗ_reminders_seven_and_one_day_ahead_across_years() -> None:
    gio = Rule("yearly_lunar", month=12, day=28)  # 28th of the last month: around Tết
    at = dt.time(8, 0)
    after = dt.datetime(2026, 12, 1, tzinfo=VN)
    seen = []
    for _ in range(4):
        delivery = next_delivery(gio, (7, 1), at, VN, after)
        assert delivery is not None
        seen.append((delivery.occurs_on.isoformat(), delivery.lead, delivery.due.isoformat()))
        after = delivery.due
    assert seen == [
        ("2027-02-04", 7, "2027-01-28T01:00:00+00:00"),
        ("2027-02-04", 1, "2027-02-03T01:00:00+00:00"),
        ("2028-01-24", 7, "2028-01-17T01:00:00+00:00"),
        ("2028-01-24", 1, "2028-01-23T01:00:00+00:00"),
    ]


def test_a_family_in_los_angeles_keeps_vietnams_lunar_day_at_its_own_hour() -> None:
    rằm = Rule("monthly_lunar", days=(15,))
    delivery = next_delivery(rằm, (0,), dt.time(7, 30), LA, dt.datetime(2026, 9, 20, tzinfo=LA))
    assert delivery is not None
    assert delivery.occurs_on == D(2026, 9, 25)  # Trung thu, Vietnam's date
    assert delivery.due.astimezone(LA).isoformat() == "2026-09-25T07:30:00-07:00"
    # a daily 08:00 across the switch to winter time (1 November 2026)
    daily, after, hours = Rule("daily"), dt.datetime(2026, 10, 31, 12, tzinfo=LA), []
    for _ in range(3):
        nxt = next_delivery(daily, (0,), dt.time(8), LA, after)
        assert nxt is not None
        hours.append(nxt.due.astimezone(LA).strftime("%m-%d %H:%M %z"))
        after = nxt.due
    assert hours == ["11-01 08:00 -0800", "11-02 08:00 -0800", "11-03 08:00 -0800"]


def test_a_past_one_off_has_no_next_reminder() -> None:
    once = Rule("once", date=D(2026, 3, 1))
    assert next_delivery(once, (0,), dt.time(9), VN, dt.datetime(2026, 3, 1, 9, tzinfo=VN)) is None
    nxt = next_delivery(once, (0,), dt.time(9), VN, dt.datetime(2026, 3, 1, 8, tzinfo=VN))
    assert nxt is not None and nxt.due == dt.datetime(2026, 3, 1, 2, tzinfo=dt.UTC)
