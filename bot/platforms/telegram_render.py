"""Pure translation between Telegram objects and Hearth's messenger-agnostic values.

No network here: these functions decide nothing about answers, they only say how a
Telegram message reads to the pipeline (who, where, addressed or not) and how a Reply
looks in Telegram (escaped HTML, an inline keyboard within Telegram's limits).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity

from bot.core.types import Attachment, Button, ChatKind, Incoming
from bot.platforms.text_split import split_message, utf16_len

log = logging.getLogger(__name__)

PLATFORM = "telegram"
TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
_BOLD = re.compile(r"\*\*(?=\S)([^*\n]+?)(?<=\S)\*\*")
_CODE = re.compile(r"`([^`\n]+)`")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*$", re.MULTILINE)
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
FALLBACK_COMMANDS = (
    ("start", "Bắt đầu", "Start"),
    ("help", "Hướng dẫn và các lệnh", "Help and commands"),
)


def split_for_telegram(text: str) -> list[str]:
    """Pieces of plain text that each fit one Telegram message (4096 UTF-16 units)."""
    return split_message(text, TEXT_LIMIT, measure=utf16_len)


def to_html(text: str) -> str:
    """Escape plain text for parse_mode=HTML and render **bold**, `code` and # headings.

    Rendering only removes characters, so the visible length never grows past the plain
    text that was measured by the splitter.
    """
    escaped = html.escape(text, quote=False)
    escaped = _HEADING.sub(r"<b>\1</b>", escaped)
    escaped = _BOLD.sub(r"<b>\1</b>", escaped)
    return _CODE.sub(r"<code>\1</code>", escaped)


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """One row of callback buttons; data that Telegram would reject is left out, logged."""
    row = []
    for button in buttons:
        size = len(button.data.encode("utf-8"))
        if not 1 <= size <= CALLBACK_DATA_LIMIT:
            log.warning("button %r dropped: callback data is %d bytes", button.label, size)
            continue
        row.append(InlineKeyboardButton(button.label, callback_data=button.data))
    return InlineKeyboardMarkup([row]) if row else None


def chat_kind(chat_type: str) -> ChatKind:
    """Private chats are families of one; groups, supergroups (and channels) are families."""
    return "private" if chat_type == "private" else "group"


def _entity_text(text: str, entity: MessageEntity) -> str:
    """Entity offsets count UTF-16 units; slice accordingly."""
    raw = text.encode("utf-16-le")
    return raw[entity.offset * 2 : (entity.offset + entity.length) * 2].decode("utf-16-le")


def _remove_entity(text: str, entity: MessageEntity) -> str:
    raw = text.encode("utf-16-le")
    kept = raw[: entity.offset * 2] + raw[(entity.offset + entity.length) * 2 :]
    return kept.decode("utf-16-le")


def read_text(message: Message, bot_id: int, bot_username: str) -> tuple[str, bool]:
    """The message text for the pipeline, and whether it calls on this bot.

    A command `/cmd@ThisBot args` becomes `/cmd args`; a command for another bot is not
    ours; our own @mention is removed from the text so the model sees the question only.
    """
    text = message.text if message.text is not None else (message.caption or "")
    entities = message.entities if message.text is not None else message.caption_entities
    me = bot_username.lower()
    addressed = False
    command = re.match(r"^/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?", text)
    if command:
        target = command.group(2)
        if target is None or target.lower() == me:
            addressed = True
            text = f"/{command.group(1)}{text[command.end() :]}"
        entities = ()  # offsets no longer match; commands carry no mention to strip
    for entity in sorted(entities or (), key=lambda e: e.offset, reverse=True):
        if entity.type == MessageEntity.MENTION:
            if _entity_text(text, entity).lower() == f"@{me}":
                addressed = True
                text = _remove_entity(text, entity)
        elif entity.type == MessageEntity.TEXT_MENTION and entity.user is not None:
            addressed = addressed or entity.user.id == bot_id
    return re.sub(r"[ \t]{2,}", " ", text).strip(), addressed


def is_reply_to_bot(message: Message, bot_id: int) -> bool:
    """A reply to one of our messages (not the implicit reply to a forum topic's header)."""
    replied = message.reply_to_message
    if replied is None or replied.forum_topic_created is not None:
        return False
    return replied.from_user is not None and replied.from_user.id == bot_id


def attachment_of(
    message: Message, fetch_for: Callable[[str, int | None], Callable[[], Awaitable[bytes]]]
) -> Attachment | None:
    """A document, voice note or photo as an Attachment whose bytes are fetched only on
    demand; a message without one that replies to a photo or voice note acts on that one
    (`/kb add` in reply to a recipe photo, "what is this?" under a dish)."""
    own = _attachment(message, fetch_for)
    replied = message.reply_to_message
    if own is None and replied is not None and (replied.photo or replied.voice is not None):
        return _attachment(replied, fetch_for)
    return own


def _attachment(
    message: Message, fetch_for: Callable[[str, int | None], Callable[[], Awaitable[bytes]]]
) -> Attachment | None:
    if message.photo:
        largest = message.photo[-1]  # Telegram lists the sizes smallest first
        return Attachment(
            kind="image",
            file_name="photo.jpg",
            mime_type="image/jpeg",
            fetch=fetch_for(largest.file_id, largest.file_size),
            size=largest.file_size,
            ref=largest.file_id,
        )
    if message.document is not None:
        doc = message.document
        return Attachment(
            kind="document",
            file_name=doc.file_name or "document",
            mime_type=doc.mime_type,
            fetch=fetch_for(doc.file_id, doc.file_size),
            size=doc.file_size,
            ref=doc.file_id,
        )
    audio = message.voice or message.audio
    if audio is not None:
        return Attachment(
            kind="voice",
            file_name="voice.ogg" if message.voice is not None else "audio",
            mime_type=audio.mime_type or "audio/ogg",
            fetch=fetch_for(audio.file_id, audio.file_size),
            size=audio.file_size,
            ref=audio.file_id,
            duration=_seconds(audio.duration),
        )
    return None


def _seconds(duration: Any) -> int | None:
    """A media duration in whole seconds (PTB gives a timedelta with PTB_TIMEDELTA, else int)."""
    if duration is None:
        return None
    total = getattr(duration, "total_seconds", None)
    return int(total()) if callable(total) else int(duration)


def to_incoming(
    message: Message,
    *,
    bot_id: int,
    bot_username: str,
    is_chat_admin: bool,
    attachment: Attachment | None,
) -> Incoming:
    """Describe one Telegram message the way every adapter describes messages."""
    kind = chat_kind(message.chat.type)
    text, mentioned = read_text(message, bot_id, bot_username)
    reply_to_bot = is_reply_to_bot(message, bot_id)
    addressed = kind == "private" or mentioned or reply_to_bot
    user = message.from_user
    replied = message.reply_to_message
    reply_to = None
    if replied is not None and replied.forum_topic_created is None:
        reply_to = str(replied.message_id)
    thread = str(message.message_thread_id) if message.is_topic_message else None
    sender = message.sender_chat  # an anonymous admin or a linked channel speaks as a chat
    if sender is not None or user is None:
        user_id = str(sender.id if sender is not None else message.chat.id)
        user_name = (sender.title if sender is not None else message.chat.title) or ""
    else:
        user_id, user_name = str(user.id), user.full_name
    return Incoming(
        platform=PLATFORM,
        chat_id=str(message.chat.id),
        user_id=user_id,
        message_id=str(message.message_id),
        text=text,
        chat_kind=kind,
        user_name=user_name,
        chat_title=message.chat.title if kind == "group" else None,
        reply_to_message_id=reply_to,
        addressed=addressed,
        language_code=user.language_code if user is not None and sender is None else None,
        is_chat_admin=is_chat_admin or kind == "private",
        attachment=attachment,
        thread_id=thread,
    )


def command_menus(commands: Iterable[Any]) -> dict[tuple[str, str | None], list[tuple[str, str]]]:
    """The command menus for setMyCommands: (scope, language_code) → [(name, description)].

    Scopes "private", "group" (without private-only commands) and "default"; language
    "vi" and None (English, Telegram's default). Hidden commands and names Telegram would
    refuse are left out; an empty registry still announces /start and /help.
    """
    visible = [c for c in commands if not c.hidden and _COMMAND_NAME.fullmatch(c.name)]
    rows = [
        (c.name, c.help_vi or c.help_en, c.help_en or c.help_vi, c.private_only) for c in visible
    ]
    if not rows:
        rows = [(name, vi, en, False) for name, vi, en in FALLBACK_COMMANDS]
    menus: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
    for where in ("private", "group", "default"):
        chosen = [r for r in rows if where != "group" or not r[3]][:100]
        for lang, pick in (("vi", 1), (None, 2)):
            menus[(where, lang)] = [(r[0], _describe(str(r[pick]), r[0])) for r in chosen]
    return menus


def _describe(text: str, name: str) -> str:
    text = " ".join(text.split()) or f"/{name}"
    return text if len(text) <= 256 else text[:255] + "…"
