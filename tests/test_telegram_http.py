"""The adapter's gated HTTP request against the loopback Bot API: a bounded pool, queued callers."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot
from telegram.error import TimedOut

from bot.platforms.telegram_http import GatedHTTPXRequest
from tests.servers.telegram_api import TOKEN, FakeTelegram


async def test_callers_beyond_the_pool_wait_their_turn_and_all_get_answers(
    telegram_api: tuple[FakeTelegram, str, str],
) -> None:
    fake, base, file_base = telegram_api
    request = GatedHTTPXRequest(connection_pool_size=2, pool_timeout=10.0)
    async with Bot(TOKEN, base_url=base, base_file_url=file_base, request=request) as bot:
        fake.slow_next("getMe", 0.3, times=4)
        before = len(fake.sent("getMe"))
        users = await asyncio.gather(*(bot.get_me() for _ in range(4)))
    assert all(u.username for u in users)
    calls = fake.sent("getMe")[before:]
    assert len(calls) == 4
    # Two connections: the third and fourth call reach the server only once one is free.
    assert calls[2].at - calls[0].at >= 0.25
    assert calls[1].at - calls[0].at < 0.25


async def test_waiting_longer_than_the_pool_timeout_is_a_timeout_not_a_hang(
    telegram_api: tuple[FakeTelegram, str, str],
) -> None:
    fake, base, file_base = telegram_api
    request = GatedHTTPXRequest(connection_pool_size=1, pool_timeout=0.1)
    async with Bot(TOKEN, base_url=base, base_file_url=file_base, request=request) as bot:
        fake.slow_next("getMe", 0.6)
        slow = asyncio.create_task(bot.get_me())
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await bot.get_me()
        assert (await slow).username  # the call that held the connection still completes
        assert (await bot.get_me()).username  # and its slot was given back
