"""Hearth's Zalo adapter (long polling) running in the test's event loop against the
loopback Zalo Bot API, with what the tests read back from it. Webhook mode:
tests/support/zalo_webhook.py."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app import Hearth
from bot.core.config import Settings
from bot.platforms.zalo import run_zalo
from tests.conftest import make_settings
from tests.servers.zalo_api import ZaloApiServer

BACKOFF_S = 0.05  # the adapter's retry base in tests: back-offs of milliseconds, not seconds


def zalo_settings(tmp_path: Path, api: ZaloApiServer, **env: str) -> Settings:
    """Settings on tmp_path that point the bot at the loopback Zalo API (`zalo_api`)."""
    return make_settings(tmp_path, ZALO_BOT_TOKEN=api.token, ZALO_API_BASE_URL=api.base_url, **env)


@dataclass
class ZaloRun:
    """One `run_zalo` task on `app`; `close()` stops it (the app stays the caller's)."""

    api: ZaloApiServer
    app: Hearth
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def sent(self, chat_id: str, count: int, timeout_s: float = 10.0) -> list[str]:
        """The texts sent to a chat, once there are at least `count`."""
        messages = await asyncio.to_thread(self.api.wait_for_sent, chat_id, count, timeout_s)
        return [m["text"] for m in messages]

    async def statuses(self, chat_id: str) -> list[str]:
        """The status of every stored user message of the chat, oldest first."""
        rows = await self.app.services.db.fetchall(
            "SELECT m.status FROM messages m JOIN families f ON f.id = m.family_id"
            " WHERE f.platform = 'zalo' AND f.chat_id = ? AND m.role = 'user' ORDER BY m.id",
            (chat_id,),
        )
        return [r["status"] for r in rows]

    async def statuses_become(self, chat_id: str, expected: list[str]) -> None:
        """The stored statuses reach `expected` (the status is written after the send)."""
        deadline = time.monotonic() + 5
        while (got := await self.statuses(chat_id)) != expected:
            assert time.monotonic() < deadline, got
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 5)


def serve_zalo(app: Hearth, api: ZaloApiServer, **kw: Any) -> ZaloRun:
    """Start polling the loopback API with `app`'s settings (`kw`: run_zalo's options)."""
    stop = asyncio.Event()
    kw.setdefault("backoff_s", BACKOFF_S)
    task = asyncio.create_task(run_zalo(app, app.settings, stop, **kw))
    return ZaloRun(api, app, stop, task)
