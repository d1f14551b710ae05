"""Messenger faults on the Telegram adapter (real Application, loopback Bot API)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import Hearth, build
from bot.core.config import Settings
from bot.platforms.telegram import run_telegram
from tests import faults
from tests.conftest import make_settings
from tests.servers.openai_server import OpenAIServer, running_openai_server
from tests.servers.telegram_api import TOKEN, FakeTelegram, running_telegram

ANSWER = "Fake answer about:"
CHAT = 4242


@dataclass
class Bot:
    fake: FakeTelegram
    hearth: Hearth
    settings: Settings
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def texts(self, chat_id: int, count: int, seconds: float = 10) -> list[str]:
        await self.fake.until(lambda: len(self.fake.bot_messages(chat_id)) >= count, seconds)
        return [m.text for m in self.fake.bot_messages(chat_id)]

    async def statuses(self) -> list[str]:
        rows = await self.hearth.services.db.fetchall(
            "SELECT status FROM messages WHERE role = 'user' ORDER BY id"
        )
        return [r["status"] for r in rows]


@pytest.fixture
def served() -> Iterator[tuple[FakeTelegram, str, str]]:
    with running_telegram() as triple:
        yield triple


@pytest.fixture
def model() -> Iterator[OpenAIServer]:
    with running_openai_server() as server:
        yield server


@pytest.fixture
async def bot(
    tmp_path: Path, served: tuple[FakeTelegram, str, str], model: OpenAIServer
) -> AsyncIterator[Bot]:
    fake, base, file_base = served
    settings = make_settings(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=base,
        TELEGRAM_API_BASE_FILE_URL=file_base,
        LLM_BASE_URL=model.base_url,
        LLM_MODEL="m",
    )
    hearth = await build(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(run_telegram(hearth, settings, stop, grace_s=5))
    await fake.until(lambda: bool(fake.sent("getUpdates")) or task.done())
    if task.done():
        task.result()
    try:
        running = Bot(fake, hearth, settings, stop, task)
        yield running
    finally:
        running.stop.set()
        await asyncio.wait_for(running.task, 15)
        await hearth.aclose()


async def _answered(bot: Bot, n: int = 1) -> None:
    for _ in range(250):
        if await bot.statuses() == ["answered"] * n:
            return
        await asyncio.sleep(0.02)
    assert await bot.statuses() == ["answered"] * n


async def test_telegram_429_retry_after_on_send(bot: Bot, request: pytest.FixtureRequest) -> None:
    bot.fake.fail_next("sendMessage", 429, retry_after=1, times=1)
    bot.fake.push_message(CHAT, "Làm cá kho thế nào?")
    texts = await bot.texts(CHAT, 2, seconds=15)
    await _answered(bot)
    assert sum(ANSWER in t for t in texts) == 1
    faults.record(
        request,
        "messenger 429 RetryAfter / flood wait (Telegram)",
        "the answer, after the wait Telegram asked for",
        "stored, answered",
        "nothing left to do",
    )


async def test_telegram_5xx_on_send_is_retried(bot: Bot, request: pytest.FixtureRequest) -> None:
    bot.fake.fail_next("sendMessage", 502, retry_after=None, times=1, description="Bad Gateway")
    bot.fake.push_message(CHAT, "How do I cook rice?", language_code="en")
    await bot.texts(CHAT, 2)
    await _answered(bot)
    await asyncio.sleep(0.3)
    texts = [m.text for m in bot.fake.bot_messages(CHAT)]
    assert sum(ANSWER in t for t in texts) == 1, texts
    faults.record(
        request,
        "messenger 5xx on send (Telegram)",
        "the answer after a retry",
        "stored, answered",
        "nothing left to do",
    )
