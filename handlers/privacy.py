"""/export (all of the family's data as a JSON file) and /deletefamily (erase it, confirmed)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from bot.core.types import Reply
from bot.report.usage import iso_ms, normalize_question, utcnow
from bot.store import privacy
from handlers.base import Ctx, Registry

CONFIRM_WINDOW = timedelta(minutes=5)
CONFIRM_WORDS = frozenset({"confirm", "xacnhan", "yes", "dongy"})
CANCEL_WORDS = frozenset({"cancel", "huy", "no", "khong"})
ACTION = "deletefamily"


async def export(ctx: Ctx) -> Reply:
    """Send the family every row Hearth keeps about it, as one JSON document."""
    doc = await privacy.export_family(ctx.services.db, ctx.family.id)
    data = json.dumps(doc, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", f"{ctx.family.platform}-{ctx.family.chat_id}")
    name = f"hearth-export-{safe}-{utcnow():%Y%m%d}.json"
    tables = doc["tables"]
    return Reply(
        ctx.t(
            "Đây là toàn bộ dữ liệu Hearth lưu về gia đình: {m} tin nhắn, {f} điều ghi nhớ,"
            " {a} câu trả lời.",
            "Here is everything Hearth keeps about your family: {m} messages, {f} facts,"
            " {a} answers.",
            m=len(tables.get("messages", [])),
            f=len(tables.get("facts", [])),
            a=len(tables.get("answers", [])),
        ),
        document=(name, data),
    )


async def delete_family(ctx: Ctx) -> Reply:
    """Ask first; `/deletefamily confirm` within five minutes erases everything."""
    word = normalize_question(ctx.args).replace(" ", "")
    if word in CONFIRM_WORDS:
        return await _confirm(ctx)
    if word in CANCEL_WORDS:
        await _clear(ctx)
        return Reply(ctx.t("Đã hủy, không xóa gì cả.", "Cancelled; nothing was deleted."))
    if word:
        return Reply(
            ctx.t(
                "Dùng: /xoagiadinh rồi /xoagiadinh xacnhan để xác nhận.",
                "Usage: /deletefamily, then /deletefamily confirm to confirm.",
            )
        )
    counts = await privacy.family_counts(ctx.services.db, ctx.family.id)
    await ctx.services.db.execute(
        "INSERT INTO pending_confirmations (family_id, member_id, action, created_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (family_id, member_id, action)"
        " DO UPDATE SET created_at = excluded.created_at",
        (ctx.family.id, ctx.member.id, ACTION, iso_ms(utcnow())),
    )
    return Reply(
        ctx.t(
            "⚠️ Lệnh này xóa vĩnh viễn toàn bộ dữ liệu của gia đình: {m} tin nhắn, {f} điều"
            " ghi nhớ, {a} câu trả lời, {e} mục kiến thức riêng. Không thể hoàn tác.\n"
            "Nếu chắc chắn, trong 5 phút hãy gửi: /xoagiadinh xacnhan\n"
            "(Muốn giữ một bản sao trước? Gửi /export.)",
            "⚠️ This permanently erases all of your family's data: {m} messages, {f} facts,"
            " {a} answers, {e} family knowledge entries. It cannot be undone.\n"
            "If you are sure, within 5 minutes send: /deletefamily confirm\n"
            "(Want a copy first? Send /export.)",
            m=counts["messages"],
            f=counts["facts"],
            a=counts["answers"],
            e=counts["entries"],
        )
    )


async def _confirm(ctx: Ctx) -> Reply:
    cutoff = iso_ms(utcnow() - CONFIRM_WINDOW)
    asked = await ctx.services.db.scalar(
        "SELECT created_at FROM pending_confirmations"
        " WHERE family_id = ? AND member_id = ? AND action = ?",
        (ctx.family.id, ctx.member.id, ACTION),
    )
    if asked is None or asked < cutoff:
        await _clear(ctx)
        return Reply(
            ctx.t(
                "Chưa có yêu cầu xóa nào đang chờ (hoặc đã quá 5 phút). Gửi /xoagiadinh trước.",
                "There is no pending request (or it is older than 5 minutes). Send"
                " /deletefamily first.",
            )
        )
    counts = await privacy.delete_family(ctx.services.db, ctx.family.id)
    return Reply(
        ctx.t(
            "Đã xóa toàn bộ dữ liệu của gia đình ({m} tin nhắn, {a} câu trả lời). Hearth chỉ"
            " giữ lại số đếm ẩn danh. Tạm biệt — nếu nhắn tiếp, mình sẽ bắt đầu lại từ đầu.",
            "All of your family's data is erased ({m} messages, {a} answers). Hearth keeps"
            " only anonymous counts. Goodbye — if you write again, I'll start afresh.",
            m=counts["messages"],
            a=counts["answers"],
        )
    )


async def _clear(ctx: Ctx) -> None:
    await ctx.services.db.execute(
        "DELETE FROM pending_confirmations WHERE family_id = ? AND member_id = ? AND action = ?",
        (ctx.family.id, ctx.member.id, ACTION),
    )


def register(reg: Registry) -> None:
    """Privacy commands: any member may export the family's data; only admins erase it."""
    reg.add(
        "export",
        export,
        help_vi="tải về toàn bộ dữ liệu của gia đình (tệp JSON)",
        help_en="download all of the family's data (a JSON file)",
        aliases=("xuatdulieu", "taidulieu"),
    )
    reg.add(
        "deletefamily",
        delete_family,
        role="admin",
        help_vi="xóa vĩnh viễn dữ liệu của gia đình (hỏi xác nhận trước)",
        help_en="permanently erase the family's data (asks to confirm)",
        aliases=("xoagiadinh",),
    )
