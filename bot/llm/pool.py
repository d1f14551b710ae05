"""The SDK client of an endpoint: `openai.AsyncOpenAI` over httpx, with a cap on what it reads.

One client (one connection pool) per endpoint. The SDK's own retries are off
(`max_retries=0`): tenacity owns them (bot/llm/retry.py). Timeouts are httpx's: connect,
write and each read within `timeout_s`. A response body may not pass `max_response_bytes`:
the cap sits in the transport, below the SDK, so it holds for JSON answers, streams and
embeddings alike, whatever the server sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import openai

from bot.llm.errors import ResponseTooLarge

# Idle connections kept after a burst; a family bot has a handful of answers in flight.
KEEPALIVE = 16
MAX_CONNECTIONS = 256
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


class _CappedStream(httpx.AsyncByteStream):
    """A response body that raises once more than `cap` bytes came through."""

    def __init__(self, inner: httpx.AsyncByteStream, cap: int) -> None:
        self._inner = inner
        self._cap = cap

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._cap:
                raise ResponseTooLarge(f"response passed {self._cap} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class CappedTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, each response body wrapped in `_CappedStream`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, cap: int) -> None:
        self._inner = inner
        self._cap = cap

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the inner transport; hand back its response with a capped body."""
        response = await self._inner.handle_async_request(request)
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CappedStream(stream, self._cap),
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def sdk_client(
    base_url: str,
    api_key: str,
    timeout_s: float,
    *,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> openai.AsyncOpenAI:
    """An SDK client with its own pool and no SDK retries; bodies capped in the transport."""
    limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=KEEPALIVE)
    transport = CappedTransport(httpx.AsyncHTTPTransport(limits=limits), max_response_bytes)
    http_client = openai.DefaultAsyncHttpxClient(
        timeout=httpx.Timeout(timeout_s), transport=transport
    )
    return openai.AsyncOpenAI(
        base_url=base_url,
        api_key=api_key,
        max_retries=0,
        timeout=httpx.Timeout(timeout_s),
        http_client=http_client,
    )
