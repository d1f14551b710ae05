"""Describe a Zalo update as an Incoming: ids as strings, commands normalised, `addressed` set.

Zalo sends ONE update per getUpdates call (or per webhook POST):
`{"event_name": "message.text.received", "message": {"message_id", "text", "chat":
{"id", "chat_type"}, "from": {"id", "display_name", "is_bot"}, "date"}}`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.core.types import Attachment, ChatKind, Incoming

PLATFORM = "zalo"
TEXT_EVENT = "message.text.received"
IMAGE_EVENT = "message.image.received"
STICKER_EVENT = "message.sticker.received"
UNSUPPORTED_EVENT = "message.unsupported.received"
COMMAND_AT = re.compile(r"^(\s*/[^\s@/]+)@(\S+)")

Fetch = Callable[[str], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is, from getMe, so group messages can be checked for mentions."""

    id: str = ""
    names: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The name to show in logs."""
        return self.names[0] if self.names else ""


@dataclass(frozen=True, slots=True)
class ParsedUpdate:
    """One update: the Incoming when Hearth can read it, else just where it came from."""

    event_name: str
    chat_id: str
    chat_kind: ChatKind
    message_id: str
    incoming: Incoming | None


def unwrap(body: Any) -> dict[str, Any] | None:
    """Webhook bodies come both wrapped in `{"ok", "result"}` and flat: accept both."""
    if not isinstance(body, dict):
        return None
    if "result" in body and isinstance(body["result"], dict) and "message" not in body:
        return body["result"]
    return body


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    return str(value)


def _event_name(update: dict[str, Any], message: dict[str, Any]) -> str:
    name = _text(update.get("event_name"))
    if name:
        return name
    if _text(message.get("text")):
        return TEXT_EVENT
    if message.get("photo") or message.get("photo_url"):
        return IMAGE_EVENT
    if message.get("sticker"):
        return STICKER_EVENT
    return UNSUPPORTED_EVENT


def normalise_command(text: str, bot: BotIdentity) -> str:
    """`/cmd@ThisBot args` → `/cmd args` (a command for another bot is left alone)."""
    match = COMMAND_AT.match(text)
    if not match:
        return text
    target = match.group(2).lower()
    known = {n.lower() for n in bot.names} | {n.lower().replace(" ", "") for n in bot.names}
    if known and target not in known:
        return text
    return match.group(1) + text[match.end() :]


def _mentions(text: str, bot: BotIdentity) -> tuple[bool, str]:
    """Whether the text mentions the bot by name, and the text without that mention."""
    for name in sorted(bot.names, key=len, reverse=True):
        pattern = re.compile("@" + re.escape(name) + r"(?!\w)", re.IGNORECASE)
        if pattern.search(text):
            return True, re.sub(r"\s{2,}", " ", pattern.sub("", text)).strip()
    return False, text


def _reply_to(message: dict[str, Any]) -> tuple[str | None, str]:
    """The replied-to message id and its sender id, when Zalo reports a reply."""
    quoted = message.get("reply_to_message") or message.get("quote")
    if not isinstance(quoted, dict):
        return None, ""
    sender = _dict(quoted.get("from"))
    return _id(quoted.get("message_id")) or None, _id(sender.get("id"))


def parse_update(update: dict[str, Any], bot: BotIdentity, fetch: Fetch) -> ParsedUpdate | None:
    """Read one update; None when it carries no message at all."""
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    chat = _dict(message.get("chat"))
    sender = _dict(message.get("from"))
    chat_id = _id(chat.get("id")) or _id(sender.get("id"))
    message_id = _id(message.get("message_id"))
    if not chat_id or not message_id:
        return None
    kind: ChatKind = "group" if _text(chat.get("chat_type")).upper() == "GROUP" else "private"
    event = _event_name(update, message)
    if sender.get("is_bot") is True:
        return ParsedUpdate(event, chat_id, kind, message_id, None)

    attachment: Attachment | None = None
    if event == TEXT_EVENT:
        text = _text(message.get("text"))
    elif event == IMAGE_EVENT:
        text = _text(message.get("caption")) or _text(message.get("text"))
        url = _text(message.get("photo")) or _text(message.get("photo_url"))
        if url:
            attachment = Attachment(
                kind="image",
                file_name=url.rsplit("/", 1)[-1].split("?", 1)[0] or "image.jpg",
                mime_type=None,
                fetch=lambda: fetch(url),
                ref=url,
            )
        if not text.strip() and attachment is None:
            return ParsedUpdate(event, chat_id, kind, message_id, None)
    else:
        return ParsedUpdate(event, chat_id, kind, message_id, None)

    text = normalise_command(text, bot)
    reply_to, reply_to_sender = _reply_to(message)
    mentioned, text = _mentions(text, bot) if kind == "group" else (False, text)
    is_command = text.lstrip().startswith("/")
    replied_to_bot = bool(reply_to_sender) and reply_to_sender == bot.id
    addressed = kind == "private" or is_command or mentioned or replied_to_bot
    incoming = Incoming(
        platform=PLATFORM,
        chat_id=chat_id,
        user_id=_id(sender.get("id")) or chat_id,
        message_id=message_id,
        text=text,
        chat_kind=kind,
        user_name=_text(sender.get("display_name"))
        or _text(sender.get("first_name"))
        or _text(sender.get("name")),
        chat_title=_text(chat.get("title")) or None,
        reply_to_message_id=reply_to,
        addressed=addressed,
        # A private chat's only person is its family's admin; Zalo tells nothing of group admins.
        is_chat_admin=kind == "private",
        attachment=attachment,
    )
    return ParsedUpdate(event, chat_id, kind, message_id, incoming)
