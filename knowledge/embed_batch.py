"""Query embeddings of questions asked at the same time go to the endpoint as one request.

Every question's knowledge search embeds the question: an HTTP request of its own that
cost as much CPU as the answer's. While one embedding request is in flight, the questions
that arrive queue up, and the next request carries all of them (up to MAX_BATCH): a lone
question waits for nothing extra, and a burst of 1,000 costs tens of requests, not 1,000.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import numpy as np

MAX_BATCH = 64  # texts per request (endpoints accept far more; this bounds one body)

EmbedRows = Callable[[list[str]], Awaitable[np.ndarray | None]]


class EmbedBatcher:
    """`await one(text)` → that text's row of a (possibly shared) embedding request."""

    def __init__(self, embed: EmbedRows, max_batch: int = MAX_BATCH) -> None:
        self._embed = embed
        self.max_batch = max_batch
        self._queue: list[tuple[str, asyncio.Future[np.ndarray | None]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def one(self, text: str) -> np.ndarray | None:
        """The text's embedding as a 1×dim matrix, or None when the endpoint gave none."""
        future: asyncio.Future[np.ndarray | None] = asyncio.get_running_loop().create_future()
        self._queue.append((text, future))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_all())
        return await future

    async def _send_all(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                batch = [(t, f) for t, f in batch if not f.done()]  # cancelled meanwhile
                if batch:
                    await self._send(batch)
        finally:
            self._sender = None

    async def _send(self, batch: list[tuple[str, asyncio.Future[np.ndarray | None]]]) -> None:
        try:
            mat = await self._embed([text for text, _ in batch])
        except Exception as exc:  # handed to each waiting question, never swallowed
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:  # cancelled (shutdown): nobody may wait forever
            for _, future in batch + self._queue:
                future.cancel()
            raise
        for i, (_, future) in enumerate(batch):
            if not future.done():
                future.set_result(None if mat is None else mat[i : i + 1].copy())  # own memory
