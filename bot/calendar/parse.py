"""Reminder and giỗ forms in Vietnamese and English, read without a model.

  /gio Ông nội 10/3 âm                     yearly lunar (a giỗ is lunar unless «dương»)
  /nhac 8:00 hằng ngày uống thuốc huyết áp  daily
  /remind tomorrow 19:00 call grandma       once
  /nhac 15/8 âm hằng năm Trung thu          yearly lunar
  /nhac rằm và mùng một hằng tháng thắp hương   monthly lunar, days 15 and 1
  /remind every monday 7:30 take out the bins   weekly

The text is folded (no diacritics, lower case) one character for one, so a span found in
the folded text is the same span of the original: what no pattern claims is the title.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from bot.calendar.lunar import to_solar
from bot.calendar.rules import Rule
from bot.core.errors import UsageError

DEFAULT_AT = dt.time(8, 0)
GIO_LEADS = (7, 1)
MAX_LEAD_DAYS = 60

EN_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS = {
    "thu hai": 0, "thu 2": 0, "thu ba": 1, "thu 3": 1, "thu tu": 2, "thu 4": 2,
    "thu nam": 3, "thu 5": 3, "thu sau": 4, "thu 6": 4, "thu bay": 5, "thu 7": 5,
    "chu nhat": 6, "cn": 6, **{name: n for n, name in enumerate(EN_WEEKDAYS)},
}  # fmt: skip
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_EN_WEEKDAY = "|".join(EN_WEEKDAYS)
_NUMS = r"\d{1,2}(?:\s*(?:,|va|and|&)\s*\d{1,2})*"

LEADS_RE = re.compile(
    rf"(?:\b(?:nhac\s+)?truoc\s+(?P<a>{_NUMS})\s*ngay\b(?:\s+truoc\b)?"
    rf"|\b(?:nhac\s+)?(?P<b>{_NUMS})\s*ngay\s+truoc\b"
    rf"|\b(?:remind\s+(?:me\s+)?)?(?P<c>{_NUMS})\s*days?\s+(?:before|ahead)\b)"
)
FAMILY_RE = re.compile(r"^\s*(?:ca nha|gia dinh|family|everyone)\b[\s:,-]*")
TIME_RE = re.compile(
    r"(?<![\d/:.-])(?:\b(?:luc|at|vao luc)\s+)?(?P<h>\d{1,2})"
    r"(?:\s*:\s*(?P<m>\d{2})|\s*(?:gio|h|g)(?:\s*(?P<m2>\d{2}))?(?![a-z\d])|(?=\s*(?:am|pm)\b))"
    r"(?![\d/])(?:\s*phut\b)?(?:\s*(?P<part>sang|trua|chieu|toi|dem|am|pm)\b)?"
)
IN_RE = re.compile(
    r"\b(?:in\s+(?P<en>\d{1,4})\s*(?P<enu>minutes?|mins?|hours?|hrs?)"
    r"|(?:sau\s+)?(?P<vi>\d{1,4})\s*(?P<viu>phut|tieng|gio)\s+nua)\b"
)
ISO_RE = re.compile(r"\b(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})\b")
DATE_RE = re.compile(
    r"(?:\b(?:ngay|mung|on)\s+)?\b(?P<d>\d{1,2})\s*/\s*(?P<mo>\d{1,2})(?:\s*/\s*(?P<y>\d{4}))?"
    r"(?P<lf>[ln])?\b(?P<leap>\s*(?:nhuan|leap)\b)?"
    r"(?P<cal>\s*\(?(?:am lich|am|al|lunar|duong lich|duong|dl|solar)\b\)?)?"
)
RELATIVE = (
    (re.compile(r"\b(?:ngay kia|ngay mot|day after tomorrow)\b"), 2),
    (re.compile(r"\b(?:ngay mai|tomorrow)\b|^\s*mai\b"), 1),
    (re.compile(r"\b(?:hom nay|today|tonight|toi nay)\b"), 0),
)
DAILY_RE = re.compile(r"\b(?:hang ngay|moi ngay|hang hom|every ?day|daily|each day)\b")
WEEKLY_RE = re.compile(
    rf"\b(?:(?:moi|every|each)\s+(?P<a>{_WEEKDAY})|(?P<b>{_WEEKDAY})(?:\s+(?:hang|moi)\s+tuan)"
    rf"|(?:on\s+)?(?P<c>{_WEEKDAY})s?(?:\s+weekly)|(?:hang tuan|weekly)\s+(?:vao\s+|on\s+)?"
    rf"(?P<d>{_WEEKDAY})|(?:on\s+)?(?P<e>{_EN_WEEKDAY})s)\b"
)
WEEKDAY_RE = re.compile(rf"\b(?:(?:vao|on|next)\s+)?(?P<w>{_WEEKDAY})\b")
MONTHLY_RE = re.compile(r"\b(?:hang thang|moi thang|every month|monthly|each month)\b")
YEARLY_RE = re.compile(r"\b(?:hang nam|moi nam|every year|yearly|annually|each year)\b")
LUNAR_DAYS_RE = re.compile(
    r"\b(?:(?:ngay\s+)?(?:ram|mung mot|mung 1|full moon|new moon)"
    r"(?:\s*(?:,|va|and|&)\s*(?:ngay\s+)?(?:ram|mung mot|mung 1|full moon|new moon))*)\b"
)
MONTH_DAYS_RE = re.compile(
    rf"(?:\b(?:ngay|mung|on the|on)\s+(?P<n>{_NUMS})(?:st|nd|rd|th)?"
    rf"|\b(?P<o>\d{{1,2}})(?:st|nd|rd|th))\b(?P<cal>\s*(?:am lich|am|al|lunar)\b)?"
)
LUNAR_WORD_RE = re.compile(r"\b(?:am lich|lunar)\b")
FILLER_RE = re.compile(
    r"^(?:\s|[,;:.\-–—]|\b(?:luc|vao|at|on|to|nhac|remind me to|remind me|remind|de|la)\b)+"
    r"|(?:\s|[,;:.\-–—]|\b(?:luc|vao|at|on|nhe|nha|and|va)\b)+$"
)


@dataclass(frozen=True, slots=True)
class Draft:
    """What a form says: when, at what time, what, how far ahead, for whom."""

    rule: Rule
    at: dt.time
    title: str
    leads: tuple[int, ...]
    family_wide: bool = False


def fold(text: str) -> str:
    """Lower case without diacritics, one character for one (đ → d)."""
    out = []
    for ch in text.lower():
        base = unicodedata.normalize("NFD", ch)[0]
        out.append("d" if base == "đ" else base)
    return "".join(out)


class _Text:
    """The folded text with the spans patterns have claimed blanked out of both copies."""

    def __init__(self, text: str) -> None:
        self.original = list(text)
        self.folded = fold(text)

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        match = pattern.search(self.folded)
        if match is not None and match.group(0).strip():
            start, end = match.span()
            self.folded = self.folded[:start] + " " * (end - start) + self.folded[end:]
            self.original[start:end] = [" "] * (end - start)
            return match
        return None

    def rest(self) -> str:
        title = " ".join("".join(self.original).split())
        folded = " ".join(self.folded.split())
        for _ in range(3):  # fillers around the title ("lúc", "to", trailing "nhé")
            match = FILLER_RE.search(fold(title))
            if match is None:
                break
            title = (title[: match.start()] + title[match.end() :]).strip()
        return title if folded else ""


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text))


def _time(match: re.Match[str] | None) -> dt.time | None:
    if match is None:
        return None
    hour, minute, part = int(match["h"]), int(match["m"] or match["m2"] or 0), match["part"]
    evening = part in ("chieu", "toi", "pm") or (part == "dem" and hour >= 6)
    if evening and hour < 12:
        hour += 12
    elif part == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise not_understood("time")
    return dt.time(hour, minute)


def not_understood(what: str = "form", gio: bool = False) -> UsageError:
    """The polite refusal with forms to copy (what: form | time | date | title | past)."""
    vi, en = {
        "form": ("Mình chưa hiểu lời nhắc này.", "I didn't understand that reminder."),
        "time": ("Giờ không hợp lệ.", "That time is not valid."),
        "date": ("Ngày không hợp lệ.", "That date is not valid."),
        "title": ("Thiếu nội dung cần nhắc.", "What should I remind you of?"),
        "past": ("Thời điểm đó đã qua rồi.", "That time has already passed."),
        "leads": (
            f"Số ngày nhắc trước phải từ 0 đến {MAX_LEAD_DAYS}.",
            f"Days ahead must be between 0 and {MAX_LEAD_DAYS}.",
        ),
    }[what]
    if gio:
        vi += " Ví dụ: /gio Ông nội 10/3 âm · /gio Bà ngoại 5/6 nhuận âm trước 3,1 ngày"
        en += " For example: /gio Grandpa 10/3 lunar · /gio Grandma 5/6 leap lunar 3,1 days before"
    else:
        vi += (
            " Ví dụ: /nhac 8:00 hằng ngày uống thuốc · /nhac mai 19:00 gọi bà"
            " · /nhac 15/8 âm hằng năm Trung thu · /nhac rằm và mùng một hằng tháng thắp hương"
        )
        en += (
            " For example: /remind every day 8:00 take pills · /remind tomorrow 19:00 call"
            " grandma · /remind every monday 7:30 bins · /remind 15/8 lunar every year Mid-autumn"
        )
    return UsageError(vi, en)


def _leads(text: _Text, gio: bool) -> tuple[int, ...] | None:
    match = text.take(LEADS_RE)
    if match is None:
        return None
    leads = tuple(sorted(set(_numbers(match["a"] or match["b"] or match["c"])), reverse=True))
    if any(n > MAX_LEAD_DAYS for n in leads):
        raise not_understood("leads", gio)
    return leads


def _lunar_date(day: int, month: int, leap: bool, today: dt.date) -> dt.date:
    """The next solar day (from today) of a lunar D/M."""
    rule = Rule("yearly_lunar", month=month, day=day, leap=leap)
    found = rule.on_or_after(today)
    assert found is not None
    return found


def parse_form(text: str, now: dt.datetime, *, gio: bool = False) -> Draft:
    """Read a /nhac (or, with gio=True, a /gio) form; `now` is in the family's time zone.

    Raises UsageError with examples when the form is not understood.
    """
    t = _Text(text)
    family_wide = t.take(FAMILY_RE) is not None
    leads = _leads(t, gio)
    today = now.date()
    relative = t.take(IN_RE)
    at = None if relative else _time(t.take(TIME_RE))
    date_match = t.take(ISO_RE) or t.take(DATE_RE)
    rule: Rule | None = None
    if relative is not None:
        amount = int(relative["en"] or relative["vi"])
        unit = relative["enu"] or relative["viu"]
        minutes = amount if unit.startswith(("min", "phut")) else amount * 60
        when = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=minutes)
        rule, at = Rule("once", date=when.date()), when.time()
    elif date_match is not None:
        rule = _dated_rule(t, date_match, today, gio)
    elif gio:
        raise not_understood("form", gio)
    else:
        rule = _recurring_rule(t, today, at)
        if rule is None:  # a bare time: today, or tomorrow once it has passed
            assert at is not None
            rule = Rule("once", date=today + dt.timedelta(days=int(at <= now.time())))
    title = t.rest()
    if not title:
        raise not_understood("title", gio)
    if at is None:
        at = DEFAULT_AT
    once_at = rule.date if rule.kind == "once" else None
    if once_at is not None and dt.datetime.combine(once_at, at, tzinfo=now.tzinfo) <= now:
        raise not_understood("past", gio)
    default = GIO_LEADS if gio else (0,)
    return Draft(rule, at, title, leads if leads is not None else default, family_wide)


def _dated_rule(t: _Text, match: re.Match[str], today: dt.date, gio: bool) -> Rule:
    day, month = int(match["d"]), int(match["mo"])
    year = int(match["y"]) if match["y"] else None
    cal = set(re.findall(r"[a-z]+", match["cal"] or ""))
    solar = bool(cal & {"duong", "dl", "solar"})
    lunar = bool(cal & {"am", "al", "lunar"}) or (gio and not solar)
    if not lunar and not solar:
        lunar = t.take(LUNAR_WORD_RE) is not None
    leap = bool(match["leap"] or match["lf"])
    if leap and not lunar:
        raise not_understood("date", gio)
    yearly = gio or t.take(YEARLY_RE) is not None
    if not 1 <= month <= 12 or not 1 <= day <= (30 if lunar else 31):
        raise not_understood("date", gio)
    if lunar:
        if yearly:
            return Rule("yearly_lunar", month=month, day=day, leap=leap)
        try:
            when = (
                to_solar(day, month, year, leap) if year else _lunar_date(day, month, leap, today)
            )
        except ValueError:
            raise not_understood("date", gio) from None
        return Rule("once", date=when)
    if yearly:
        return Rule("yearly", month=month, day=day)
    try:
        when = dt.date(year or today.year, month, day)
    except ValueError:
        raise not_understood("date", gio) from None
    if year is None and when < today:
        when = when.replace(year=today.year + 1)
    return Rule("once", date=when)


def _recurring_rule(t: _Text, today: dt.date, at: dt.time | None) -> Rule | None:
    if t.take(DAILY_RE):
        return Rule("daily")
    weekly = t.take(WEEKLY_RE)
    if weekly is not None:
        name = next(g for g in weekly.groups() if g)
        return Rule("weekly", weekday=WEEKDAYS[name])
    lunar_days = t.take(LUNAR_DAYS_RE)
    if lunar_days is not None:
        t.take(MONTHLY_RE)
        words = lunar_days.group(0)
        days = {15 for _ in re.finditer(r"ram|full moon", words)}
        days |= {1 for _ in re.finditer(r"mung mot|mung 1|new moon", words)}
        return Rule("monthly_lunar", days=tuple(sorted(days)))
    if t.take(MONTHLY_RE):
        numbers = t.take(MONTH_DAYS_RE)
        if numbers is None:
            raise not_understood("date")
        days_of = _numbers(numbers["n"] or numbers["o"])
        lunar = bool(numbers["cal"]) or t.take(LUNAR_WORD_RE) is not None
        if not days_of or not all(1 <= n <= (30 if lunar else 31) for n in days_of):
            raise not_understood("date")
        return Rule("monthly_lunar" if lunar else "monthly", days=tuple(sorted(set(days_of))))
    for pattern, offset in RELATIVE:
        if t.take(pattern):
            return Rule("once", date=today + dt.timedelta(days=offset))
    weekday = t.take(WEEKDAY_RE)
    if weekday is not None:
        ahead = (WEEKDAYS[weekday["w"]] - today.weekday()) % 7 or 7
        return Rule("once", date=today + dt.timedelta(days=ahead))
    if at is not None:
        return None
    raise not_understood("form")
