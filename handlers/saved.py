"""/saved: a member's 📌 answers, newest first, paged; opening one again is a return."""

from __future__ import annotations

from bot.core.errors import UsageError
from bot.core.types import Reply
from bot.report.usage import utcnow
from handlers.base import Ctx, Registry
from handlers.feedback import feedback_buttons

PER_PAGE = 5
OPEN_WORDS = frozenset({"open", "xem", "mo", "mở"})
OPEN_PREFIXES = ("xem_", "open_")


def _usage_error() -> UsageError:
    return UsageError(
        "Dùng: /saved [trang] — hoặc /xem_N để mở câu trả lời số N.",
        "Usage: /saved [page] — or /open_N to open answer N.",
    )


async def saved(ctx: Ctx) -> Reply:
    """`/saved [page]` lists; `/saved open N` opens one."""
    words = ctx.args.split()
    if len(words) == 2 and words[0].lower() in OPEN_WORDS:
        return await open_saved(ctx, _number(words[1]))
    if len(words) > 1:
        raise _usage_error()
    page = _number(words[0]) if words else 1
    usage = ctx.services.usage
    items, total = await usage.saved_page(ctx.family.id, ctx.member.id, page, PER_PAGE)
    if total == 0:
        return Reply(
            ctx.t(
                "Bạn chưa lưu câu trả lời nào. Bấm 📌 dưới một câu trả lời để lưu.",
                "You have not saved any answers yet. Press 📌 under an answer to save it.",
            )
        )
    pages = (total + PER_PAGE - 1) // PER_PAGE
    if not items:
        return Reply(ctx.t("Chỉ có {n} trang.", "There are only {n} pages.", n=pages))
    open_cmd = "xem_" if ctx.lang == "vi" else "open_"
    lines = [
        ctx.t(
            "📌 Câu trả lời đã lưu (trang {p}/{n}, {t} câu):",
            "📌 Your saved answers (page {p}/{n}, {t} in all):",
            p=page,
            n=pages,
            t=total,
        )
    ]
    for i, item in enumerate(items, (page - 1) * PER_PAGE + 1):
        question = " ".join(item.question.split())
        if len(question) > 70:
            question = question[:69] + "…"
        lines.append(f"{i}. {question} · {item.saved_at[:10]} · /{open_cmd}{item.answer_id}")
    if page < pages:
        lines.append(ctx.t("Trang sau: /saved {p}", "Next page: /saved {p}", p=page + 1))
    return Reply("\n".join(lines))


async def open_saved(ctx: Ctx, answer_id: int) -> Reply:
    """Show a saved answer again (with its buttons) and log the return, once a day."""
    usage = ctx.services.usage
    item = await usage.saved_item(ctx.family.id, ctx.member.id, answer_id)
    if item is None:
        return Reply(
            ctx.t(
                "Không thấy câu trả lời #{id} trong danh sách đã lưu của bạn. Xem /saved.",
                "Answer #{id} is not in your saved list. See /saved.",
                id=answer_id,
            )
        )
    day = utcnow().strftime("%Y-%m-%d")
    await usage.record_return(
        ctx.family.id,
        answer_id,
        ctx.member.id,
        "open_saved",
        dedup_key=f"open_saved:{answer_id}:{ctx.member.id}:{day}",
    )
    return Reply(
        f"📌 {item.question}\n\n{item.answer}",
        feedback_buttons(answer_id),
        answer_id=answer_id,
    )


async def open_command(ctx: Ctx) -> Reply:
    """`/xem_12` or `/open_12`: the short form shown in the /saved list."""
    return await open_saved(ctx, _number(ctx.args))


def _number(text: str) -> int:
    try:
        value = int(text.strip().lstrip("#"))
    except ValueError:
        raise _usage_error() from None
    if value < 1:
        raise _usage_error()
    return value


def register(reg: Registry) -> None:
    """/saved with its Vietnamese alias, and the short open commands."""
    reg.add(
        "saved",
        saved,
        help_vi="các câu trả lời bạn đã lưu (📌); /saved 2 để xem trang 2",
        help_en="answers you saved (📌); /saved 2 for page 2",
        aliases=("daluu",),
    )
    for prefix in OPEN_PREFIXES:
        reg.add_prefix(prefix, open_command)
