"""Telegram's membership updates, applied at once: the admin cache and stored roles follow
a promotion or demotion, and a chat that removed the bot gets nothing more from it."""

from __future__ import annotations

import logging
from typing import Any

from telegram import ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus

from bot.core.types import Reply
from bot.membership import Membership
from bot.platforms.telegram_updates import AdminCache

log = logging.getLogger(__name__)

ADMIN_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
GONE_STATUSES = (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)


class GoneChats:
    """Chats the bot was removed from (until it is added again), and outboxes that honour it."""

    def __init__(self) -> None:
        self.chats: set[str] = set()

    def gate(self, outbox: Any) -> GatedOutbox:
        """The outbox, silenced once its chat removes the bot (an answer still being written)."""
        return GatedOutbox(outbox, self)


class GatedOutbox:
    """An Outbox that sends nothing to a chat that removed the bot."""

    def __init__(self, inner: Any, gone: GoneChats) -> None:
        self.inner = inner
        self.gone = gone
        self.chat_id: str = inner.chat_id

    @property
    def open(self) -> bool:
        """Whether the bot is still in the chat."""
        return self.chat_id not in self.gone.chats

    @property
    def wants_preview(self) -> bool:
        """As the wrapped outbox, while the chat is open."""
        return self.open and bool(self.inner.wants_preview)

    async def typing(self) -> None:
        """Typing indicator, while the chat is open."""
        if self.open:
            await self.inner.typing()

    async def preview(self, text: str) -> None:
        """A preview, while the chat is open."""
        if self.open:
            await self.inner.preview(text)

    async def send(self, reply: Reply) -> list[str]:
        """The reply, unless the chat removed the bot (then nothing is sent)."""
        if not self.open:
            log.info("telegram chat %s removed the bot: a reply was not sent", self.chat_id)
            return []
        sent: list[str] = await self.inner.send(reply)
        return sent

    async def close(self) -> None:
        """Always: stops the wrapped outbox's background work."""
        await self.inner.close()


async def apply_member_update(
    update: Update, admins: AdminCache, gone: GoneChats, membership: Membership, platform: str
) -> None:
    """A chat_member or my_chat_member update, applied to the cache, the roles and the gate."""
    change: ChatMemberUpdated | None = update.my_chat_member or update.chat_member
    if change is None:
        return
    chat_id = change.chat.id
    status = change.new_chat_member.status
    if update.my_chat_member is not None:  # the bot itself
        if status in GONE_STATUSES:
            gone.chats.add(str(chat_id))
            await membership.bot_removed(platform, str(chat_id))
        else:
            gone.chats.discard(str(chat_id))
        admins.forget(chat_id)
        return
    user_id = change.new_chat_member.user.id
    is_admin = status in ADMIN_STATUSES
    admins.changed(chat_id, user_id, is_admin)
    await membership.role_changed(platform, str(chat_id), str(user_id), is_admin)
