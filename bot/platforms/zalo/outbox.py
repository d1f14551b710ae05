"""The Zalo side of one conversation turn: typing while the bot works, then whole messages."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx

from bot.core.types import Reply
from bot.platforms.zalo.client import ZaloApiError, ZaloClient
from bot.platforms.zalo.render import LIMIT, render_reply

log = logging.getLogger(__name__)

TYPING_EVERY_S = 4.0
TYPING_TIMEOUT_S = 3.0
TYPING_MAX_S = 180.0


class ZaloOutbox:
    """No streaming on Zalo (no edits): keep 'typing…' alive, send the answer once, split."""

    wants_preview = False

    def __init__(
        self, client: ZaloClient, chat_id: str, *, typing_every_s: float = TYPING_EVERY_S
    ) -> None:
        self.client = client
        self.chat_id = chat_id
        self.typing_every_s = typing_every_s
        self._typing_task: asyncio.Task[None] | None = None
        self.sent_ids: list[str] = []

    async def typing(self) -> None:
        """Show 'typing…' now, then again every few seconds until the reply is sent."""
        if self._typing_task is not None and not self._typing_task.done():
            return
        await self._typing_once()
        self._typing_task = asyncio.create_task(self._keep_typing())

    async def _typing_once(self) -> None:
        try:
            await self.client.send_chat_action(self.chat_id, "typing", timeout_s=TYPING_TIMEOUT_S)
        except (ZaloApiError, httpx.HTTPError) as exc:
            # A lost typing indicator is cosmetic; the answer itself still goes out.
            log.debug("Zalo typing for a chat failed: %s", exc)

    async def _keep_typing(self) -> None:
        # Bounded, so a turn that ends without a reply never types forever.
        deadline = asyncio.get_running_loop().time() + TYPING_MAX_S
        while asyncio.get_running_loop().time() + self.typing_every_s < deadline:
            await asyncio.sleep(self.typing_every_s)
            await self._typing_once()

    async def preview(self, text: str) -> None:
        """Zalo cannot edit messages, so partial text is not shown."""
        return None

    async def stop_typing(self) -> None:
        """Stop the typing loop (idempotent)."""
        task, self._typing_task = self._typing_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def send(self, reply: Reply) -> list[str]:
        """Send the whole reply as plain messages of at most 2000 characters, in order."""
        await self.stop_typing()
        ids: list[str] = []
        for text in render_reply(reply, LIMIT):
            message_id = await self.client.send_message(self.chat_id, text)
            ids.append(message_id)
        self.sent_ids.extend(ids)
        return ids

    async def close(self) -> None:
        """End of the turn: make sure no typing loop outlives it."""
        await self.stop_typing()
