"""/lich (/calendar), /nhac (/remind) and /gio: the family calendar in the chat.

Anyone adds a personal reminder; family-wide events (a giỗ, `/nhac cả nhà …`) and their
changes are for the family's admins (in a private chat the person is the admin). A
personal reminder may also be changed by whoever created it.
"""

from __future__ import annotations

import datetime as dt
import re

from bot.calendar.events import Event
from bot.calendar.lunar import LAST_YEAR, can_chi_of, parse_lunar, to_lunar
from bot.calendar.parse import LEADS_RE, MAX_LEAD_DAYS, fold, not_understood, parse_form
from bot.calendar.service import Calendar
from bot.calendar.texts import day_text, describe_leads, describe_rule, lunar_day_text
from bot.core.errors import PermissionDenied, UsageError
from bot.core.types import Reply
from handlers.base import Ctx, Registry

LIST_WORDS = frozenset({"list", "ls", "ds", "danhsach", "xem", "all", "tatca"})
DELETE_WORDS = frozenset({"xoa", "delete", "del", "remove", "rm", "huy", "bo"})
EDIT_WORDS = frozenset({"sua", "edit", "doi", "change"})
ICONS = {"gio": "🕯️", "event": "📅", "reminder": "⏰"}
MISSED_DAYS = 14


def calendar_of(ctx: Ctx) -> Calendar:
    """The calendar built with the app (one for the process)."""
    calendar = ctx.services.calendar
    if calendar is None:
        raise UsageError("Lịch chưa được bật.", "The calendar is not available here.")
    assert isinstance(calendar, Calendar)
    return calendar


def event_line(event: Event, lang: str, next_day: dt.date | None) -> str:
    """`3. 🕯️ Ông nội — ngày 10/3 âm lịch hằng năm lúc 08:00 · nhắc trước 7 và 1 ngày · …`"""
    owner = f" ({event.member_name})" if event.scope == "personal" and event.member_name else ""
    title = (
        (("Giỗ " if lang == "vi" else "Giỗ of ") + event.title)
        if event.kind == "gio"
        else event.title
    )
    parts = [describe_rule(event.rule, event.at, lang)]
    leads = describe_leads(event.leads, lang)
    if leads:
        parts.append(leads)
    if next_day is not None:
        parts.append(
            ("lần tới: " if lang == "vi" else "next: ")
            + f"{day_text(next_day, lang)} ({lunar_day_text(next_day, lang)})"
        )
    return f"{event.no}. {ICONS.get(event.kind, '⏰')} {title}{owner} — " + " · ".join(parts)


def dated_line(day: dt.date, what: Event | str, lang: str) -> str:
    """`• thứ Sáu 25/09/2026 (15/8 âm) 🕯️ Giỗ Bà nội` — a day in both calendars and what."""
    if isinstance(what, Event):
        title = ("Giỗ " if what.kind == "gio" else "") + what.title
        what = f"{ICONS.get(what.kind, '⏰')} {title}"
    return f"• {day_text(day, lang)} ({lunar_day_text(day, lang)}) {what}"


def may_change(ctx: Ctx, event: Event) -> bool:
    """Admins change anything; a member their own personal reminders."""
    return ctx.is_admin or (event.scope == "personal" and event.member_id == ctx.member.id)


async def _today(ctx: Ctx) -> dt.date:
    return (await calendar_of(ctx).local_now(ctx.family.id)).date()


async def list_events(ctx: Ctx, kinds: tuple[str, ...] | None) -> Reply:
    """The family's events with their numbers (for edit and delete)."""
    calendar = calendar_of(ctx)
    events = await calendar.events.listed(ctx.family.id, kinds)
    if not events:
        if kinds == ("gio",):
            return Reply(
                ctx.t(
                    "Chưa có ngày giỗ nào. Thêm: /gio Ông nội 10/3 âm",
                    "No giỗ yet. Add one: /gio Grandpa 10/3 lunar",
                )
            )
        return Reply(
            ctx.t(
                "Chưa có lời nhắc nào. Thêm: /nhac 8:00 hằng ngày uống thuốc",
                "No reminders yet. Add one: /remind every day 8:00 take pills",
            )
        )
    next_days = await calendar.events.next_days(ctx.family.id)
    lines = [ctx.t("📋 Lịch của nhà mình:", "📋 Your family's calendar:")]
    for event in events:
        lines.append(event_line(event, ctx.lang, next_days.get(event.id)))
    cmd = "gio" if kinds == ("gio",) else "nhac"
    lines.append(
        ctx.t(
            "Sửa: /{c} sửa SỐ … · Xóa: /{c} xóa SỐ",
            "Change: /{c} edit NUMBER … · Delete: /{c} delete NUMBER",
            c=cmd,
        )
    )
    return Reply("\n".join(lines))


