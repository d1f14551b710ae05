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
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import Application, BaseUpdateProcessor
from telegram.request import HTTPXRequest

from bot.core import bounded_json

log = logging.getLogger(__name__)

ADMIN_CACHE_S = 300.0
MAX_CONCURRENT_UPDATES = 1024
# A real update nests about ten levels (update, message, the message it replies to, its
# entities, their users); python-telegram-bot's reader recurses per level and gives up
# near 900 quoted messages, and then asks for the same update again, forever.
MAX_UPDATE_DEPTH = 32
TOO_DEEP = "nested too deeply"
OnDropped = Callable[[str, str], None]  # (update id, reason)


class BoundedUpdatesRequest(HTTPXRequest):
    """The getUpdates request: an update nested deeper than MAX_UPDATE_DEPTH arrives as a
    bare `{"update_id"}` (which no handler takes), so the offset moves past it and every
    update after it is still read; `on_dropped` hears of each one."""

    def __init__(self, *args: Any, on_dropped: OnDropped | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_dropped = on_dropped

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        """Telegram's answer read to a bounded depth (see the class)."""
        try:
            data = bounded_json.loads(payload, MAX_UPDATE_DEPTH + 2)  # + {"result": [ … ]}
        except ValueError as exc:
            log.error("Telegram sent a reply that is not JSON (%d bytes)", len(payload))
            raise TelegramError("Invalid server response") from exc
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, list) and bounded_json.was_cut(result):
            data["result"] = [self._readable(update) for update in result]
        return data  # type: ignore[no-any-return]

    def _readable(self, update: Any) -> Any:
        if not bounded_json.was_cut(update):
            return update
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if self.on_dropped is not None:
            self.on_dropped(str(update_id), TOO_DEEP)
        else:
            log.warning("telegram update %s dropped: %s", update_id, TOO_DEEP)
        return {"update_id": update_id}


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

    def changed(self, chat_id: int, user_id: int, is_admin: bool) -> None:
        """Telegram said (chat_member) that someone was promoted or demoted: the cached list
        follows at once instead of after ADMIN_CACHE_S."""
        known = self._known.get(chat_id)
        if known is None:
            return
        ids = known[1] | {user_id} if is_admin else known[1] - {user_id}
        self._known[chat_id] = (known[0], frozenset(ids))

    def forget(self, chat_id: int) -> None:
        """Ask Telegram again next time (the bot's own rights in the chat changed)."""
        self._known.pop(chat_id, None)


def current_turn() -> ChatTurn | None:
    """The turn of the message being handled in this task (None for other updates)."""
    return _turn.get()
