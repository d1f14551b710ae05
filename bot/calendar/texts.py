"""How the calendar speaks: rules, event lines and reminders, in Vietnamese and English."""

from __future__ import annotations

import datetime as dt

from bot.calendar.lunar import to_lunar
from bot.calendar.rules import Rule
from bot.core.i18n import tr

WEEKDAYS_VI = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def day_text(day: dt.date, lang: str) -> str:
    """`thứ Bảy 25/09/2026` / `Saturday 25 Sep 2026`."""
    if lang == "vi":
        return f"{WEEKDAYS_VI[day.weekday()]} {day:%d/%m/%Y}"
    return f"{WEEKDAYS_EN[day.weekday()]} {day.day} {day:%b %Y}"


def lunar_day_text(day: dt.date, lang: str) -> str:
    """The lunar date of a solar day: `15/8 âm` / `lunar 15/8` (leap marked)."""
    lunar = to_lunar(day)
    leap = tr(lang, " nhuận", " leap") if lunar.leap else ""
    return tr(lang, "{d}/{m}{l} âm", "lunar {d}/{m}{l}", d=lunar.day, m=lunar.month, l=leap)


def _join(numbers: tuple[int, ...], lang: str) -> str:
    words = [str(n) for n in numbers]
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + tr(lang, " và ", " and ") + words[-1]


def describe_rule(rule: Rule, at: dt.time, lang: str) -> str:
    """The rule as a person would say it, with the time."""
    hm = f"{at:%H:%M}"
    if rule.kind == "once":
        assert rule.date is not None
        return tr(lang, "{d} lúc {t}", "{d} at {t}", d=day_text(rule.date, lang), t=hm)
    if rule.kind == "daily":
        return tr(lang, "hằng ngày lúc {t}", "every day at {t}", t=hm)
    if rule.kind == "weekly":
        assert rule.weekday is not None
        return tr(
            lang,
            "{w} hằng tuần lúc {t}",
            "every {w} at {t}",
            w=tr(lang, WEEKDAYS_VI[rule.weekday], WEEKDAYS_EN[rule.weekday]),
            t=hm,
        )
    if rule.kind == "monthly":
        return tr(
            lang,
            "ngày {d} hằng tháng lúc {t}",
            "day {d} of every month at {t}",
            d=_join(rule.days, lang),
            t=hm,
        )
    if rule.kind == "monthly_lunar":
        if rule.days == (1, 15):
            return tr(
                lang,
                "mùng một và rằm hằng tháng (âm lịch) lúc {t}",
                "every new moon and full moon (lunar 1 and 15) at {t}",
                t=hm,
            )
        return tr(
            lang,
            "ngày {d} âm lịch hằng tháng lúc {t}",
            "lunar day {d} of every month at {t}",
            d=_join(rule.days, lang),
            t=hm,
        )
    leap = tr(lang, " (tháng nhuận)", " (leap month)") if rule.leap else ""
    if rule.kind == "yearly":
        return tr(
            lang,
            "ngày {d}/{m} hằng năm lúc {t}",
            "every year on {d}/{m} at {t}",
            d=rule.day,
            m=rule.month,
            t=hm,
        )
    return tr(
        lang,
        "ngày {d}/{m}{l} âm lịch hằng năm lúc {t}",
        "every year on lunar {d}/{m}{l} at {t}",
        d=rule.day,
        m=rule.month,
        l=leap,
        t=hm,
    )


def describe_leads(leads: tuple[int, ...], lang: str) -> str:
    """`nhắc trước 7 và 1 ngày` / `reminders 7 and 1 days ahead`; empty for on-the-day only."""
    ahead = tuple(n for n in leads if n > 0)
    if not ahead:
        return ""
    on_day = tr(lang, " và đúng ngày", " and on the day") if 0 in leads else ""
    return tr(
        lang,
        "nhắc trước {n} ngày{o}",
        "reminders {n} days ahead{o}",
        n=_join(ahead, lang),
        o=on_day,
    )


def announcement(
    *,
    kind: str,
    title: str,
    member_name: str,
    scope: str,
    lead: int,
    occurs_on: dt.date,
    lang: str,
    late: bool,
) -> str:
    """The reminder a family receives; a late one says so."""
    when = f"{day_text(occurs_on, lang)} ({lunar_day_text(occurs_on, lang)})"
    if kind == "gio":
        if lead == 0:
            text = tr(
                lang,
                "🕯️ Hôm nay là ngày giỗ {t} — {w}.",
                "🕯️ Today is the giỗ (death anniversary) of {t} — {w}.",
                t=title,
                w=when,
            )
        else:
            text = tr(
                lang,
                "🕯️ Còn {n} ngày nữa là giỗ {t}: {w}.",
                "🕯️ In {n} days: the giỗ (death anniversary) of {t}, {w}.",
                n=lead,
                t=title,
                w=when,
            )
    elif lead > 0:
        text = tr(
            lang,
            "📅 Còn {n} ngày nữa: {t} — {w}.",
            "📅 In {n} days: {t} — {w}.",
            n=lead,
            t=title,
            w=when,
        )
    else:
        if scope == "family":
            text = tr(lang, "⏰ Nhắc cả nhà: {t}", "⏰ Reminder for everyone: {t}", t=title)
        elif member_name:
            text = tr(lang, "⏰ Nhắc {p}: {t}", "⏰ Reminder for {p}: {t}", p=member_name, t=title)
        else:
            text = tr(lang, "⏰ Nhắc: {t}", "⏰ Reminder: {t}", t=title)
    if late:
        text += tr(
            lang,
            "\n(Nhắc trễ: lúc đó mình không gửi được.)",
            "\n(Late: I could not send this on time.)",
        )
    return text
