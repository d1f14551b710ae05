"""Long polling for Zalo: one update per call, 408 means "nothing yet", errors back off."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx

from bot.platforms.zalo.client import AUTH_CODES, ZaloApiError, ZaloClient, backoff_delay
from bot.platforms.zalo.dispatch import Dispatcher

log = logging.getLogger(__name__)

QUICK_EMPTY_S = 0.1
IDLE_PAUSE_S = 1.0


async def wait_or_stop(stop_event: asyncio.Event, seconds: float) -> bool:
    """Sleep, but wake at once when asked to stop; True when stopping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop_event.wait(), timeout=max(0.0, seconds))
    return stop_event.is_set()


async def _next_update(
    client: ZaloClient, stop_event: asyncio.Event, timeout_s: float
) -> tuple[bool, dict[str, Any] | None]:
    """One long poll that a stop request interrupts; (stopping, update)."""
    poll = asyncio.ensure_future(client.get_updates(timeout_s))
    stop = asyncio.ensure_future(stop_event.wait())
    try:
        await asyncio.wait({poll, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        if not poll.done():
            poll.cancel()
    if not poll.done() or poll.cancelled():
        with contextlib.suppress(asyncio.CancelledError):
            await poll
        return True, None
    return False, poll.result()


async def ensure_polling_allowed(client: ZaloClient) -> None:
    """getUpdates stops working once a webhook is set, so remove a leftover one."""
    info = await client.get_webhook_info()
    if info.get("url"):
        log.warning("Zalo: a webhook was set; deleting it to use long polling")
        await client.delete_webhook()


async def run_polling(
    client: ZaloClient,
    dispatcher: Dispatcher,
    stop_event: asyncio.Event,
    *,
    poll_timeout_s: float = 30.0,
    backoff_s: float = 1.0,
    max_backoff_s: float = 60.0,
) -> None:
    """Fetch and dispatch updates until stop_event is set; never raises on API errors."""
    failures = 0
    loop = asyncio.get_running_loop()
    while not stop_event.is_set():
        started = loop.time()
        try:
            stopping, update = await _next_update(client, stop_event, poll_timeout_s)
        except ZaloApiError as exc:
            if exc.code in AUTH_CODES:
                log.error(
                    "Zalo getUpdates refused (%s %s): check ZALO_BOT_TOKEN and that no "
                    "webhook is set",
                    exc.code,
                    exc.description,
                )
                delay = max_backoff_s
            else:
                delay = exc.retry_after or backoff_delay(failures, backoff_s, max_backoff_s)
                log.warning(
                    "Zalo getUpdates: %s %s; waiting %.1fs", exc.code, exc.description, delay
                )
            failures += 1
            if await wait_or_stop(stop_event, min(delay, max_backoff_s)):
                break
            continue
        except httpx.TransportError as exc:
            delay = backoff_delay(failures, backoff_s, max_backoff_s)
            log.warning("Zalo getUpdates: %s; waiting %.1fs", type(exc).__name__, delay)
            failures += 1
            if await wait_or_stop(stop_event, delay):
                break
            continue
        if stopping:
            break
        failures = 0
        if update is not None:
            await dispatcher.submit(update)
        elif loop.time() - started < QUICK_EMPTY_S and await wait_or_stop(stop_event, IDLE_PAUSE_S):
            break  # an "empty" answer that did not wait: do not spin on it
