"""Webhook mode: Zalo POSTs each update to us; a small tornado server (already installed
with python-telegram-bot's webhooks extra) checks the secret header and hands it on.

TLS is the reverse proxy's job: ZALO_WEBHOOK_URL is the public HTTPS address, and
ZALO_WEBHOOK_LISTEN is where this server listens behind it.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import socket
from urllib.parse import urlparse

import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.core import bounded_json
from bot.core.errors import ConfigError
from bot.platforms.zalo.dispatch import Dispatcher
from bot.platforms.zalo.updates import PLATFORM, unwrap

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32  # a Zalo update nests a few levels; deeper is not an update
TOO_DEEP = "nested too deeply"


def parse_listen(listen: str) -> tuple[str, int]:
    """'host:port' or '[v6]:port' → (host, port); a bad value names the variable."""
    host, sep, port = listen.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"ZALO_WEBHOOK_LISTEN: {listen!r} should look like 0.0.0.0:8444")
    return host.strip("[]") or "0.0.0.0", int(port)


def webhook_path(url: str) -> str:
    """The path part of the public webhook URL, which is also the path we serve."""
    return urlparse(url).path or "/"


class _UpdateHandler(tornado.web.RequestHandler):
    """POST one update; answer at once and let the pipeline work in the background."""

    def initialize(self, secret: str, dispatcher: Dispatcher) -> None:
        self.secret = secret.encode("utf-8")
        self.dispatcher = dispatcher

    def check_xsrf_cookie(self) -> None:
        """Bots authenticate with the secret header, not cookies."""

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, self.secret):
            log.warning("Zalo webhook: request with a wrong secret from %s", self.request.remote_ip)
            self.set_status(403)
            self.finish({"ok": False, "error_code": 403, "description": "Forbidden"})
            return
        try:
            body = bounded_json.loads(self.request.body or b"null", MAX_DEPTH)
        except ValueError:
            log.warning("Zalo webhook: a body that is not JSON from %s", self.request.remote_ip)
            return self._bad_request()
        update = unwrap(body)
        if update is None:
            log.warning(
                "Zalo webhook: a body that is not an update from %s", self.request.remote_ip
            )
            return self._bad_request()
        if bounded_json.was_cut(update):
            await self.dispatcher.pipeline.dead.drop(PLATFORM, "webhook", TOO_DEEP)
            return self._bad_request()
        await self.dispatcher.submit(update)
        self.finish({"ok": True})

    def _bad_request(self) -> None:
        self.set_status(400)
        self.finish({"ok": False, "error_code": 400, "description": "Bad Request"})


def _access_log(handler: tornado.web.RequestHandler) -> None:
    """Refusals are logged once, by the handler, with their reason; the access line of every
    request only at DEBUG (tornado's default logs each 4xx again as a warning)."""
    status = handler.get_status()
    level = logging.ERROR if status >= 500 else logging.DEBUG
    log.log(level, "%d %s", status, handler.request.method)


class WebhookServer:
    """The listening side of webhook mode; `port` is known after start (port 0 works)."""

    def __init__(self, dispatcher: Dispatcher, secret: str, path: str, listen: str) -> None:
        self.host, self.port = parse_listen(listen)
        app = tornado.web.Application(
            [(path, _UpdateHandler, {"secret": secret, "dispatcher": dispatcher})],
            log_function=_access_log,
        )
        self._server = tornado.httpserver.HTTPServer(app, max_body_size=MAX_BODY_BYTES)
        self._sockets: list[socket.socket] = []

    def start(self) -> None:
        """Bind and start serving on the current event loop."""
        self._sockets = tornado.netutil.bind_sockets(self.port, self.host)
        self.port = self._sockets[0].getsockname()[1]
        self._server.add_sockets(self._sockets)

    async def stop(self) -> None:
        """Stop accepting and close open connections."""
        self._server.stop()
        await self._server.close_all_connections()


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
    server = WebhookServer(dispatcher, secret, webhook_path(url), listen)
    server.start()
    try:
        await dispatcher.client.set_webhook(url, secret)
        log.info("Zalo webhook registered; listening on %s:%d", server.host, server.port)
        if started is not None and not started.done():
            started.set_result(server.port)
        await stop_event.wait()
    finally:
        await server.stop()
