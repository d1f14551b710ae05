"""Telegram webhook mode without PTB's own webhook server.

python-telegram-bot's `Updater.start_webhook` serves with tornado's defaults: the whole body
(up to 100 MB) is read before its handler compares the secret token, and it offers no cap
on the body. Here a GuardedHandler (bot/platforms/webhook_guard.py) refuses on the headers,
caps the body at 1 MB, reads the JSON to a bounded depth, and hands the Update to the
Application through its public `update_queue`, exactly where the Updater would put it;
`setWebhook` is called through the public Bot API. TLS is the reverse proxy's job:
TELEGRAM_WEBHOOK_LISTEN (default 127.0.0.1:8443) is where this server listens behind it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

from telegram import Update
from telegram.ext import Application

from bot.core import bounded_json
from bot.platforms.telegram_updates import MAX_UPDATE_DEPTH, TOO_DEEP, OnDropped
from bot.platforms.webhook_guard import GuardedHandler, WebhookServer, parse_listen

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class _UpdateHandler(GuardedHandler):
    """One update into the Application's queue; Telegram gets its 200 at once."""

    platform = "Telegram"
    secret_header = SECRET_HEADER

    async def handle_body(self, body: bytes) -> None:
        application: Application[Any, Any, Any, Any, Any, Any] = self.extra["ptb_app"]
        on_dropped: OnDropped | None = self.extra["on_dropped"]
        try:
            data = bounded_json.loads(body, MAX_UPDATE_DEPTH)
        except ValueError:
            return self.refuse(400, "a body that is not JSON")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return self.refuse(400, "a body that is not an update")
        if bounded_json.was_cut(data):  # Telegram would send it again on anything but 200
            self.refused = True
            if on_dropped is not None:
                on_dropped(str(data["update_id"]), TOO_DEEP)
            self.finish()
            return
        try:
            update = Update.de_json(data, application.bot)
        except (TypeError, ValueError, KeyError) as exc:
            return self.refuse(400, f"an update that cannot be read ({type(exc).__name__})")
        await application.update_queue.put(update)
        self.finish()


async def start_webhook(
    application: Application[Any, Any, Any, Any, Any, Any],
    *,
    url: str,
    secret: str,
    listen: str,
    allowed_updates: list[str],
    on_dropped: OnDropped | None = None,
) -> WebhookServer:
    """Listen on TELEGRAM_WEBHOOK_LISTEN, then tell Telegram where to POST (setWebhook)."""
    host, port = parse_listen(listen, "TELEGRAM_WEBHOOK_LISTEN", 8443)
    path = "/" + urlparse(url).path.lstrip("/")
    server = WebhookServer(
        path,
        _UpdateHandler,
        {"secret": secret, "ptb_app": application, "on_dropped": on_dropped},
        host,
        port,
    )
    server.start()
    try:
        await application.bot.set_webhook(
            url=url, secret_token=secret, allowed_updates=allowed_updates
        )
    except BaseException:
        await server.stop()
        raise
    return server
