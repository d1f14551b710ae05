"""Zalo long polling when getUpdates fails: run_zalo in-process, the real pipeline on a SQLite
file, the loopback Zalo Bot API (and, for network faults, an httpx transport in front of it).

Server errors and a proxy's HTML page back off, longer each time and from the start again
after a poll that worked; Retry-After is obeyed; network errors are waited out; a token
refused while running is logged as a setting to check (never the token itself) and waited
on; a stop request ends any of those waits at once. Nothing raises out of the adapter and
the message that was waiting is answered once polling works again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bot.app import Hearth, build
from tests.servers.zalo_api import ZaloApiServer
from tests.support.zalo import BACKOFF_S, serve_zalo, zalo_settings

WAIT_S = 10.0  # bounds a test that would otherwise hang, not a timing expectation


class PollLog(logging.Handler):
    """The polling loop's log records, and a way to wait for the one a test expects."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.changed.set()  # the loop logs on the event loop's thread

    def waits(self, what: str) -> list[float]:
        """The back-off delays logged for getUpdates failures whose text has `what`."""
        return [
            float(r.args[-1])  # type: ignore[arg-type]
            for r in self.records
            if what in r.getMessage() and "waiting" in str(r.msg) and isinstance(r.args, tuple)
        ]

    async def until(self, done: Callable[[], bool]) -> None:
        async def watch() -> None:
            while not done():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(watch(), WAIT_S)


@pytest.fixture
def poll_log() -> Iterator[PollLog]:
    handler = PollLog()
    logger = logging.getLogger("bot.platforms.zalo.polling")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.fixture
async def app(tmp_path: Path, zalo_api: ZaloApiServer) -> AsyncIterator[Hearth]:
    hearth = await build(zalo_settings(tmp_path, zalo_api))
    yield hearth
    await hearth.aclose()


async def test_server_errors_back_off_longer_each_time_then_from_the_start(
    app: Hearth, zalo_api: ZaloApiServer, poll_log: PollLog
) -> None:
    zalo_api.fail_next("getUpdates", 502, times=3, description="Bad Gateway")
    zalo_api.push_text("/remember Ông thích trà sen", chat_id="p1")
    run = serve_zalo(app, zalo_api)
    try:
        texts = await run.sent("p1", 2)
        assert texts[-1] == "Đã ghi nhớ: Ông thích trà sen"
        first = poll_log.waits("502 Bad Gateway")
        assert len(first) == 3 and first[0] < first[1] < first[2], first
        assert BACKOFF_S * 0.8 <= first[0] <= BACKOFF_S * 1.2
        # a poll worked (the update came): the next failure starts from the base again
        zalo_api.fail_next("getUpdates", 500, times=1, description="Internal Server Error")
        await poll_log.until(lambda: bool(poll_log.waits("500 Internal Server Error")))
        [again] = poll_log.waits("500 Internal Server Error")
        assert BACKOFF_S * 0.8 <= again <= BACKOFF_S * 1.2, again
        zalo_api.push_text("/remember Bà thích chè", chat_id="p1")
        assert (await run.sent("p1", 3))[-1] == "Đã ghi nhớ: Bà thích chè"
        assert not run.task.done()
    finally:
        await run.close()
    assert len(zalo_api.sent_to("p1")) == 3


async def test_retry_after_from_zalo_is_obeyed(
    app: Hearth, zalo_api: ZaloApiServer, poll_log: PollLog
) -> None:
    zalo_api.fail_next("getUpdates", 429, times=1, retry_after=1)
    zalo_api.push_text("/remember Mẹ dậy sớm", chat_id="p2")
    run = serve_zalo(app, zalo_api)
    try:
        assert (await run.sent("p2", 2))[-1] == "Đã ghi nhớ: Mẹ dậy sớm"
    finally:
        await run.close()
    assert poll_log.waits("429 Too Many Requests") == [1.0]  # Zalo's number, not a back-off


class FlakyPolls(httpx.AsyncBaseTransport):
    """The network in front of the loopback API: the first getUpdates calls get `faults`
    (an exception raised, or a response returned instead of Zalo's)."""

    def __init__(self, faults: list[Exception | httpx.Response]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.faults = faults

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/getUpdates") and self.faults:
            fault = self.faults.pop(0)
            if isinstance(fault, Exception):
                raise fault
            return fault
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_network_errors_and_a_proxy_error_page_are_waited_out(
    app: Hearth, zalo_api: ZaloApiServer, poll_log: PollLog
) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    transport = FlakyPolls(
        [
            httpx.ConnectError("connection refused"),
            httpx.ReadError("connection reset by peer"),
            httpx.Response(502, text=page, headers={"Content-Type": "text/html"}),
        ]
    )
    zalo_api.push_text("/remember Nhà có bếp củi", chat_id="p3")
    async with httpx.AsyncClient(transport=transport) as http:
        run = serve_zalo(app, zalo_api, http=http)
        try:
            assert (await run.sent("p3", 2))[-1] == "Đã ghi nhớ: Nhà có bếp củi"
        finally:
            await run.close()
    assert transport.faults == []
    assert len(poll_log.waits("ConnectError")) == 1
    assert len(poll_log.waits("ReadError")) == 1
    assert len(poll_log.waits(f"502 non-JSON reply ({len(page)} bytes)")) == 1
    assert len(zalo_api.sent_to("p3")) == 2


async def test_a_token_refused_while_running_is_logged_and_a_stop_ends_the_wait(
    app: Hearth, zalo_api: ZaloApiServer, poll_log: PollLog
) -> None:
    zalo_api.fail_next("getUpdates", 401, times=100, description="Unauthorized")
    run = serve_zalo(app, zalo_api)
    try:
        await poll_log.until(lambda: any(r.levelno == logging.ERROR for r in poll_log.records))
        assert not run.task.done()  # the adapter stays up: the token may be fixed in Zalo
        # no hammering with a refused token: not even a second poll in 20 base back-offs
        with pytest.raises(TimeoutError):
            await asyncio.to_thread(zalo_api.wait_for_call, "getUpdates", 2, BACKOFF_S * 20)
    finally:
        await run.close()  # within 5 s, though the refusal's wait is a minute
    [error] = [r for r in poll_log.records if r.levelno == logging.ERROR]
    assert "401" in error.getMessage() and "ZALO_BOT_TOKEN" in error.getMessage()
    assert all(zalo_api.token not in r.getMessage() for r in poll_log.records)
    assert len(zalo_api.calls_of("getUpdates")) == 1  # refused once, then waited
