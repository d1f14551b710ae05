"""Messenger faults on the Telegram adapter (real Application, loopback Bot API)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests import faults
from tests.servers.openai_server import OpenAIServer
from tests.servers.telegram_api import FakeTelegram
from tests.support.telegram import TelegramRun as Bot
from tests.support.telegram import start_telegram

ANSWER = "Fake answer about:"
CHAT = 4242


@pytest.fixture
async def bot(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str], openai_server: OpenAIServer
) -> AsyncIterator[Bot]:
    running = await start_telegram(
        tmp_path, telegram_api, grace_s=5, LLM_BASE_URL=openai_server.base_url, LLM_MODEL="m"
    )
    await running.polling()
    try:
        yield running
    finally:
        await running.close()


async def _answered(bot: Bot, n: int = 1) -> None:
    for _ in range(250):
        if await bot.statuses() == ["answered"] * n:
            return
        await asyncio.sleep(0.02)
    assert await bot.statuses() == ["answered"] * n


async def test_telegram_429_retry_after_on_send(bot: Bot, request: pytest.FixtureRequest) -> None:
    bot.fake.fail_next("sendMessage", 429, retry_after=1, times=1)
    bot.fake.push_message(CHAT, "Làm cá kho thế nào?")
    texts = await bot.bot_texts(CHAT, 2, seconds=15)
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
    await bot.bot_texts(CHAT, 2)
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
