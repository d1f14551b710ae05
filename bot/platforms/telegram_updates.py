"""How updates are scheduled and who may curate: per-chat arrival order, admins cache.

PTB's concurrent mode runs updates as independent tasks, so two messages of one chat could
reach the pipeline out of order while a slow answer elsewhere must never hold anyone up.
Each message takes a turn when PTB hands it over; the adapter calls the pipeline only once
the previous message of the same chat has entered it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Any

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import Application, BaseUpdateProcessor

log = logging.getLogger(__name__)

ADMIN_CACHE_S = 300.0
MAX_CONCURRENT_UPDATES = 1024

_turn: ContextVar[ChatTurn | None] = ContextVar("telegram_chat_turn", default=None)


class ChatTurn:
    """A message's place in its chat's queue; resolved once it has entered the pipeline."""

    def __init__(self, previous: ChatTurn | None) -> None:
        self.previous = previous
        self.entered = asyncio.Event()

    async def wait(self) -> None:
        if self.previous is not None:
            await self.previous.entered.wait()
            self.previous = None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently; messages of one chat keep their order.

    A turn is taken the moment PTB hands the update over (arrival order); the handler
    waits for the previous message of the chat to have entered the pipeline before it
    calls the pipeline itself. The pipeline's per-chat lock does the rest.
    """

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._tails: dict[int, ChatTurn] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        turn = None
        chat_id = 0
        if isinstance(update, Update) and update.message is not None:
            chat_id = update.message.chat.id
            turn = ChatTurn(self._tails.get(chat_id))
            self._tails[chat_id] = turn
        token = _turn.set(turn)
        try:
            await coroutine
        finally:
            _turn.reset(token)
            if turn is not None:
                turn.entered.set()
                if self._tails.get(chat_id) is turn:
                    del self._tails[chat_id]

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


class AdminCache:
    """Who administers a group, from getChatAdministrators, remembered for five minutes."""

    def __init__(self, ttl_s: float = ADMIN_CACHE_S) -> None:
        self.ttl_s = ttl_s
        self._known: dict[int, tuple[float, frozenset[int]]] = {}
        self._pending: dict[int, asyncio.Future[frozenset[int]]] = {}

    async def is_admin(self, app: Application, chat_id: int, user_id: int) -> bool:
        """True for the group's owner and administrators; False when Telegram cannot say."""
        known = self._known.get(chat_id)
        if known is not None and time.monotonic() - known[0] < self.ttl_s:
            return user_id in known[1]
        pending = self._pending.get(chat_id)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._pending[chat_id] = pending
            try:
                members = await app.bot.get_chat_administrators(chat_id)
                ids = frozenset(
                    m.user.id
                    for m in members
                    if m.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
                )
                self._known[chat_id] = (time.monotonic(), ids)
                pending.set_result(ids)
            except TelegramError as exc:
                log.warning("chat %s: getChatAdministrators failed: %s", chat_id, exc)
                pending.set_result(known[1] if known else frozenset())
            finally:
                del self._pending[chat_id]
        return user_id in await asyncio.shield(pending)


def current_turn() -> ChatTurn | None:
    """The turn of the message being handled in this task (None for other updates)."""
    return _turn.get()