async def _numbered(ctx: Ctx, text: str, kinds: tuple[str, ...] | None) -> tuple[Event, str]:
    match = re.match(r"\s*#?(\d+)\b(.*)$", text, re.S)
    if match is None:
        raise UsageError(
            "Bạn ghi số thứ tự, ví dụ: /nhac xóa 2", "Give the number, e.g. /remind delete 2"
        )
    event = await calendar_of(ctx).events.get(ctx.family.id, int(match[1]))
    if event is None or (kinds is not None and event.kind not in kinds):
        raise UsageError(
            f"Không có mục số {match[1]}. Xem danh sách: /nhac list",
            f"There is no item {match[1]}. See the list: /remind list",
        )
    if not may_change(ctx, event):
        raise PermissionDenied(
            "Chỉ người tạo hoặc quản trị viên của gia đình mới sửa, xóa được mục này.",
            "Only whoever created it or the family's admins can change or delete this.",
        )
    return event, match[2].strip()


async def delete_event(ctx: Ctx, rest: str, kinds: tuple[str, ...] | None) -> Reply:
    """Retire an event by its number."""
    event, _ = await _numbered(ctx, rest, kinds)
    await calendar_of(ctx).events.remove(event)
    return Reply(ctx.t("Đã xóa: {t}", "Deleted: {t}", t=event.title))


async def edit_event(ctx: Ctx, rest: str, kinds: tuple[str, ...] | None) -> Reply:
    """A new form for an event by its number, or only its days ahead (`nhắc trước 3,1 ngày`)."""
    event, form = await _numbered(ctx, rest, kinds)
    gio = event.kind == "gio"
    calendar = calendar_of(ctx)
    leads = LEADS_RE.fullmatch(fold(form).strip())
    if leads is not None:
        days = tuple(sorted({int(n) for n in re.findall(r"\d+", leads.group(0))}, reverse=True))
        if any(n > MAX_LEAD_DAYS for n in days):
            raise not_understood("leads", gio)
        fresh = await calendar.events.set_leads(event, days)
    else:
        now = await calendar.local_now(ctx.family.id)
        draft = parse_form(form, now, gio=gio)
        fresh = await calendar.events.replace(event, draft)
    next_day = (await calendar.events.next_days(ctx.family.id)).get(fresh.id)
    return Reply(ctx.t("Đã sửa:\n", "Changed:\n") + event_line(fresh, ctx.lang, next_day))


async def add_event(ctx: Ctx, form: str, *, gio: bool) -> Reply:
    """Parse a form, check who may add it, store it, and say when it will come."""
    calendar = calendar_of(ctx)
    now = await calendar.local_now(ctx.family.id)
    draft = parse_form(form, now, gio=gio)
    family_wide = gio or draft.family_wide
    if family_wide and not ctx.is_admin:
        raise PermissionDenied(
            "Chỉ quản trị viên của gia đình mới thêm được ngày giỗ và việc chung của cả nhà."
            " Bạn vẫn thêm được lời nhắc riêng, ví dụ: /nhac mai 19:00 gọi bà",
            "Only the family's admins can add a giỗ or an event for the whole family."
            " You can still add a reminder of your own, e.g. /remind tomorrow 19:00 call grandma",
        )
    kind = "gio" if gio else ("event" if family_wide else "reminder")
    event = await calendar.events.add(
        ctx.family.id,
        ctx.member.id,
        ctx.member.display_name or ctx.incoming.user_name,
        draft,
        kind=kind,
        scope="family" if family_wide else "personal",
        lang=ctx.lang,
        thread_id=ctx.incoming.thread_id,
    )
    next_day = (await calendar.events.next_days(ctx.family.id)).get(event.id)
    lines = [ctx.t("✅ Đã lưu:", "✅ Saved:"), event_line(event, ctx.lang, next_day)]
    if next_day is None:
        lines.append(ctx.t("(Không còn lần nào sắp tới.)", "(Nothing left to remind.)"))
    return Reply("\n".join(lines))


async def _events_command(ctx: Ctx, *, gio: bool) -> Reply:
    kinds = ("gio",) if gio else None
    args = ctx.args.strip()
    head, _, rest = args.partition(" ")
    word = fold(head)
    if not args or word in LIST_WORDS:
        return await list_events(ctx, kinds)
    if word in DELETE_WORDS:
        return await delete_event(ctx, rest, kinds)
    if word in EDIT_WORDS:
        return await edit_event(ctx, rest, kinds)
    return await add_event(ctx, args, gio=gio)


async def remind_command(ctx: Ctx) -> Reply:
    """/nhac FORM adds a reminder; /nhac list, /nhac sửa N …, /nhac xóa N."""
    return await _events_command(ctx, gio=False)


async def gio_command(ctx: Ctx) -> Reply:
    """/gio NAME D/M âm adds a giỗ (admins); /gio alone lists them."""
    return await _events_command(ctx, gio=True)


def _pick_day(args: str, today: dt.date) -> dt.date | int:
    text = fold(args).strip()
    if re.fullmatch(r"\d{4}", text):
        return int(text)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    lunar = re.fullmatch(
        r"(\d{1,2}/\d{1,2}(?:/\d{4})?)\s*([ln]|nhuan|leap)?\s*(?:am|al|lunar|am lich)", text
    )
    if lunar is not None:
        parts = lunar[1] if lunar[1].count("/") == 2 else f"{lunar[1]}/{to_lunar(today).year}"
        return parse_lunar(parts + ("L" if lunar[2] else ""))
    raise UsageError(
        "Ví dụ: /lich · /lich 2027 · /lich 2026-09-25 · /lich 15/8 âm",
        "For example: /calendar · /calendar 2027 · /calendar 2026-09-25 · /calendar 15/8 lunar",
    )


