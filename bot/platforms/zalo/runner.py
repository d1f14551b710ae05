"""Start the Zalo adapter inside `hearth run`, on the same event loop as Telegram."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from bot.calendar.service import start_reminders, stop_reminders
from bot.core.config import Settings
from bot.core.errors import ConfigError
from bot.platforms.zalo.client import AUTH_CODES, ZaloApiError, ZaloClient
from bot.platforms.zalo.dispatch import Dispatcher
from bot.platforms.zalo.polling import ensure_polling_allowed, run_polling, wait_or_stop
from bot.platforms.zalo.updates import PLATFORM, BotIdentity
from bot.platforms.zalo.webhook import serve_webhook

log = logging.getLogger(__name__)


async def identify(client: ZaloClient, stop_event: asyncio.Event) -> BotIdentity | None:
    """getMe until it works: a refused token is a config error, an outage is waited out."""
    attempt = 0
    while not stop_event.is_set():
        try:
            me = await client.get_me()
        except ZaloApiError as exc:
            if exc.code in AUTH_CODES:
                raise ConfigError(
                    f"ZALO_BOT_TOKEN: Zalo refused the token ({exc.code} {exc.description})"
                ) from None
            log.warning("Zalo getMe: %s %s", exc.code, exc.description)
        except httpx.TransportError as exc:
            log.warning("Zalo getMe: %s", type(exc).__name__)
        else:
            keys = ("display_name", "name", "account_name")
            names = tuple(str(me[k]) for k in keys if isinstance(me.get(k), str) and me[k])
            return BotIdentity(id=str(me.get("id") or ""), names=names)
        attempt += 1
        if await wait_or_stop(stop_event, min(60.0, 2.0**attempt)):
            break
    return None


async def resume(pipeline: Any, dispatcher: Dispatcher) -> None:
    """Answer what a crash left unanswered (the pipeline closes each outbox it used)."""
    count = await pipeline.resume_pending(PLATFORM, dispatcher.outbox_for, dispatcher.fetch_for)
    if count:
        log.info("Zalo: answered %s messages left pending", count)


async def run_zalo(
    app: Any,
    settings: Settings,
    stop_event: asyncio.Event,
    *,
    http: httpx.AsyncClient | None = None,
    webhook_started: asyncio.Future[int] | None = None,
    backoff_s: float = 1.0,
    typing_every_s: float = 4.0,
) -> None:
    """Serve Zalo (long polling, or a webhook when ZALO_WEBHOOK_URL is set) until stop."""
    if not settings.zalo_token:
        raise ConfigError("ZALO_BOT_TOKEN: not set")
    client = ZaloClient(
        settings.zalo_token, settings.zalo_api_base_url, http=http, backoff_s=backoff_s
    )
    try:
        bot = await identify(client, stop_event)
        if bot is None:
            return
        log.info("Zalo bot %r connected", bot.name or bot.id)
        dispatcher = Dispatcher(app.pipeline, client, bot, typing_every_s=typing_every_s)
        await resume(app.pipeline, dispatcher)
        reminders = start_reminders(app, PLATFORM, dispatcher.outbox_for, stop_event)
        try:
            if settings.zalo_webhook_url:
                await serve_webhook(
                    dispatcher,
                    stop_event,
                    url=settings.zalo_webhook_url,
                    secret=settings.zalo_webhook_secret,
                    listen=settings.zalo_webhook_listen,
                    started=webhook_started,
                )
            else:
                await ensure_polling_allowed(client)
                await run_polling(client, dispatcher, stop_event, backoff_s=backoff_s)
        finally:
            await stop_reminders(reminders, stop_event)
            await dispatcher.drain()
    finally:
        await client.aclose()
