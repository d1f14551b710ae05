"""/remember, /memory, /forget: the family's long-term facts."""

from __future__ import annotations

from bot.core.types import Reply
from handlers.base import Ctx, Registry


async def remember(ctx: Ctx) -> Reply:
    """Keep a fact the family wants every answer to respect."""
    fact = await ctx.services.memory.remember(ctx.family.id, ctx.member.id, ctx.args)
    return Reply(ctx.t("Đã ghi nhớ: {text}", "Remembered: {text}", text=fact.text))


async def show_memory(ctx: Ctx) -> Reply:
    """List what the family asked Hearth to remember, numbered for /forget."""
    facts = await ctx.services.memory.facts(ctx.family.id)
    if not facts:
        return Reply(
            ctx.t(
                "Chưa có gì được ghi nhớ. Thử: /remember Bà nội không ăn cay",
                "Nothing remembered yet. Try: /remember Grandma eats no chilli",
            )
        )
    head = ctx.t("Những điều gia đình nhờ mình nhớ:", "What this family asked me to remember:")
    lines = [f"{i}. {f.text}" for i, f in enumerate(facts, 1)]
    tail = ctx.t("Xóa: /forget N hoặc /forget all", "Remove: /forget N or /forget all")
    return Reply("\n".join([head, *lines, "", tail]))


async def forget(ctx: Ctx) -> Reply:
    """Drop one fact or all of them (admins, since it changes what everyone gets)."""
    if not ctx.args.strip():
        return Reply(ctx.t("Dùng: /forget N hoặc /forget all", "Usage: /forget N or /forget all"))
    removed = await ctx.services.memory.forget(ctx.family.id, ctx.args)
    if not removed:
        return Reply(ctx.t("Không có gì để xóa.", "There was nothing to forget."))
    if len(removed) == 1:
        return Reply(ctx.t("Đã quên: {t}", "Forgotten: {t}", t=removed[0].text))
    return Reply(ctx.t("Đã quên {n} điều.", "Forgot {n} items.", n=len(removed)))


def register(reg: Registry) -> None:
    """Memory commands with their Vietnamese aliases."""
    reg.add(
        "remember",
        remember,
        help_vi="ghi nhớ một điều về gia đình",
        help_en="remember something about the family",
        aliases=("ghinho", "nho"),
    )
    reg.add(
        "memory",
        show_memory,
        help_vi="xem những điều đã ghi nhớ",
        help_en="show remembered facts",
        aliases=("trinho",),
    )
    reg.add(
        "forget",
        forget,
        role="admin",
        help_vi="quên điều số N hoặc tất cả",
        help_en="forget item N or all",
        aliases=("quen",),
    )
