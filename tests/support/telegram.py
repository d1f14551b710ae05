"""Hearth's Telegram adapter (the real PTB Application) running in the test's event loop
against the loopback Bot API, with what the tests read back from it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app import Hearth, build
from bot.core.config import Settings
from bot.platforms.telegram import run_telegram
from tests.conftest import make_settings
from tests.servers.telegram_api import TOKEN, FakeTelegram


@dataclass
class TelegramRun:
    """One `run_telegram` task on a Hearth of its own; `close()` stops it and the app."""

    fake: FakeTelegram
    hearth: Hearth
    settings: Settings
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def polling(self) -> None:
        """Until the adapter polls; an adapter that failed to start raises its error here."""
        await self.fake.until(lambda: bool(self.fake.sent("getUpdates")) or self.task.done())
        if self.task.done():
            self.task.result()

    async def bot_texts(self, chat_id: int, count: int, seconds: float = 10.0) -> list[str]:
        """The bot's messages in a chat, once there are at least `count`."""
        await self.fake.until(lambda: len(self.fake.bot_messages(chat_id)) >= count, seconds)
        return [m.text for m in self.fake.bot_messages(chat_id)]

    async def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.hearth.services.db.fetchall(sql, params)]

    async def wait_rows(self, sql: str, *params: Any, expect: list[dict[str, Any]]) -> None:
        """Poll the database until a query returns what is expected (writes land after sends)."""
        for _ in range(200):
            rows = await self.rows(sql, *params)
            if rows == expect:
                return
            await asyncio.sleep(0.02)
        assert rows == expect

    async def statuses(self) -> list[str]:
        """The status of every stored user message, oldest first."""
        rows = await self.rows("SELECT status FROM messages WHERE role = 'user' ORDER BY id")
        return [r["status"] for r in rows]

    async def close(self) -> None:
        self.stop.set()
        try:
            await asyncio.wait_for(self.task, 15)
        finally:
            await self.hearth.aclose()


def telegram_settings(
    tmp_path: Path, served: tuple[FakeTelegram, str, str], **env: str
) -> Settings:
    """Settings on tmp_path that point the bot at the loopback Bot API (`telegram_api`)."""
    _, base, file_base = served
    return make_settings(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=base,
        TELEGRAM_API_BASE_FILE_URL=file_base,
        **env,
    )


async def start_telegram(
    tmp_path: Path, served: tuple[FakeTelegram, str, str], grace_s: float = 10.0, **env: str
) -> TelegramRun:
    """Build Hearth on tmp_path with the loopback Bot API's URLs and start its adapter."""
    settings = telegram_settings(tmp_path, served, **env)
    hearth = await build(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(run_telegram(hearth, settings, stop, grace_s=grace_s))
    return TelegramRun(served[0], hearth, settings, stop, task)
