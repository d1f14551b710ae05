"""/suggest for any member; /review, /approve, /reject for the family's admins."""

from __future__ import annotations

from bot.core.errors import UsageError
from bot.core.types import Reply
from handlers.base import Ctx, Registry
from handlers.kb import author_of, kb_of
from handlers.kb_text import PAGE_SIZE, parse_draft, parse_id, parse_page, render_entry


async def suggest(ctx: Ctx) -> Reply:
    """Propose an entry; it waits for an admin's /approve."""
    draft = parse_draft(ctx.args)
    entry = await kb_of(ctx).suggest(
        draft.title,
        draft.body,
        family_id=ctx.family.id,
        author=author_of(ctx),
        tags=draft.tags,
        language=ctx.lang if ctx.lang in ("vi", "en") else "vi",
    )
    return Reply(
        ctx.t(
            "Cảm ơn! Đề xuất #{id} · {t} đang chờ quản trị viên duyệt (/review).",
            "Thank you! Suggestion #{id} · {t} is waiting for an admin's review (/review).",
            id=entry.id,
            t=entry.title,
        )
    )


async def review(ctx: Ctx) -> Reply:
    """Show pending suggestions, one page at a time, each in full so it can be judged."""
    ctx.require_admin(suggest_hint=True)
    pending = await kb_of(ctx).pending(ctx.family.id)
    if not pending:
        return Reply(ctx.t("Không có đề xuất nào đang chờ.", "No suggestions are waiting."))
    page = parse_page(ctx.args)
    pages = (len(pending) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(page, pages)
    chunk = pending[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    parts = [render_entry(e, ctx.lang) for e in chunk]
    footer = ctx.t(
        "Duyệt: /approve SỐ · Từ chối: /reject SỐ · Trang {p}/{n}",
        "Approve: /approve ID · Reject: /reject ID · Page {p}/{n}",
        p=page,
        n=pages,
    )
    if page < pages:
        footer += ctx.t(" — xem tiếp: /review {nx}", " — next: /review {nx}", nx=page + 1)
    return Reply("\n\n".join([*parts, footer]))


async def approve(ctx: Ctx) -> Reply:
    """Publish a suggestion; its suggester stays the credited author."""
    ctx.require_admin(suggest_hint=True)
    if not ctx.args.strip():
        raise UsageError("Cách dùng: /approve SỐ", "Usage: /approve ID")
    entry_id, _ = parse_id(ctx.args, ctx.lang)
    entry = await kb_of(ctx).approve(entry_id, ctx.family.id, approver=author_of(ctx).name or "")
    return Reply(
        ctx.t("Đã duyệt #{id} · {t}.", "Approved #{id} · {t}.", id=entry.id, t=entry.title)
    )


async def reject(ctx: Ctx) -> Reply:
    """Turn a suggestion down (it stays in the history)."""
    ctx.require_admin(suggest_hint=True)
    if not ctx.args.strip():
        raise UsageError("Cách dùng: /reject SỐ", "Usage: /reject ID")
    entry_id, _ = parse_id(ctx.args, ctx.lang)
    entry = await kb_of(ctx).reject(entry_id, ctx.family.id, approver=author_of(ctx).name or "")
    return Reply(
        ctx.t(
            "Đã từ chối đề xuất #{id} · {t}.",
            "Rejected suggestion #{id} · {t}.",
            id=entry.id,
            t=entry.title,
        )
    )


def register(reg: Registry) -> None:
    """Add the suggestion and review commands with their Vietnamese aliases."""
    reg.add(
        "suggest",
        suggest,
        aliases=("goiy", "dexuat"),
        help_vi="đề xuất một mục kiến thức: /suggest TIÊU ĐỀ | NỘI DUNG",
        help_en="propose a knowledge entry: /suggest TITLE | BODY",
    )
    reg.add(
        "review",
        review,
        aliases=("duyet",),
        help_vi="(quản trị) xem các đề xuất đang chờ",
        help_en="(admins) pending suggestions",
    )
    reg.add(
        "approve",
        approve,
        aliases=("chapnhan", "pheduyet"),
        help_vi="(quản trị) duyệt đề xuất: /approve SỐ",
        help_en="(admins) /approve ID",
    )
    reg.add(
        "reject",
        reject,
        aliases=("tuchoi",),
        help_vi="(quản trị) từ chối đề xuất: /reject SỐ",
        help_en="(admins) /reject ID",
    )
