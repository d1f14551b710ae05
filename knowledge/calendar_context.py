"""What the context knows of the date: today in both calendars and the family's coming events.

Plain data (Today) that the chat handler reads from the calendar and the rewriter turns
into a few lines of the prompt, a search hint and, without a model, answers to "what is
the lunar date", "what is on next week" and "when is grandpa's giỗ". Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from bot.calendar.festivals import festivals_between
from bot.calendar.lunar import can_chi_of, to_lunar
from bot.calendar.texts import day_text, lunar_day_text
from bot.core.i18n import tr
from knowledge.guard import fenced, looks_like_injection
from knowledge.normalize import fold

WEEK_DAYS = 7
VEGETARIAN_HINT = "chay"
GIO_HINT = "giỗ"
TERMS = {"gio": ("giỗ", "death anniversary"), "event": ("sự kiện", "event")}


@dataclass(frozen=True, slots=True)
class DayEvent:
    """One day of a family event or a festival; the title is as the family wrote it."""

    date: dt.date
    lunar: str  # "10/3", "10/3L" in a leap month
    kind: str  # gio | event | reminder | festival
    title: str
    title_en: str = ""  # a festival's English name

    def name(self, lang: str) -> str:
        """The title as a person reads it: "Giỗ Ông nội", a festival in their language."""
        if self.kind == "festival":
            return self.title_en if lang == "en" and self.title_en else self.title
        return ("Giỗ " if self.kind == "gio" else "") + self.title


@dataclass(frozen=True, slots=True)
class Today:
    """Today in the family's time zone, its lunar date (Vietnam's), and what is coming."""

    solar: dt.date
    lunar_day: int
    lunar_month: int
    lunar_year: int
    leap: bool
    can_chi: dict[str, str] = field(hash=False)
    events: tuple[DayEvent, ...] = ()  # each family event's next day, soonest first
    festivals: tuple[DayEvent, ...] = ()  # the festivals of the coming week

    @property
    def lunar_text(self) -> str:
        """`15/8/2026`, with `L` after a leap month."""
        return f"{self.lunar_day}/{self.lunar_month}/{self.lunar_year}" + ("L" if self.leap else "")

    @property
    def fasting_day(self) -> str | None:
        """Rằm or mùng một: the days many families eat vegetarian."""
        return {15: "rằm", 1: "mùng một"}.get(self.lunar_day)

    def coming(self, days: int = WEEK_DAYS) -> list[DayEvent]:
        """Family events and festivals from today to `days` ahead, soonest first."""
        last = self.solar + dt.timedelta(days=days)
        found = [e for e in (*self.events, *self.festivals) if self.solar <= e.date <= last]
        return sorted(found, key=lambda e: (e.date, e.kind == "festival"))


def today_of(day: dt.date, events: tuple[DayEvent, ...] = ()) -> Today:
    """Today for the context, with the festivals of the coming week added."""
    lunar = to_lunar(day)
    festivals = tuple(
        DayEvent(when, lunar_short(when), "festival", fest.vi, fest.en)
        for when, fest in festivals_between(day, day + dt.timedelta(days=WEEK_DAYS))
    )
    return Today(
        day, lunar.day, lunar.month, lunar.year, lunar.leap, can_chi_of(day), events, festivals
    )


def lunar_short(day: dt.date) -> str:
    """`10/3`, `10/3L` in a leap month: a lunar day and month, as the prompt shows them."""
    lunar = to_lunar(day)
    return f"{lunar.day}/{lunar.month}" + ("L" if lunar.leap else "")


def prompt_lines(today: Today, strict: bool) -> tuple[list[str], bool]:
    """The prompt's TODAY blocks and whether an event title looks like instructions. Family
    events are family-written: fenced like every source (left out when privacy is strict)."""
    cc = today.can_chi
    line = (
        f"- Today is {today.solar:%A} {today.solar.isoformat()} in the family's time zone;"
        f" lunar date (Vietnam) {today.lunar_text}{' (leap month)' if today.leap else ''},"
        f" day {cc['day']}, month {cc['month']}, year {cc['year']}."
    )
    if today.fasting_day:
        line += f" It is {today.fasting_day} (lunar {today.lunar_day}): many families eat chay."
    blocks = [line]
    shown = [e for e in today.coming() if not (strict and e.kind != "festival")]
    if not shown:
        return blocks, False
    rows = [
        f"- {e.date.isoformat()} (lunar {e.lunar}), {_away(e.date, today.solar)}: {e.name('vi')}"
        + (f" [{TERMS[e.kind][1]}]" if e.kind in TERMS else "")
        for e in shown
    ]
    flagged = any(looks_like_injection(e.title) for e in shown if e.kind != "festival")
    blocks.append(fenced(f"family calendar: the next {WEEK_DAYS} days", "\n".join(rows), flagged))
    return blocks, flagged


def _away(day: dt.date, today: dt.date) -> str:
    n = (day - today).days
    return "today" if n == 0 else "tomorrow" if n == 1 else f"in {n} days"


def record_of(today: Today) -> dict[str, object]:
    """What /why shows of the date the prompt carried."""
    return {
        "solar": today.solar.isoformat(),
        "lunar": today.lunar_text,
        "can_chi": dict(today.can_chi),
        "events": [
            {"date": e.date.isoformat(), "kind": e.kind, "title": e.title} for e in today.coming()
        ],
    }


# --- what the question asks of the calendar ---------------------------------------------

_COOK_RE = re.compile(r"\b(nau|an|lam mon|cook|eat|dinner|lunch|menu)\b")
_LUNAR_RE = re.compile(r"\b(am lich|ngay am|bao nhieu am|may am|lunar|can chi)\b")
_WEEK_RE = re.compile(r"\b(tuan (sau|toi|nay)|sap toi|next week|this week|coming (up|days))\b")
_WHAT_ON_RE = re.compile(r"\b(co gi|co viec gi|co su kien|lich|what|anything|events?|plans?)\b")
_WHEN_RE = re.compile(r"\b(ngay nao|khi nao|bao gio|hom nao|thang may|when|what date|which day)\b")


def _folded(question: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", fold(question)))


def asks_gio(question: str) -> bool:
    """The question is about a giỗ ("giỗ" with its tone: "giờ" is an hour)."""
    lowered = question.lower()
    return "giỗ" in lowered or "death anniversary" in lowered or "memorial" in lowered


def named_events(question: str, today: Today) -> list[DayEvent]:
    """The family's giỗ the question names ("giỗ ông" → Ông nội, Ông ngoại)."""
    words = set(_folded(question).split())
    found = []
    for event in today.events:
        title = _folded(event.title).split()
        if event.kind == "gio" and title and (title[0] in words or set(title) <= words):
            found.append(event)
    return found


