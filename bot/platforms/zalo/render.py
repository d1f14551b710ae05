"""Turn a Reply into plain-text Zalo messages: split at 2000 characters, commands for buttons.

Zalo has no formatting, no keyboards, no edits and no file upload, so everything the
pipeline hands over becomes one or more plain messages.
"""

from __future__ import annotations

from bot.core.i18n import tr
from bot.core.types import Button, Reply
from bot.platforms.text_split import split_message

LIMIT = 2000
MAX_INLINE_DOCUMENT_CHARS = 3 * LIMIT


def buttons_line(buttons: tuple[Button, ...]) -> str:
    """Feedback as short commands: `👍 /hay_12 · 👎 /chuahay_12 · 📌 /luu_12`."""
    parts = [f"{b.label} {b.command}".strip() for b in buttons if b.command]
    return " · ".join(parts)


def render_text(text: str, buttons: tuple[Button, ...] = (), limit: int = LIMIT) -> list[str]:
    """The messages that carry `text` with the feedback commands under its last part."""
    footer = buttons_line(buttons)
    chunks = split_message(text, limit)
    if not footer:
        return chunks
    if chunks and len(chunks[-1]) + 2 + len(footer) <= limit:
        chunks[-1] = f"{chunks[-1]}\n\n{footer}"
    else:
        chunks.extend(split_message(footer, limit))
    return chunks


def _reply_lang(reply: Reply) -> str | None:
    lang = reply.meta.get("lang") if reply.meta else None
    return lang if lang in ("vi", "en") else None


def document_messages(reply: Reply, limit: int = LIMIT) -> list[str]:
    """A document cannot be uploaded on Zalo: small text goes inline, anything else a note."""
    if reply.document is None:
        return []
    filename, data = reply.document
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError:
        content = None
    if content is not None and content.strip() and len(content) <= MAX_INLINE_DOCUMENT_CHARS:
        return split_message(f"📄 {filename}\n\n{content}", limit)
    size_kb = max(1, len(data) // 1024)
    vi = (
        f"📄 {filename} ({size_kb} KB) quá lớn để gửi qua Zalo (Zalo không nhận tệp đính kèm). "
        "Bạn có thể xuất bằng lệnh `hearth kb export` trên máy chạy bot, hoặc dùng Telegram."
    )
    en = (
        f"📄 {filename} ({size_kb} KB) is too large to send on Zalo (Zalo takes no file "
        "uploads). Please export it with `hearth kb export` on the bot's computer, or use "
        "Telegram."
    )
    lang = _reply_lang(reply)
    note = tr(lang, vi, en) if lang else f"{vi}\n\n{en}"
    return split_message(note, limit)


def render_reply(reply: Reply, limit: int = LIMIT) -> list[str]:
    """Every Zalo message for one Reply, in the order they should be sent."""
    messages: list[str] = []
    if reply.text.strip():
        messages.extend(render_text(reply.text, reply.buttons, limit))
        buttons_done = True
    else:
        buttons_done = False
    messages.extend(document_messages(reply, limit))
    if not buttons_done and reply.buttons:
        messages.extend(render_text("", reply.buttons, limit))
    return messages
