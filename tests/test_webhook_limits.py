"""Webhooks say no before they read: the secret is checked on the headers, the body is capped
(1 MB), the default listen address is 127.0.0.1, and a malformed body gets 400 and one log
line — for Telegram (the real PTB Application) and Zalo alike."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.core.config import load_settings
from tests.servers.telegram_api import FakeTelegram
from tests.servers.zalo_api import ZaloApiServer
from tests.support.net import free_port
from tests.support.telegram import start_telegram
from tests.support.zalo_webhook import SECRET, zalo_webhook

TG_SECRET = "s3cret-token"
TG_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ZALO_HEADER = "X-Bot-Api-Secret-Token"
HUGE = 90 * 1024 * 1024


async def _status_before_the_body(port: int, path: str, headers: dict[str, str]) -> int | None:
    """Send only the headers of a POST announcing HUGE bytes; the status the server answers
    with before any body byte was sent (None: it waited for the body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"POST {path} HTTP/1.1\r\nHost: hearth\r\nContent-Type: application/json\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(f"{head}Content-Length: {HUGE}\r\n\r\n".encode())
    await writer.drain()
    try:
        line = await asyncio.wait_for(reader.readline(), 3)
    except TimeoutError:
        return None
    finally:
        writer.close()
    return int(line.split()[1]) if line else None


async def _post(port: int, path: str, body: bytes, headers: dict[str, str]) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"POST {path} HTTP/1.1\r\nHost: hearth\r\nContent-Type: application/json\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(f"{head}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    return int(line.split()[1])


@asynccontextmanager
async def _telegram_webhook(
    tmp_path: Path, served: tuple[FakeTelegram, str, str]
) -> AsyncIterator[int]:
    port = free_port()
    running = await start_telegram(
        tmp_path,
        served,
        TELEGRAM_RATE_LIMIT="off",
        TELEGRAM_WEBHOOK_URL=f"https://hearth.example/tg/{port}",
        TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
        TELEGRAM_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
    )
    try:
        await running.fake.until(
            lambda: bool(running.fake.webhook.get("url")) or running.task.done()
        )
        for _ in range(100):  # setWebhook may come before the server listens
            try:
                await _post(port, "/", b"", {})
                break
            except OSError:
                await asyncio.sleep(0.05)
        yield port
    finally:
        await running.close()


async def test_item_h_telegram_webhook_refuses_before_reading_the_body(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Item H: a wrong secret gets 403 and a body over 1 MB 413 on the headers alone (PTB's
    webhook read up to 100 MB first); a malformed body 400 and one log line. (A good update
    through this server is answered: test_telegram_adapter's webhook test.)"""
    async with _telegram_webhook(tmp_path, telegram_api) as port:
        path = f"/tg/{port}"
        assert await _status_before_the_body(port, path, {TG_HEADER: "wrong"}) == 403
        assert await _status_before_the_body(port, path, {}) == 403
        assert await _status_before_the_body(port, path, {TG_HEADER: TG_SECRET}) == 413
        caplog.clear()
        caplog.set_level(logging.WARNING)
        assert await _post(port, path, b"{not json", {TG_HEADER: TG_SECRET}) == 400
        lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(lines) == 1 and lines[0].exc_info is None, [r.getMessage() for r in lines]


async def test_item_h_zalo_webhook_refuses_before_reading_and_answers_junk_with_400(
    tmp_path: Path, zalo_api: ZaloApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Item H: the Zalo webhook checks its secret on the headers (403 with the body unsent),
    caps the body at 1 MB (413), and answers each malformed body 400 with one log line."""
    async with zalo_webhook(tmp_path, zalo_api) as hook:
        path = "/zalo/hook"
        assert await _status_before_the_body(hook.port, path, {ZALO_HEADER: "wrong"}) == 403
        assert await _status_before_the_body(hook.port, path, {ZALO_HEADER: SECRET}) == 413
        for junk in (b"{not json", b"\xff\xfe\x00", b"[1, 2]", b'"text"', b"null", b""):
            caplog.clear()
            caplog.set_level(logging.WARNING)
            assert await _post(hook.port, path, junk, {ZALO_HEADER: SECRET}) == 400, junk
            lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
            assert len(lines) == 1 and lines[0].exc_info is None, (junk, lines)


def test_item_h_webhooks_listen_on_loopback_unless_told() -> None:
    """Item H: behind a reverse proxy by default — TELEGRAM_WEBHOOK_LISTEN and
    ZALO_WEBHOOK_LISTEN default to 127.0.0.1 (they were 0.0.0.0, every interface)."""
    settings = load_settings(
        {
            "TELEGRAM_WEBHOOK_URL": "https://hearth.example/tg",
            "TELEGRAM_WEBHOOK_SECRET": "s3cret",
            "ZALO_WEBHOOK_URL": "https://hearth.example/zalo",
        },
        dotenv=None,
    )
    assert settings.telegram_webhook_listen == "127.0.0.1:8443"
    assert settings.zalo_webhook_listen == "127.0.0.1:8444"