async def calendar_command(ctx: Ctx) -> Reply:
    """Today in both calendars with the coming 30 days, a year's events, or one day."""
    calendar = calendar_of(ctx)
    today = await _today(ctx)
    try:
        picked = _pick_day(ctx.args, today) if ctx.args.strip() else today
        if isinstance(picked, int):
            if not 1901 <= picked <= LAST_YEAR:
                raise ValueError(picked)
            return await _year_view(ctx, calendar, picked)
        return await _day_view(ctx, calendar, picked, with_events=picked == today)
    except ValueError:
        raise UsageError(
            "Ngày không hợp lệ. Ví dụ: /lich 2027 · /lich 15/8 âm",
            "That date is not valid. For example: /calendar 2027 · /calendar 15/8 lunar",
        ) from None


async def _day_view(ctx: Ctx, calendar: Calendar, day: dt.date, *, with_events: bool) -> Reply:
    lunar = to_lunar(day)
    names = can_chi_of(day)
    leap = ctx.t(" (tháng nhuận)", " (leap month)") if lunar.leap else ""
    lines = [
        ctx.t("📅 Dương lịch: {d}", "📅 Solar: {d}", d=day_text(day, ctx.lang)),
        ctx.t(
            "🌙 Âm lịch: ngày {d} tháng {m}{l} năm {y}",
            "🌙 Lunar: day {d}, month {m}{l}, {y}",
            d=lunar.day,
            m=lunar.month,
            l=leap,
            y=lunar.year,
        ),
        ctx.t(
            "Ngày {a}, tháng {b}, năm {c}",
            "Can chi: day {a}, month {b}, year {c}",
            a=names["day"],
            b=names["month"],
            c=names["year"],
        ),
    ]
    if not with_events:
        return Reply("\n".join(lines))
    upcoming = await calendar.upcoming(ctx.family.id, day, 30)
    festivals = calendar.festivals(day, 30)
    if upcoming:
        lines.append("")
        lines.append(ctx.t("Việc của nhà mình (30 ngày tới):", "Your family (next 30 days):"))
        lines.extend(dated_line(item.day, item.event, ctx.lang) for item in upcoming)
    if festivals:
        lines.append("")
        lines.append(ctx.t("Lễ tết (30 ngày tới):", "Festivals (next 30 days):"))
        lines.extend(
            dated_line(fday, ctx.t(fest.vi, fest.en), ctx.lang) for fday, fest in festivals
        )
    since = calendar.clock.now() - dt.timedelta(days=MISSED_DAYS)
    missed = await calendar.events.missed(ctx.family.id, since)
    if missed:
        lines.append("")
        lines.append(
            ctx.t(
                "⚠️ Nhắc bị lỡ (lúc đó mình không gửi được):",
                "⚠️ Missed reminders (I could not send them then):",
            )
        )
        for row in missed:
            occurs = dt.date.fromisoformat(row["occurs_on"])
            lines.append(f"• {day_text(occurs, ctx.lang)} {row['title']}")
    return Reply("\n".join(lines))


async def _year_view(ctx: Ctx, calendar: Calendar, year: int) -> Reply:
    items = await calendar.year(ctx.family.id, year)
    if not items:
        return Reply(
            ctx.t(
                "Năm {y} nhà mình chưa có ngày giỗ hay sự kiện nào.",
                "No giỗ or family events in {y} yet.",
                y=year,
            )
        )
    lines = [ctx.t("📅 Năm {y} của nhà mình:", "📅 Your family's {y}:", y=year)]
    lines.extend(dated_line(item.day, item.event, ctx.lang) for item in items)
    return Reply("\n".join(lines))


def register(reg: Registry) -> None:
    """The calendar commands."""
    reg.add(
        "lich",
        calendar_command,
        help_vi="hôm nay âm lịch, can chi, việc nhà mình và lễ tết 30 ngày tới; /lich 2027",
        help_en="today in the lunar calendar, your family's events and festivals; /lich 2027",
        aliases=("calendar", "amlich"),
    )
    reg.add(
        "nhac",
        remind_command,
        help_vi="nhắc việc: /nhac 8:00 hằng ngày uống thuốc · /nhac list · /nhac xóa 2",
        help_en="reminders: /remind tomorrow 19:00 call grandma · /remind list · /remind delete 2",
        aliases=("remind", "nhacnho"),
    )
    reg.add(
        "gio",
        gio_command,
        help_vi="ngày giỗ: /gio Ông nội 10/3 âm (nhắc trước 7 và 1 ngày) · /gio xóa 1",
        help_en="death anniversaries: /gio Grandpa 10/3 lunar (7 and 1 days ahead) · /gio delete 1",
        aliases=("anniversary", "ngaygio"),
    )
