"""Messenger-agnostic values that flow between adapters, the pipeline and handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

ChatKind = Literal["private", "group"]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that came with a message (an import document, a voice note, a photo)."""

    kind: Literal["document", "voice", "image"]
    file_name: str
    mime_type: str | None
    fetch: Callable[[], Awaitable[bytes]]
    size: int | None = None
    # where the platform keeps the file (Telegram file_id, Zalo URL), stored with the
    # message so that a message answered after a restart can fetch it again
    ref: str | None = None
    duration: int | None = None  # seconds, for a voice note when the platform says


@dataclass(frozen=True, slots=True)
class Incoming:
    """One user message as every adapter must describe it."""

    platform: str
    chat_id: str
    user_id: str
    message_id: str
    text: str
    chat_kind: ChatKind = "private"
    user_name: str = ""
    chat_title: str | None = None
    reply_to_message_id: str | None = None
    addressed: bool = True
    language_code: str | None = None
    is_chat_admin: bool | None = False  # None: the platform was not asked (role kept)
    attachment: Attachment | None = None
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class Button:
    """A feedback action: a callback on Telegram, a short command elsewhere."""

    label: str
    data: str
    command: str


@dataclass(slots=True)
class Reply:
    """What the pipeline asks an adapter to show."""

    text: str
    buttons: tuple[Button, ...] = ()
    answer_id: int | None = None
    document: tuple[str, bytes] | None = None
    reply_to_message_id: str | None = None
    meta: dict[str, object] = field(default_factory=dict)
    voice: tuple[bytes, ...] = ()  # Ogg/Opus notes reading the answer, sent after its text


@dataclass(frozen=True, slots=True)
class CallbackEvent:
    """A button press (Telegram) or its command equivalent."""

    platform: str
    chat_id: str
    user_id: str
    data: str
    message_id: str | None = None
    user_name: str = ""
    chat_kind: ChatKind = "private"
    language_code: str | None = None


class Outbox(Protocol):
    """The adapter's side of one conversation turn."""

    @property
    def wants_preview(self) -> bool:
        """Whether to stream the answer into previews; asked as the model is called."""

    async def typing(self) -> None:
        """Show that the bot is working (typing indicator)."""

    async def preview(self, text: str) -> None:
        """Show partial text while an answer streams; adapters throttle and may ignore it."""

    async def send(self, reply: Reply) -> list[str]:
        """Deliver a final reply; returns the platform ids of the messages that carry it."""
        ...

    async def close(self) -> None:
        """The turn is over: stop any background work (a typing indicator); idempotent."""
