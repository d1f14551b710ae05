"""Webhook mode: Zalo POSTs each update to us; a small tornado server checks the secret
header before it reads the body (bot/platforms/webhook_guard.py) and hands the update on.

TLS is the reverse proxy's job: ZALO_WEBHOOK_URL is the public HTTPS address, and
ZALO_WEBHOOK_LISTEN (default 127.0.0.1:8444) is where this server listens behind it.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlparse

from bot.core import bounded_json
from bot.core.errors import ConfigError
from bot.platforms.webhook_guard import GuardedHandler, WebhookServer
from bot.platforms.webhook_guard import parse_listen as parse_any_listen
from bot.platforms.zalo.dispatch import Dispatcher
from bot.platforms.zalo.updates import PLATFORM, unwrap

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_DEPTH = 32  # a Zalo update nests a few levels; deeper is not an update
TOO_DEEP = "nested too deeply"


def parse_listen(listen: str) -> tuple[str, int]:
    """ZALO_WEBHOOK_LISTEN as (host, port)."""
    return parse_any_listen(listen, "ZALO_WEBHOOK_LISTEN", 8444)


def webhook_path(url: str) -> str:
    """The path part of the public webhook URL, which is also the path we serve."""
    return urlparse(url).path or "/"


class _UpdateHandler(GuardedHandler):
    """One update; answered at once, the pipeline works in the background."""

    platform = "Zalo"
    secret_header = SECRET_HEADER

    async def handle_body(self, body: bytes) -> None:
        dispatcher: Dispatcher = self.extra["dispatcher"]
        try:
            update = unwrap(bounded_json.loads(body or b"null", MAX_DEPTH))
        except ValueError:
            return self.refuse(400, "a body that is not JSON")
        if update is None:
            return self.refuse(400, "a body that is not an update")
        if bounded_json.was_cut(update):
            self.refused = True  # logged once, as a dead letter
            await dispatcher.pipeline.dead.drop(PLATFORM, "webhook", TOO_DEEP)
            self.set_status(400)
            self.finish({"ok": False, "error_code": 400})
            return
        await dispatcher.submit(update)
        self.finish({"ok": True})


async def serve_webhook(
    dispatcher: Dispatcher,
    stop_event: asyncio.Event,
    *,
    url: str,
    secret: str | None,
    listen: str,
    started: asyncio.Future[int] | None = None,
) -> None:
    """Register the webhook with Zalo, serve until stop_event, and leave it registered."""
    if not secret:
        raise ConfigError("ZALO_WEBHOOK_SECRET: required with ZALO_WEBHOOK_URL (8-256 chars)")
    host, port = parse_listen(listen)
    server = WebhookServer(
        webhook_path(url), _UpdateHandler, {"secret": secret, "dispatcher": dispatcher}, host, port
    )
    server.start()
    try:
        await dispatcher.client.set_webhook(url, secret)
        log.info("Zalo webhook registered; listening on %s:%d", server.host, server.port)
        if started is not None and not started.done():
            started.set_result(server.port)
        await stop_event.wait()
    finally:
        await server.stop()
