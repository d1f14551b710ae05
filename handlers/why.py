"""/why (alias /taisao): what context the family's last answer used.

Reads the record the rewriter stored with the answer (answers.context_json), so it shows
exactly what went into that answer — not what would go in now.
"""

from __future__ import annotations

import json
import logging

from bot.core.types import Reply
from handlers.base import Ctx, Registry
from knowledge.why_render import render_why

log = logging.getLogger(__name__)


async def why_command(ctx: Ctx) -> Reply:
    """Explain the latest answer (or answer N of this family): profile, facts, entries, budget."""
    arg = ctx.args.strip().lstrip("#")
    if arg and not arg.isdigit():
        return Reply(ctx.t("Dùng: /why hoặc /why SỐ_CÂU_TRẢ_LỜI", "Usage: /why or /why ANSWER_ID"))
    if arg:
        row = await ctx.services.db.fetchone(
            "SELECT id, question, context_json FROM answers WHERE family_id = ? AND id = ?",
            (ctx.family.id, int(arg)),
        )
    else:
        row = await ctx.services.db.fetchone(
            "SELECT id, question, context_json FROM answers WHERE family_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (ctx.family.id,),
        )
    if row is None and arg:
        latest = await ctx.services.db.scalar(
            "SELECT max(id) FROM answers WHERE family_id = ?", (ctx.family.id,)
        )
        if latest is not None:
            return Reply(
                ctx.t(
                    "Nhà mình không có câu trả lời #{n}. Câu gần nhất là #{last}: /why {last}",
                    "This family has no answer #{n}. The latest is #{last}: /why {last}",
                    n=arg,
                    last=latest,
                )
            )
    if row is None:
        return Reply(
            ctx.t(
                "Chưa có câu trả lời nào để giải thích. Hỏi mình một câu trước nhé!",
                "There is no answer to explain yet. Ask me something first!",
            )
        )
    try:
        record = json.loads(row["context_json"] or "{}")
    except json.JSONDecodeError:
        log.warning("answer %s has an unreadable context record", row["id"])
        record = {}
    if not isinstance(record, dict):
        record = {}
    head = ctx.t(
        "Câu hỏi #{n}: «{q}»", "Question #{n}: “{q}”", n=row["id"], q=_short(row["question"])
    )
    return Reply(head + "\n" + render_why(record, ctx.lang))


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def register(reg: Registry) -> None:
    """The transparency command."""
    reg.add(
        "why",
        why_command,
        help_vi="câu trả lời vừa rồi dựa vào đâu",
        help_en="what the last answer was based on",
        aliases=("taisao",),
    )
