"""`hearth lich`: one day in both calendars (Vietnam's lunar calendar), for scripts."""

from __future__ import annotations

import argparse
import datetime as dt
from zoneinfo import ZoneInfo

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def pick_day(args: argparse.Namespace) -> dt.date:
    """The solar day asked for: a date, a lunar date, or today in Vietnam."""
    from bot.calendar.lunar import parse_lunar
    from bot.cli import CliUsageError

    if args.date and args.lunar:
        raise CliUsageError("give a solar date or --lunar D/M/YYYY[L], not both")
    try:
        if args.lunar:
            return parse_lunar(args.lunar)
        if args.date:
            return dt.date.fromisoformat(args.date)
    except ValueError as exc:
        raise CliUsageError(f"bad date: {exc}") from None
    return dt.datetime.now(VIETNAM).date()


def render_day(info: dict[str, object], festival: str | None) -> str:
    """The human form: solar, lunar with can chi, and the festival of the day if any."""
    day = dt.date.fromisoformat(str(info["solar"]))
    lunar: dict[str, object] = info["lunar"]  # type: ignore[assignment]
    names: dict[str, str] = info["can_chi"]  # type: ignore[assignment]
    leap = " (nhuận / leap)" if lunar["leap"] else ""
    lines = [
        f"Dương lịch / solar: {day.isoformat()} ({WEEKDAYS_VI[day.weekday()]} / {day:%A})",
        f"Âm lịch / lunar:    {lunar['day']}/{lunar['month']}/{lunar['year']}{leap}",
        f"Can chi:            ngày {names['day']}, tháng {names['month']}, năm {names['year']}",
    ]
    if festival:
        lines.append(f"Lễ / festival:      {festival}")
    return "\n".join(lines)


def _lich(args: argparse.Namespace) -> int:
    from bot.calendar.festivals import festivals_between
    from bot.calendar.lunar import day_info
    from bot.cli import CliUsageError, print_json

    day = pick_day(args)
    try:
        info = day_info(day)
    except ValueError as exc:
        raise CliUsageError(f"bad date: {exc}") from None
    if args.json:
        print_json(info)
        return 0
    names = [f"{fest.vi} / {fest.en}" for _, fest in festivals_between(day, day)]
    print(render_day(info, "; ".join(names) or None))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """`hearth lich [YYYY-MM-DD] [--json]` and `hearth lich --lunar D/M/YYYY[L]`."""
    lich = sub.add_parser("lich", help="a day in the solar and the Vietnamese lunar calendar")
    lich.add_argument("date", nargs="?", help="solar date YYYY-MM-DD (default: today in Vietnam)")
    lich.add_argument("--lunar", metavar="D/M/YYYY[L]", help="a lunar date; L marks a leap month")
    lich.add_argument("--json", action="store_true", help="print one JSON document")
    lich.set_defaults(func=_lich)
