"""Vietnam's lunar calendar against published dates, and `hearth lich` as the contract says."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from lunar_vn import LunarDate, lunar_to_solar

from bot import cli
from bot.calendar.festivals import festival_dates, festivals_between
from bot.calendar.lunar import (
    can_chi_of,
    day_info,
    leap_month,
    month_of,
    months_of,
    parse_lunar,
    to_lunar,
    to_solar,
)

# Tết Nguyên Đán as Vietnamese calendars publish it (UTC+7), 1968–2030.
TET = {
    1968: "01-29", 1969: "02-16", 1970: "02-06", 1971: "01-27", 1972: "02-15",
    1973: "02-03", 1974: "01-23", 1975: "02-11", 1976: "01-31", 1977: "02-18",
    1978: "02-07", 1979: "01-28", 1980: "02-16", 1981: "02-05", 1982: "01-25",
    1983: "02-13", 1984: "02-02", 1985: "01-21", 1986: "02-09", 1987: "01-29",
    1988: "02-17", 1989: "02-06", 1990: "01-27", 1991: "02-15", 1992: "02-04",
    1993: "01-23", 1994: "02-10", 1995: "01-31", 1996: "02-19", 1997: "02-07",
    1998: "01-28", 1999: "02-16", 2000: "02-05", 2001: "01-24", 2002: "02-12",
    2003: "02-01", 2004: "01-22", 2005: "02-09", 2006: "01-29", 2007: "02-17",
    2008: "02-07", 2009: "01-26", 2010: "02-14", 2011: "02-03", 2012: "01-23",
    2013: "02-10", 2014: "01-31", 2015: "02-19", 2016: "02-08", 2017: "01-28",
    2018: "02-16", 2019: "02-05", 2020: "01-25", 2021: "02-12", 2022: "02-01",
    2023: "01-22", 2024: "02-10", 2025: "01-29", 2026: "02-17", 2027: "02-06",
    2028: "01-26", 2029: "02-13", 2030: "02-02",
}  # fmt: skip
# Where China (UTC+8) has Tết on another day: the time zone is what makes them differ.
CHINA_TET = {1968: "01-30", 1969: "02-17", 1985: "02-20", 2007: "02-18", 2030: "02-03"}

FESTIVALS_2026_2027 = {
    "Tết Nguyên Đán": ("2026-02-17", "2027-02-06"),
    "Rằm tháng Giêng": ("2026-03-03", "2027-02-20"),
    "Tết Hàn thực": ("2026-04-19", "2027-04-09"),
    "Giỗ Tổ Hùng Vương": ("2026-04-26", "2027-04-16"),
    "Lễ Phật Đản": ("2026-05-31", "2027-05-20"),
    "Tết Đoan Ngọ": ("2026-06-19", "2027-06-09"),
    "Lễ Vu Lan": ("2026-08-27", "2027-08-16"),
    "Tết Trung thu": ("2026-09-25", "2027-09-15"),
    "Ông Công ông Táo": ("2027-01-30", "2028-01-19"),
    "Giao thừa": ("2027-02-05", "2028-01-25"),
}


@pytest.mark.parametrize("year", sorted(TET))
def test_tet_is_vietnams_published_date(year: int) -> None:
    tet = dt.date.fromisoformat(f"{year}-{TET[year]}")
    assert to_solar(1, 1, year) == tet
    assert to_lunar(tet) == LunarDate(1, 1, year, False)
    assert to_lunar(tet - dt.timedelta(days=1)).year == year - 1


@pytest.mark.parametrize("year", sorted(CHINA_TET))
def test_vietnam_and_china_differ_by_time_zone(year: int) -> None:
    china = dt.date.fromisoformat(f"{year}-{CHINA_TET[year]}")
    assert lunar_to_solar(LunarDate(1, 1, year), time_zone=8.0) == china
    assert to_solar(1, 1, year) != china


def test_festival_dates_2026_and_2027() -> None:
    found: dict[str, list[str]] = {fest.vi: [] for _, fest in festival_dates(2026)}
    for year in (2026, 2027):
        for day, fest in festival_dates(year):
            found[fest.vi].append(day.isoformat())
    assert {k: tuple(v) for k, v in found.items()} == FESTIVALS_2026_2027


def test_festivals_between_spans_a_lunar_new_year() -> None:
    got = festivals_between(dt.date(2027, 1, 25), dt.date(2027, 2, 10))
    assert [(d.isoformat(), f.vi) for d, f in got] == [
        ("2027-01-30", "Ông Công ông Táo"),
        ("2027-02-05", "Giao thừa"),
        ("2027-02-06", "Tết Nguyên Đán"),
    ]


def test_leap_months() -> None:
    assert leap_month(2023) == 2 and leap_month(2025) == 6
    assert leap_month(2024) is None and leap_month(2026) is None
    assert len(months_of(2023)) == 13 and len(months_of(2024)) == 12
    assert to_solar(1, 2, 2023) == dt.date(2023, 2, 20)
    assert to_solar(1, 2, 2023, leap=True) == dt.date(2023, 3, 22)
    assert to_solar(1, 6, 2025, leap=True) == dt.date(2025, 7, 25)
    assert to_lunar(dt.date(2025, 8, 1)) == LunarDate(8, 6, 2025, True)
    assert [(m.month, m.leap) for m in months_of(2025)][5:8] == [(6, False), (6, True), (7, False)]
    with pytest.raises(ValueError):
        to_solar(1, 3, 2023, leap=True)  # 2023's leap month is the 2nd
    with pytest.raises(ValueError):
        to_solar(1, 2, 2024, leap=True)  # 2024 has none


def test_month_lengths_and_day_30() -> None:
    for year in range(2020, 2031):
        months = months_of(year)
        assert all(m.length in (29, 30) for m in months)
        for a, b in itertools.pairwise(months):
            assert a.start + dt.timedelta(days=a.length) == b.start
        short = next(m for m in months if m.length == 29)
        assert short.day(30) == short.day(29)
        with pytest.raises(ValueError):
            to_solar(30, short.month, year, short.leap)
    assert month_of(dt.date(2026, 2, 16)).length == 29  # Ất Tỵ's last month: no 30 Tết
    assert sum(m.length for m in months_of(2023)) == 384


def test_can_chi() -> None:
    assert can_chi_of(dt.date(2024, 2, 10)) == {
        "day": "Giáp Thìn",
        "month": "Bính Dần",
        "year": "Giáp Thìn",
    }
    assert can_chi_of(dt.date(2000, 1, 1))["day"] == "Mậu Ngọ"
    assert can_chi_of(dt.date(2026, 2, 17))["year"] == "Bính Ngọ"
    assert can_chi_of(dt.date(2026, 2, 16))["year"] == "Ất Tỵ"  # lunar year, not solar
    assert can_chi_of(dt.date(2023, 3, 25))["month"] == can_chi_of(dt.date(2023, 3, 1))["month"]


def test_parse_lunar() -> None:
    assert parse_lunar("15/8/2026") == dt.date(2026, 9, 25)
    assert parse_lunar("1/2/2023L") == dt.date(2023, 3, 22)
    for bad in ("15/13/2026", "32/1/2026", "1/3/2023L", "hôm nay", "1/1/1800"):
        with pytest.raises(ValueError):
            parse_lunar(bad)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_hearth_lich_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["lich", "2023-03-22", "--json"], capsys)
    assert code == 0
    assert json.loads(out) == {
        "solar": "2023-03-22",
        "lunar": {"day": 1, "month": 2, "year": 2023, "leap": True},
        "can_chi": can_chi_of(dt.date(2023, 3, 22)),
    }
    assert json.loads(out) == day_info(dt.date(2023, 3, 22))


def test_hearth_lich_lunar_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["lich", "--lunar", "1/2/2023L", "--json"], capsys)
    assert code == 0 and json.loads(out)["solar"] == "2023-03-22"
    code, out, _ = run(["lich", "--lunar", "15/8/2026"], capsys)
    assert code == 0
    assert "2026-09-25" in out and "15/8/2026" in out and "Tết Trung thu" in out
    code, out, _ = run(["lich", "--json"], capsys)
    assert code == 0 and set(json.loads(out)) == {"solar", "lunar", "can_chi"}


@pytest.mark.parametrize(
    "argv",
    [
        ["lich", "2026-02-30"],
        ["lich", "hôm qua"],
        ["lich", "--lunar", "1/3/2023L"],
        ["lich", "--lunar", "x"],
        ["lich", "2026-01-01", "--lunar", "1/1/2026"],
    ],
)
def test_hearth_lich_bad_input_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert err.startswith("hearth: ") and len(err.strip().splitlines()) == 1
