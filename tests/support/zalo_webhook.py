"""Hearth's Zalo adapter in webhook mode on a real SQLite file, against the loopback Zalo API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.app import Hearth, build
from bot.platforms.zalo import run_zalo
from tests.conftest import make_settings
from tests.servers.zalo_api import ZaloApiServer
from tests.support.net import free_port

SECRET = "family-secret-123"
SECRET_HEADER = "X-Bot-Api-Secret-Token"


@dataclass
class ZaloWebhook:
    """The running app and the URL Zalo would POST updates to."""

    app: Hearth
    url: str
    port: int


@asynccontextmanager
async def zalo_webhook(
    tmp_path: Path, api: ZaloApiServer, *, secret: str = SECRET, **env: str
) -> AsyncIterator[ZaloWebhook]:
    """Start `run_zalo` with a webhook on a free 127.0.0.1 port (it must report that port);
    stop it and close the app."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/zalo/hook"
    settings = make_settings(
        tmp_path,
        ZALO_BOT_TOKEN=api.token,
        ZALO_API_BASE_URL=api.base_url,
        ZALO_WEBHOOK_URL=url,
        ZALO_WEBHOOK_SECRET=secret,
        ZALO_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        **env,
    )
    app = await build(settings)
    stop = asyncio.Event()
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_zalo(app, settings, stop, webhook_started=started))
    try:
        assert await asyncio.wait_for(started, 5) == port
        yield ZaloWebhook(app, url, port)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
        await app.aclose()
