"""EmbedBatcher when the embeddings request fails or is cancelled: nobody waits forever.

A failed request hands its error to every question it carried, and to no other; the
questions queued behind it go out in the next request; a cancelled request (shutdown)
cancels every question still waiting; the batcher serves new questions afterwards.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from knowledge.embed_batch import EmbedBatcher

WAIT_S = 5.0  # a bound on a test that would otherwise hang, not a timing expectation


class Endpoint:
    """A scripted embeddings endpoint: the first request waits for `release`, then fails
    with `error` (when set); later requests answer one row per text."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        self.calls: list[list[str]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.sender: asyncio.Task[object] | None = None

    async def __call__(self, texts: list[str]) -> np.ndarray | None:
        self.calls.append(list(texts))
        if len(self.calls) == 1:
            self.sender = asyncio.current_task()
            self.started.set()
            await self.release.wait()
            if self.error is not None:
                raise self.error
        return np.asarray([[float(len(self.calls)), float(len(t))] for t in texts])


async def _queued(batcher: EmbedBatcher, text: str) -> asyncio.Task[np.ndarray | None]:
    """A question asked now; returns once it is queued (its task ran up to its wait)."""
    task = asyncio.create_task(batcher.one(text))
    await asyncio.sleep(0)  # one loop step: the task appends itself, then waits
    return task


async def test_a_failed_request_fails_its_own_questions_only() -> None:
    endpoint = Endpoint(ConnectionError("embeddings endpoint went away"))
    batcher = EmbedBatcher(endpoint, max_batch=2)
    first = [asyncio.create_task(batcher.one(t)) for t in ("cá kho", "canh chua")]
    await endpoint.started.wait()  # the first request is in flight with both
    behind = [await _queued(batcher, t) for t in ("phở", "bún chả", "xôi")]
    endpoint.release.set()
    done = await asyncio.wait_for(asyncio.gather(*first, return_exceptions=True), WAIT_S)
    assert [type(r) for r in done] == [ConnectionError, ConnectionError]
    assert done[0] is done[1]  # the endpoint's own error, handed to each
    rows = await asyncio.wait_for(asyncio.gather(*behind), WAIT_S)
    assert endpoint.calls == [["cá kho", "canh chua"], ["phở", "bún chả"], ["xôi"]]
    assert [r.tolist() for r in rows if r is not None] == [[[2.0, 3.0]], [[2.0, 7.0]], [[3.0, 3.0]]]
    again = await asyncio.wait_for(batcher.one("chè"), WAIT_S)
    assert again is not None and again.tolist() == [[4.0, 3.0]]


async def test_a_cancelled_request_cancels_every_waiting_question() -> None:
    endpoint = Endpoint()
    batcher = EmbedBatcher(endpoint, max_batch=1)
    in_flight = asyncio.create_task(batcher.one("cá kho"))
    await endpoint.started.wait()
    queued = await _queued(batcher, "canh chua")
    assert endpoint.sender is not None
    endpoint.sender.cancel()  # what a shutdown does to the request's task
    results = await asyncio.wait_for(
        asyncio.gather(in_flight, queued, return_exceptions=True), WAIT_S
    )
    assert all(isinstance(r, asyncio.CancelledError) for r in results), results
    assert in_flight.cancelled() and queued.cancelled()
    assert endpoint.calls == [["cá kho"]]
    row = await asyncio.wait_for(batcher.one("phở"), WAIT_S)  # a new sender serves it
    assert row is not None and row.tolist() == [[2.0, 3.0]]


async def test_a_question_cancelled_while_queued_is_not_sent() -> None:
    endpoint = Endpoint()
    batcher = EmbedBatcher(endpoint, max_batch=4)
    first = asyncio.create_task(batcher.one("cá kho"))
    await endpoint.started.wait()
    gone, kept = await _queued(batcher, "hỏi rồi thôi"), await _queued(batcher, "phở")
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    endpoint.release.set()
    assert (await asyncio.wait_for(first, WAIT_S)) is not None
    assert (await asyncio.wait_for(kept, WAIT_S)) is not None
    assert endpoint.calls == [["cá kho"], ["phở"]]
