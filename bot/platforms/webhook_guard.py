"""A webhook endpoint that says no before it reads: the secret header is checked when the
headers arrive, the body is capped while it streams in, and a refusal is one log line.

tornado (installed with python-telegram-bot's webhooks extra) reads a whole body — up to
100 MB by default — before a handler's `post` runs; with `stream_request_body` the handler's
`prepare` sees the headers first, so a forged or oversized request is answered at once and
its body never read.
"""

from __future__ import annotations

import hmac
import logging
import socket
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.core.errors import ConfigError

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # a Telegram or Zalo update is a few kilobytes


def parse_listen(listen: str, variable: str, default_port: int) -> tuple[str, int]:
    """'host:port' or '[v6]:port' → (host, port); an empty host is 127.0.0.1 (behind a
    reverse proxy); a bad value names the variable."""
    host, sep, port = listen.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{variable}: {listen!r} should look like 127.0.0.1:{default_port}")
    return host.strip("[]") or "127.0.0.1", int(port)


@tornado.web.stream_request_body
class GuardedHandler(tornado.web.RequestHandler):
    """POST with a secret header; subclasses implement `handle_body` (what to do with a
    body that passed the checks) and set `platform` and `secret_header`."""

    platform = ""
    secret_header = ""

    def initialize(self, secret: str, max_bytes: int = MAX_BODY_BYTES, **extra: Any) -> None:
        self.secret = secret.encode("utf-8")
        self.max_bytes = max_bytes
        self.extra = extra
        self.chunks: list[bytes] = []
        self.size = 0
        self.refused = False

    def check_xsrf_cookie(self) -> None:
        """Bots authenticate with the secret header, not cookies."""

    def refuse(self, status: int, why: str) -> None:
        """Answer now with one log line; the rest of the body is never read."""
        log.warning(
            "%s webhook: %d, %s (from %s)", self.platform, status, why, self.request.remote_ip
        )
        self.refused = True
        self.set_status(status)
        self.finish({"ok": False, "error_code": status})

    def prepare(self) -> None:
        if self.request.method != "POST":
            return self.refuse(405, "not a POST")
        given = self.request.headers.get(self.secret_header, "").encode("utf-8")
        if not hmac.compare_digest(given, self.secret):
            return self.refuse(403, "wrong or missing secret")
        length = self.request.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            return self.refuse(413, f"a body of {length} bytes")
        return None

    def data_received(self, chunk: bytes) -> None:
        if self.refused:
            return
        self.size += len(chunk)
        if self.size > self.max_bytes:  # a chunked body with no Content-Length
            self.chunks = []
            self.refuse(413, f"a body over {self.max_bytes} bytes")
            return
        self.chunks.append(chunk)

    async def post(self) -> None:
        if self.refused:
            return
        await self.handle_body(b"".join(self.chunks))

    async def handle_body(self, body: bytes) -> None:
        """What a checked body does (subclasses)."""
        raise NotImplementedError


def _access_log(handler: tornado.web.RequestHandler) -> None:
    """Refusals are logged once, by the handler with their reason; each request's access
    line only at DEBUG (tornado's default logs every 4xx again as a warning)."""
    status = handler.get_status()
    log.log(
        logging.ERROR if status >= 500 else logging.DEBUG, "%d %s", status, handler.request.method
    )


class WebhookServer:
    """One path served by a GuardedHandler subclass; `port` is known after start (0 works)."""

    def __init__(
        self, path: str, handler: type[GuardedHandler], kwargs: dict[str, Any], host: str, port: int
    ) -> None:
        self.host, self.port = host, port
        app = tornado.web.Application([(path, handler, kwargs)], log_function=_access_log)
        # the cap tornado enforces too (it checks streamed bodies against it as well)
        self._server = tornado.httpserver.HTTPServer(
            app, max_body_size=int(kwargs.get("max_bytes", MAX_BODY_BYTES)) + 1
        )
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
