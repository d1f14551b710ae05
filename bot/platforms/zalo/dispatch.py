"""Hand Zalo updates to the pipeline: one task per message, bounded, duplicates dropped.

The pipeline stores every message first and ignores a platform message id it has seen,
so a duplicate can never be answered twice; the small memory here only saves the work.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import httpx

from bot.calendar.held import with_held
from bot.core.tasks import finish_or_cancel
from bot.core.types import Incoming, Outbox
from bot.dead_letters import DeadLetters
from bot.platforms.zalo.client import ZaloApiError, ZaloClient
from bot.platforms.zalo.outbox import ZaloOutbox
from bot.platforms.zalo.updates import PLATFORM, BotIdentity, parse_update

log = logging.getLogger(__name__)

UNREADABLE_NOTE = (
    "Mình chỉ đọc được tin nhắn chữ thôi — bạn gõ câu hỏi giúp mình nhé.\n"
    "I can only read text messages — please type your question."
)


class Pipeline(Protocol):
    """The part of bot/pipeline.py an adapter uses."""

    dead: DeadLetters

    async def handle(self, incoming: Incoming, outbox: Outbox) -> None: ...


class Dispatcher:
    """Turns raw updates into pipeline calls running concurrently (the pipeline orders a chat)."""

    def __init__(
        self,
        pipeline: Pipeline,
        client: ZaloClient,
        bot: BotIdentity,
        *,
        max_inflight: int = 64,
        remember: int = 2048,
        typing_every_s: float = 4.0,
    ) -> None:
        self.pipeline = pipeline
        self.client = client
        self.bot = bot
        self.typing_every_s = typing_every_s
        self._slots = asyncio.Semaphore(max_inflight)
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._remember = remember
        self._tasks: set[asyncio.Task[None]] = set()
        self.handled = 0
        self.duplicates = 0

    def outbox_for(self, chat_id: str) -> Outbox:
        """A fresh outbox for a chat (also what resume_pending gets); reminders Zalo refused
        to send on their own go out after its replies."""
        outbox = ZaloOutbox(self.client, chat_id, typing_every_s=self.typing_every_s)
        return with_held(outbox, self.pipeline, PLATFORM, chat_id)

    def fetch_for(self, url: str, size: int | None) -> Callable[[], Awaitable[bytes]]:
        """Download a resumed message's file again from the URL Zalo gave for it."""
        return lambda: self.client.download(url)

    def _first_time(self, chat_id: str, message_id: str) -> bool:
        key = (chat_id, message_id)
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        return True

    async def submit(self, update: dict[str, Any]) -> bool:
        """Start handling one update; waits for a free slot. False if ignored or a duplicate."""
        parsed = parse_update(update, self.bot, self.client.download)
        if parsed is None:
            log.debug("Zalo update without a message ignored")
            return False
        if not self._first_time(parsed.chat_id, parsed.message_id):
            self.duplicates += 1
            log.info("Zalo duplicate update %s ignored", parsed.message_id)
            return False
        await self._slots.acquire()
        if parsed.incoming is None:
            coro = self._unreadable(parsed.chat_id) if parsed.chat_kind == "private" else None
            if coro is None:
                self._slots.release()
                return False
        else:
            coro = self._handle(parsed.incoming)
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return True

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()

    async def _handle(self, incoming: Incoming) -> None:
        outbox = self.outbox_for(incoming.chat_id)
        try:
            await self.pipeline.handle(incoming, outbox)
            self.handled += 1
        except Exception:
            # The pipeline promises not to raise; if it does, log it and keep polling.
            log.exception("Zalo: pipeline failed on message %s", incoming.message_id)
        finally:
            await outbox.close()

    async def _unreadable(self, chat_id: str) -> None:
        try:
            await self.client.send_message(chat_id, UNREADABLE_NOTE)
        except (ZaloApiError, httpx.HTTPError) as exc:
            log.warning("Zalo: could not send the text-only note: %s", exc)

    @property
    def inflight(self) -> int:
        """How many messages are being handled right now."""
        return len(self._tasks)

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Let running turns finish (up to a limit), then cancel what is left."""
        cancelled = await finish_or_cancel(self._tasks, timeout_s)
        if cancelled:
            log.warning("Zalo: %d turns cancelled at shutdown", cancelled)
