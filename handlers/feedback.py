"""👍 · 👎 · 📌 under every answer: buttons on Telegram, short commands elsewhere."""

from __future__ import annotations

from dataclasses import replace

from bot.core.i18n import tr
from bot.core.types import Button, Reply
from handlers.base import Ctx, Registry

KINDS = {"up": "helpful", "down": "not_helpful", "save": "save"}
COMMAND_PREFIX = {"up": "hay_", "down": "chuahay_", "save": "luu_"}
PREFIX_KIND = {v: k for k, v in COMMAND_PREFIX.items()}
ENGLISH_PREFIX = {"helpful_": "up", "nothelpful_": "down", "save_": "save"}
MAX_ID = 2**63 - 1  # SQLite INTEGER; a larger id is not an answer, not a crash


def feedback_buttons(answer_id: int) -> tuple[Button, ...]:
    """The three buttons every answer carries (callback data stays far below 64 bytes)."""
    return (
        Button("👍", f"fb:up:{answer_id}", f"/hay_{answer_id}"),
        Button("👎", f"fb:down:{answer_id}", f"/chuahay_{answer_id}"),
        Button("📌", f"fb:save:{answer_id}", f"/luu_{answer_id}"),
    )


def buttons_in(lang: str, buttons: tuple[Button, ...]) -> tuple[Button, ...]:
    """The feedback commands under an English answer in English (/helpful_12 …); the
    Vietnamese ones stay for Vietnamese answers. Both forms always work."""
    if lang != "en":
        return buttons
    english = {f"/{COMMAND_PREFIX[kind]}": f"/{prefix}" for prefix, kind in ENGLISH_PREFIX.items()}
    out = []
    for button in buttons:
        vi = next((p for p in english if button.command.startswith(p)), None)
        command = button.command if vi is None else english[vi] + button.command[len(vi) :]
        out.append(replace(button, command=command))
    return tuple(out)


def parse_feedback(data: str) -> tuple[str, int] | None:
    """`fb:up:12` → ('up', 12); anything else → None."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != "fb" or parts[1] not in KINDS:
        return None
    try:
        answer_id = int(parts[2])
    except ValueError:
        return None
    return (parts[1], answer_id) if 0 <= answer_id <= MAX_ID else None


async def apply_feedback(ctx: Ctx, action: str, answer_id: int) -> str:
    """Log the return (once per member and button) and say thanks in the member's language."""
    services = ctx.services
    answer = await services.answers.log.get(ctx.family.id, answer_id)
    if answer is None:
        return ctx.t("Không tìm thấy câu trả lời này.", "That answer was not found.")
    kind = KINDS[action]
    new = await services.usage.record_return(ctx.family.id, answer_id, ctx.member.id, kind)
    if action == "save":
        await services.usage.save(ctx.family.id, ctx.member.id, answer_id)
        return ctx.t("📌 Đã lưu. Xem lại bằng /saved.", "📌 Saved. See it again with /saved.")
    if not new:
        return ctx.t("Bạn đã góp ý rồi, cảm ơn!", "You already told us, thank you!")
    if action == "up":
        return ctx.t("Cảm ơn! 👍", "Thanks! 👍")
    return ctx.t(
        "Cảm ơn bạn đã góp ý. Hãy hỏi lại chi tiết hơn, hoặc thêm kiến thức bằng /kb add.",
        "Thanks for telling us. Try asking with more detail, or add knowledge with /kb add.",
    )


async def feedback_command(ctx: Ctx) -> Reply | None:
    """`/hay_12`, `/chuahay_12`, `/luu_12` (and English forms) on plain-text messengers."""
    action = PREFIX_KIND.get(ctx.command) or ENGLISH_PREFIX.get(ctx.command)
    try:
        answer_id = int(ctx.args.strip())
    except ValueError:
        answer_id = -1
    if action is None or not 0 <= answer_id <= MAX_ID:
        return Reply(
            tr(ctx.lang, "Lệnh góp ý không hợp lệ.", "That feedback command is not valid.")
        )
    return Reply(await apply_feedback(ctx, action, answer_id))


def register(reg: Registry) -> None:
    """Prefix commands: the suffix after the underscore is the answer id."""
    for prefix in (*COMMAND_PREFIX.values(), *ENGLISH_PREFIX):
        reg.add_prefix(prefix, feedback_command)
