"""The Zalo client against the loopback Zalo Bot API (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from bot.platforms.zalo.client import ZaloApiError, ZaloClient
from tests.servers.zalo_api import ZaloApiServer, running_zalo_api


@pytest.fixture
def zalo_api() -> Iterator[ZaloApiServer]:
    with running_zalo_api(long_poll_cap_s=0.3) as api:
        yield api


@pytest.fixture
async def client(zalo_api: ZaloApiServer) -> AsyncIterator[ZaloClient]:
    c = ZaloClient(zalo_api.token, zalo_api.base_url, backoff_s=0.01, max_backoff_s=0.05)
    yield c
    await c.aclose()


async def test_get_me_and_a_wrong_token(client: ZaloClient, zalo_api: ZaloApiServer) -> None:
    me = await client.get_me()
    assert me["id"] == "1459232241454765289"
    assert me["account_name"] == "Hearth"
    bad = ZaloClient("123:wrong-secret-xx", zalo_api.base_url, backoff_s=0.01)
    try:
        with pytest.raises(ZaloApiError) as info:
            await bad.get_me()
        assert info.value.code == 401
        assert "wrong-secret" not in str(info.value)
        assert "wrong-secret" not in repr(bad)
    finally:
        await bad.aclose()


async def test_get_updates_returns_one_update_per_call_then_408_as_none(
    client: ZaloClient, zalo_api: ZaloApiServer
) -> None:
    first = zalo_api.push_text("Hôm nay nấu gì?")
    second = zalo_api.push_text("Còn mai?")
    got1 = await client.get_updates(timeout_s=5)
    got2 = await client.get_updates(timeout_s=5)
    assert got1 == first and got2 == second
    assert isinstance(got1["message"]["message_id"], str)
    assert got1["message"]["date"] > 10**12  # milliseconds
    started = time.monotonic()
    assert await client.get_updates(timeout_s=5) is None
    assert time.monotonic() - started >= 0.25  # the server held the long poll first


async def test_long_poll_wakes_when_an_update_arrives(
    zalo_api: ZaloApiServer,
) -> None:
    zalo_api.state.long_poll_cap_s = 5.0
    c = ZaloClient(zalo_api.token, zalo_api.base_url)
    try:
        poll = asyncio.create_task(c.get_updates(timeout_s=5))
        await asyncio.sleep(0.2)
        update = zalo_api.push_text("ơi")
        started = time.monotonic()
        assert await poll == update
        assert time.monotonic() - started < 2
    finally:
        await c.aclose()


async def test_send_message_and_the_2000_character_limit(
    client: ZaloClient, zalo_api: ZaloApiServer
) -> None:
    message_id = await client.send_message("chat-9", "a" * 2000)
    assert isinstance(message_id, str) and message_id
    with pytest.raises(ZaloApiError) as info:
        await client.send_message("chat-9", "a" * 2001)
    assert info.value.code == 400
    assert [m["message_id"] for m in zalo_api.sent_to("chat-9")] == [message_id]


async def test_429_is_waited_out_and_5xx_retried(
    client: ZaloClient, zalo_api: ZaloApiServer
) -> None:
    zalo_api.fail_next("sendMessage", 429, times=2)
    zalo_api.fail_next("sendMessage", 502, times=1, description="Bad Gateway")
    await client.send_message("chat-1", "xin chào")
    assert len(zalo_api.calls_of("sendMessage")) == 4
    assert [m["text"] for m in zalo_api.sent_to("chat-1")] == ["xin chào"]


async def test_retry_after_is_honoured(zalo_api: ZaloApiServer) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    c = ZaloClient(zalo_api.token, zalo_api.base_url, sleep=record)
    try:
        zalo_api.fail_next("sendMessage", 429, retry_after=3)
        await c.send_message("chat-1", "ok")
    finally:
        await c.aclose()
    assert waits == [3.0]


async def test_gives_up_after_max_attempts_and_never_retries_400(
    client: ZaloClient, zalo_api: ZaloApiServer
) -> None:
    zalo_api.fail_next("sendMessage", 429, times=10)
    with pytest.raises(ZaloApiError) as info:
        await client.send_message("chat-1", "x")
    assert info.value.code == 429
    assert len(zalo_api.calls_of("sendMessage")) == client.max_attempts
    zalo_api.state.failures.clear()
    zalo_api.fail_next("sendMessage", 403, description="Forbidden")
    with pytest.raises(ZaloApiError):
        await client.send_message("chat-1", "x")
    assert len(zalo_api.calls_of("sendMessage")) == client.max_attempts + 1


async def test_network_errors_are_retried_then_raised() -> None:
    attempts = 0

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.ConnectError("connection refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    c = ZaloClient("1:abcdefghij", "http://127.0.0.1:9/bot", http=http, backoff_s=0.001)
    try:
        with pytest.raises(httpx.ConnectError):
            await c.send_message("c", "x")
    finally:
        await http.aclose()
    assert attempts == c.max_attempts


async def test_webhook_methods_and_getupdates_conflict(
    client: ZaloClient, zalo_api: ZaloApiServer
) -> None:
    await client.set_webhook("https://bot.example.org/zalo", "s3cret-token")
    assert (await client.get_webhook_info())["url"] == "https://bot.example.org/zalo"
    with pytest.raises(ZaloApiError) as info:
        await client.get_updates(timeout_s=1)
    assert info.value.code == 400
    await client.delete_webhook()
    assert (await client.get_webhook_info())["url"] == ""
    with pytest.raises(ZaloApiError):
        await client.set_webhook("https://bot.example.org/zalo", "short")


async def test_chat_action_photo_and_sticker(client: ZaloClient, zalo_api: ZaloApiServer) -> None:
    await client.send_chat_action("chat-2")
    assert zalo_api.calls_of("sendChatAction") == [{"chat_id": "chat-2", "action": "typing"}]
    assert await client.send_photo("chat-2", "https://placehold.co/600x400", "ảnh")
    assert await client.send_sticker("chat-2", "0e078a2fb66a5f34067b")
    assert [m["method"] for m in zalo_api.sent_to("chat-2")] == ["sendPhoto", "sendSticker"]
