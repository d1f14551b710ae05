"""The adapter's HTTP requests against the loopback Bot API: a bounded pool, queued callers,
and the light transport for calls without files."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.platforms.telegram_http import GatedHTTPXRequest, LiteBotRequest
from tests.servers.telegram_api import TOKEN, FakeTelegram

BOTH = pytest.mark.parametrize("kind", [GatedHTTPXRequest, LiteBotRequest])


@BOTH
async def test_callers_beyond_the_pool_wait_their_turn_and_all_get_answers(
    telegram_api: tuple[FakeTelegram, str, str], kind: type[GatedHTTPXRequest]
) -> None:
    fake, base, file_base = telegram_api
    request = kind(connection_pool_size=2, pool_timeout=10.0)
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


@BOTH
async def test_waiting_longer_than_the_pool_timeout_is_a_timeout_not_a_hang(
    telegram_api: tuple[FakeTelegram, str, str], kind: type[GatedHTTPXRequest]
) -> None:
    fake, base, file_base = telegram_api
    request = kind(connection_pool_size=1, pool_timeout=0.1)
    async with Bot(TOKEN, base_url=base, base_file_url=file_base, request=request) as bot:
        fake.slow_next("getMe", 0.6)
        slow = asyncio.create_task(bot.get_me())
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await bot.get_me()
        assert (await slow).username  # the call that held the connection still completes
        assert (await bot.get_me()).username  # and its slot was given back


async def test_the_light_transport_carries_messages_and_keeps_one_connection(
    telegram_api: tuple[FakeTelegram, str, str],
) -> None:
    fake, base, file_base = telegram_api
    request = LiteBotRequest(connection_pool_size=4, read_timeout=5.0)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("👍 Hữu ích", callback_data="h:1")]])
    async with Bot(TOKEN, base_url=base, base_file_url=file_base, request=request) as bot:
        for i in range(10):
            await bot.send_message(
                -100 - i, f"<b>Cá kho tộ</b> &amp; nước màu {i}", parse_mode="HTML",
                reply_markup=keyboard,
            )  # fmt: skip
        assert request._lite.connections == 1
        doc = await bot.send_document(-100, b"title,body\n", filename="kb.csv", caption="xuất")
        assert doc.caption == "xuất"
        assert request._lite.connections == 1  # the upload went through httpx
    assert request._lite.connections == 0  # closed with the bot
    stored = fake.bot_messages(-103)[0]
    assert stored.text == "<b>Cá kho tộ</b> &amp; nước màu 3" and stored.parse_mode == "HTML"
    assert stored.reply_markup == keyboard.to_dict()
    assert fake.bot_messages(-100)[-1].document is not None


async def test_the_light_transport_reports_errors_as_ptb_does(
    telegram_api: tuple[FakeTelegram, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as the adapter does
    fake, base, file_base = telegram_api
    request = LiteBotRequest(connection_pool_size=2, read_timeout=0.3)
    async with Bot(TOKEN, base_url=base, base_file_url=file_base, request=request) as bot:
        fake.fail_next("sendMessage", 400, None, description="Bad Request: chat not found")
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(5, "x")
        fake.fail_next("sendMessage", 429, retry_after=3)
        with pytest.raises(RetryAfter):
            await bot.send_message(5, "x")
        fake.slow_next("sendMessage", 0.8)
        with pytest.raises(TimedOut):
            await bot.send_message(5, "slow")
        assert (await bot.send_message(5, "again")).text == "again"
    dead = LiteBotRequest(connection_pool_size=1, connect_timeout=1.0)
    with pytest.raises(NetworkError, match="cannot connect"):
        async with Bot(TOKEN, base_url="http://127.0.0.1:9/bot", request=dead):
            pass  # initialising asks getMe
    assert dead._lite.connections == 0
