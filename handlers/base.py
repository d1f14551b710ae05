"""What every handler receives, and the registry that maps command names to handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bot.core.errors import PermissionDenied
from bot.core.i18n import tr
from bot.core.types import Incoming, Outbox, Reply

if TYPE_CHECKING:  # pragma: no cover
    from bot.core.config import Settings
    from bot.store.db import Database
    from bot.store.families import Family, FamilyStore, Member
    from handlers.media import Photo

Role = Literal["member", "admin"]


@dataclass(slots=True)
class Services:
    """The live objects handlers may use, built once in bot/app.py and passed explicitly."""

    settings: Settings
    db: Database
    families: FamilyStore
    memory: Any  # knowledge.memory.Memory
    kb: Any  # knowledge.store.KnowledgeBase
    llm: Any  # bot.llm.LLMClient | None
    usage: Any  # bot.report.usage.UsageLog
    answers: Any  # handlers.chat.Answerer
    registry: Registry = field(default_factory=lambda: Registry())
    calendar: Any = None  # bot.calendar.service.Calendar


@dataclass(slots=True)
class Ctx:
    """One command or message being handled."""

    services: Services
    incoming: Incoming
    family: Family
    member: Member
    lang: str
    command: str
    args: str
    outbox: Outbox
    message_row_id: int | None = None
    profile: dict[str, str] | None = None  # read with the message's arrival, if it was
    photo: Photo | None = None  # a photo the question is about (handlers/media.py)

    async def family_profile(self) -> dict[str, str]:
        """The profile read when this message arrived (same transaction), else a fresh read."""
        if self.profile is None:
            self.profile = await self.services.families.profile(self.family.id)
        return self.profile

    @property
    def is_admin(self) -> bool:
        """Family admin (chat admin, private chat owner) or a global admin."""
        return self.member.role == "admin" or self.is_global_admin

    @property
    def is_global_admin(self) -> bool:
        """Listed in HEARTH_ADMINS as platform:user_id."""
        key = f"{self.incoming.platform}:{self.incoming.user_id}"
        return key in self.services.settings.admins

    def t(self, vi: str, en: str, **kwargs: object) -> str:
        """Text in this member's language."""
        return tr(self.lang, vi, en, **kwargs)

    def require_admin(self, suggest_hint: bool = False) -> None:
        """Refuse politely unless the member may change this family's data."""
        if self.is_admin:
            return
        if suggest_hint:
            raise PermissionDenied(
                "Chỉ quản trị viên của gia đình mới sửa được kho kiến thức. "
                "Bạn có thể đề xuất bằng /suggest TIÊU ĐỀ | NỘI DUNG — quản trị viên sẽ duyệt.",
                "Only the family's admins can change the knowledge base. "
                "You can propose an entry with /suggest TITLE | BODY and an admin will review it.",
            )
        raise PermissionDenied(
            "Xin lỗi, chỉ quản trị viên của gia đình mới dùng được lệnh này.",
            "Sorry, only the family's admins can use this command.",
        )


Handler = Callable[[Ctx], Awaitable[Reply | None]]


@dataclass(frozen=True, slots=True)
class Command:
    """A registered command: its names, the role it needs and its help line."""

    name: str
    handler: Handler
    role: Role
    help_vi: str
    help_en: str
    aliases: tuple[str, ...] = ()
    private_only: bool = False
    hidden: bool = False


class Registry:
    """Maps `/name` and its Vietnamese aliases to a Command, in registration order."""

    def __init__(self) -> None:
        self._by_name: dict[str, Command] = {}
        self.commands: list[Command] = []
        self.prefix_handlers: list[tuple[str, Command]] = []

    def add(
        self,
        name: str,
        handler: Handler,
        *,
        role: Role = "member",
        help_vi: str = "",
        help_en: str = "",
        aliases: tuple[str, ...] = (),
        hidden: bool = False,
    ) -> Command:
        """Register once; a clash is a programming error, caught by tests at start."""
        cmd = Command(name, handler, role, help_vi, help_en, aliases, hidden=hidden)
        for key in (name, *aliases):
            if key in self._by_name:
                raise ValueError(f"command /{key} registered twice")
            self._by_name[key] = cmd
        self.commands.append(cmd)
        return cmd

    def add_prefix(self, prefix: str, handler: Handler, *, role: Role = "member") -> None:
        """Commands like /hay_12 whose suffix is an argument (feedback on plain-text apps)."""
        self.prefix_handlers.append((prefix, Command(prefix, handler, role, "", "", hidden=True)))

    def find(self, name: str) -> tuple[Command, str] | None:
        """The command for a name (case-insensitive) plus any argument folded into it."""
        key = name.lower()
        if key in self._by_name:
            return self._by_name[key], ""
        for prefix, cmd in self.prefix_handlers:
            if key.startswith(prefix) and len(key) > len(prefix):
                return cmd, key[len(prefix) :]
        return None


def parse_command(text: str, bot_username: str | None = None) -> tuple[str, str] | None:
    """Split '/cmd@bot args' into ('cmd', 'args'); None when it is not a command for us."""
    stripped = text.lstrip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, rest = stripped[1:].partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = more + ((" " + rest) if rest else "")
    name, _, target = head.partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    if not name:
        return None
    return name.lower(), rest.strip()
