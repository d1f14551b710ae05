"""PTB's HTTPX request with callers queued in front of the pool, and a lighter way to send.

httpcore rescans every pooled connection (a getpeername + poll per idle one, and a
quadratic idle count) and every queued request each time a request starts or ends. With a
burst of answers in flight that scan cost more CPU than the Bot API calls themselves
(measured: ~9 % of the adapter process at 200 busy chats, pool of 64). A semaphore with
as many slots as connections keeps the pool's queue empty and the pool small.

`LiteBotRequest` sends the Bot API calls without files (nearly all: sendMessage,
editMessageText, sendChatAction...) over `bot.core.http_lite` instead of httpx's client,
the transport the model calls use; uploads, and any proxy setting, keep httpx.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.core import http_lite
from bot.core.http_lite import LiteTransport, http, parsed_url, tls_context

_DEFAULT = type(BaseRequest.DEFAULT_NONE)  # PTB's DefaultValue (its module is private)


class GatedHTTPXRequest(HTTPXRequest):
    """HTTPXRequest that waits for one of `connection_pool_size` slots before it calls httpx."""

    def __init__(self, connection_pool_size: int, **kwargs: Any) -> None:
        super().__init__(connection_pool_size=connection_pool_size, **kwargs)
        self._slots = asyncio.Semaphore(connection_pool_size)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Take a slot (within the pool timeout, as httpx would), then send."""
        await self._take_slot(pool_timeout)
        try:
            timeouts = (read_timeout, write_timeout, connect_timeout, pool_timeout)
            return await self._send(url, method, request_data, *timeouts)
        finally:
            self._slots.release()

    async def _send(
        self, url: str, method: str, request_data: RequestData | None, *timeouts: Any
    ) -> tuple[int, bytes]:
        return await HTTPXRequest.do_request(self, url, method, request_data, *timeouts)

    async def _take_slot(self, pool_timeout: Any) -> None:
        try:
            async with asyncio.timeout(_given(pool_timeout, self._client.timeout.pool)):
                await self._slots.acquire()
        except TimeoutError:
            raise TimedOut(
                "Pool timeout: every connection is busy; the request was not sent."
            ) from None


class LiteBotRequest(GatedHTTPXRequest):
    """GatedHTTPXRequest whose calls without files travel over `http_lite`."""

    def __init__(self, connection_pool_size: int, **kwargs: Any) -> None:
        super().__init__(connection_pool_size=connection_pool_size, **kwargs)
        self._lite = LiteTransport(tls_context(), keepalive=connection_pool_size)
        # proxied (here or by the environment): httpx's job, as the model client decides
        self._direct = kwargs.get("proxy") is None and not http_lite.env_proxied()

    async def _send(
        self, url: str, method: str, request_data: RequestData | None, *timeouts: Any
    ) -> tuple[int, bytes]:
        """Uploads and proxied calls as httpx does; the rest over the light transport."""
        files = request_data is not None and request_data.contains_files
        if files or not self._direct:
            return await super()._send(url, method, request_data, *timeouts)
        if self._client.is_closed:
            raise RuntimeError("This HTTPXRequest is not initialized!")
        read_timeout, write_timeout, connect_timeout, pool_timeout = timeouts
        defaults = self._client.timeout
        limits = {
            "connect": _given(connect_timeout, defaults.connect),
            "read": _given(read_timeout, defaults.read),
            "write": _given(write_timeout, defaults.write),
            "pool": _given(pool_timeout, defaults.pool),
        }
        headers = {"User-Agent": self.USER_AGENT}
        body = b""
        if request_data is not None:
            body = urlencode(request_data.json_parameters).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            request = http.Request(
                method,
                parsed_url(url),
                content=body,
                headers=headers,
                extensions={"timeout": limits},
            )
            response = await self._lite.handle_async_request(request)
            try:
                payload = await response.aread()
            finally:
                await response.aclose()
        except http.TimeoutException as exc:
            raise TimedOut from exc
        except http.HTTPError as exc:
            raise NetworkError(f"httpx.{exc.__class__.__name__}: {exc}") from exc
        return response.status_code, payload

    async def shutdown(self) -> None:
        """Close the light transport's connections with httpx's."""
        await self._lite.aclose()
        await super().shutdown()


def _given(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, _DEFAULT) else value
