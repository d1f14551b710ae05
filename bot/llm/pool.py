"""The SDK clients of an endpoint: which transport carries them, and how many there are.

Requests go over `http_lite` (0.70 ms of CPU per chat call instead of 1.07 ms through the
SDK's default transport, 0.80 instead of 1.49 ms with 100 in flight). The SDK's own
transport (httpcore; `HEARTH_HTTP_TRANSPORT=httpx`, and whenever a proxy is configured)
walks every pooled connection each time a request enters or a response closes; with
1,000 in flight that walk cost more than the rest of the call (~4 ms per call), so calls
are spread over several clients, each with its own pool: a call borrows the least busy
one, and a new one is made only when every client has `per_client` calls in flight, so a
quiet bot keeps one client per endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import openai

from bot.core import http_lite
from bot.core.http_lite import http, tls_context

PER_CLIENT = 64  # calls in flight per HTTP pool before another pool is opened
MAX_CLIENTS = 32  # pools per endpoint at most (then the least busy one takes more)
# Idle connections kept per pool after a burst: each holds ~7 KB of heap plus a socket,
# and 1,000 of them would outlive the burst that opened them (the SDK keeps 100 per pool).
KEEPALIVE = 16


def sdk_client(
    base_url: str, api_key: str, timeout_s: float, *, lite: bool = True
) -> openai.AsyncOpenAI:
    """An SDK client with its own connection pool; retries are tenacity's (llm_retry).

    `lite`: carry its requests with `http_lite` (unless a proxy is configured), else with
    the SDK's own transport (`HEARTH_HTTP_TRANSPORT=httpx`).
    """
    # The SDK's aiohttp transport (`openai[aiohttp]`, 1.17 ms per call) made 1 in ~5 full
    # test runs fail (once on an unclosed loopback socket); `http_lite` is cheaper still.
    if lite and http_lite.wanted(base_url):
        pool: Any = openai.DefaultAsyncHttpxClient(
            timeout=timeout_s, transport=http_lite.LiteTransport(tls_context(), KEEPALIVE)
        )
    else:
        limits = http.Limits(max_connections=1000, max_keepalive_connections=KEEPALIVE)
        pool = openai.DefaultAsyncHttpxClient(
            timeout=timeout_s, verify=tls_context(), limits=limits
        )
    return openai.AsyncOpenAI(
        base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout_s, http_client=pool
    )


class ClientShards:
    """The SDK clients of one endpoint, each with its own connection pool."""

    def __init__(
        self,
        make: Callable[[], openai.AsyncOpenAI],
        per_client: int = PER_CLIENT,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self._make = make
        self.per_client = per_client
        self.max_clients = max_clients
        self.clients: list[openai.AsyncOpenAI] = [make()]
        self._busy: list[int] = [0]

    @contextmanager
    def borrow(self) -> Iterator[openai.AsyncOpenAI]:
        """A client for one HTTP attempt: the least busy, or a new one when all are full."""
        busy = self._busy
        i = busy.index(min(busy))
        if busy[i] >= self.per_client and len(busy) < self.max_clients:
            self.clients.append(self._make())
            busy.append(0)
            i = len(busy) - 1
        busy[i] += 1
        try:
            yield self.clients[i]
        finally:
            busy[i] -= 1

    @property
    def in_flight(self) -> int:
        """Calls borrowing a client right now (for tests and the bench)."""
        return sum(self._busy)

    async def aclose(self) -> None:
        """Close every pool."""
        for client in self.clients:
            await client.close()
