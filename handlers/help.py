"""/start and /help: what Hearth is and what it can do, in the member's language."""

from __future__ import annotations

from bot.core.types import Reply
from handlers.base import Ctx, Registry


def greeting(lang: str) -> str:
    """The first message a family sees: what Hearth is and how to fill in the profile."""
    if lang == "vi":
        return (
            "Xin chào! Mình là Hearth 🏡 — trợ lý của gia đình, trả lời như người trong nhà.\n"
            "Để mình hiểu nhà mình hơn, quản trị viên có thể kể vài điều:\n"
            "• /family set region Nam (Bắc, Trung hoặc Nam)\n"
            "• /family set kitchen bếp gas, nồi đất, nồi cơm điện, không có lò nướng\n"
            "• /remember Bà nội không ăn cay\n"
            "Gõ /help để xem tất cả lệnh."
        )
    return (
        "Hello! I'm Hearth 🏡 — your family's assistant, answering like someone at home.\n"
        "To know your family better, an admin can tell me a few things:\n"
        "• /family set region South (North, Central or South)\n"
        "• /family set kitchen gas stove, clay pot, rice cooker, no oven\n"
        "• /remember Grandma eats no chilli\n"
        "Type /help to see every command."
    )


async def start(ctx: Ctx) -> Reply:
    """Greet and invite the family to fill its profile."""
    return Reply(greeting(ctx.lang))


async def help_command(ctx: Ctx) -> Reply:
    """List every visible command with its help line."""
    registry = ctx.services.registry
    lines = [ctx.t("Các lệnh của Hearth:", "Hearth's commands:")]
    for cmd in registry.commands:
        if cmd.hidden:
            continue
        text = cmd.help_vi if ctx.lang == "vi" else cmd.help_en
        admin = ctx.t(" (quản trị)", " (admins)") if cmd.role == "admin" else ""
        lines.append(f"/{cmd.name} — {text}{admin}")
    lines.append("")
    lines.append(
        ctx.t(
            "Hoặc cứ hỏi bình thường, ví dụ: Làm cá kho thế nào?",
            "Or just ask, for example: How do I make cá kho?",
        )
    )
    return Reply("\n".join(lines))


def register(reg: Registry) -> None:
    """Help commands."""
    reg.add(
        "start",
        start,
        help_vi="lời chào và cách bắt đầu",
        help_en="welcome and first steps",
        aliases=("batdau",),
    )
    reg.add(
        "help",
        help_command,
        help_vi="danh sách lệnh",
        help_en="list commands",
        aliases=("trogiup",),
    )