def search_hint(question: str, today: Today | None) -> str:
    """Words search and selection add to the question because of the date: on rằm or mùng
    một a "what to cook" question looks for vegetarian dishes; a giỗ question for that giỗ."""
    if today is None:
        return ""
    folded = _folded(question)
    if asks_gio(question):
        titles = [e.title for e in named_events(question, today)]
        return " ".join(f"{GIO_HINT} {t}" for t in titles[:2])
    if today.fasting_day and _COOK_RE.search(folded) and "chay" not in folded:
        return VEGETARIAN_HINT
    return ""


def calendar_answer(question: str, today: Today | None, lang: str) -> str | None:
    """The answer without a model to a question about dates, or None when it asks
    something else: today in both calendars, the coming week, the next day of a giỗ."""
    if today is None:
        return None
    folded = _folded(question)
    if asks_gio(question) and _WHEN_RE.search(folded):
        return _gio_dates(question, today, lang)
    if _WEEK_RE.search(folded) and _WHAT_ON_RE.search(folded):
        return _week(today, lang)
    if _LUNAR_RE.search(folded):
        return _day(today, lang)
    return None


def _line(event: DayEvent, lang: str) -> str:
    return f"• {day_text(event.date, lang)} ({lunar_day_text(event.date, lang)}) {event.name(lang)}"


def _day(today: Today, lang: str) -> str:
    cc = today.can_chi
    lines = [
        tr(
            lang,
            "📅 Hôm nay là {d}, tức ngày {l} — ngày {cd}, tháng {cm}, năm {cy}.",
            "📅 Today is {d}, {l} — day {cd}, month {cm}, year {cy}.",
            d=day_text(today.solar, lang),
            l=lunar_day_text(today.solar, lang) + tr(lang, f" năm {today.lunar_year}", ""),
            cd=cc["day"],
            cm=cc["month"],
            cy=cc["year"],
        )
    ]
    if today.fasting_day:
        lines.append(
            tr(
                lang,
                "Hôm nay là {f}: nhiều nhà ăn chay, thắp hương.",
                "It is {f} (lunar {n}): many families eat vegetarian and light incense.",
                f=today.fasting_day,
                n=today.lunar_day,
            )
        )
    lines += [_line(e, lang) for e in today.coming(0)]
    return "\n".join(lines)


def _week(today: Today, lang: str) -> str:
    coming = today.coming()
    if not coming:
        return tr(
            lang,
            "📅 7 ngày tới nhà mình chưa có ngày giỗ, sự kiện hay lễ nào. Thêm: /gio Ông nội 10/3 âm",
            "📅 Nothing in the next 7 days: no giỗ, family event or festival."
            " Add one: /gio Grandpa 10/3 lunar",
        )
    head = tr(lang, "📅 7 ngày tới của nhà mình:", "📅 Your family's next 7 days:")
    return "\n".join([head, *(_line(e, lang) for e in coming)])


def _gio_dates(question: str, today: Today, lang: str) -> str:
    named = named_events(question, today) or [e for e in today.events if e.kind == "gio"]
    if not named:
        return tr(
            lang,
            "Nhà mình chưa lưu ngày giỗ nào. Thêm: /gio Ông nội 10/3 âm",
            "Your family has no giỗ saved yet. Add one: /gio Grandpa 10/3 lunar",
        )
    head = tr(lang, "🕯️ Ngày giỗ sắp tới:", "🕯️ The next giỗ:")
    return "\n".join([head, *(_line(e, lang) for e in named)])
