"""Streaming answers: one attempt through the SDK's stream, and the handle the caller iterates.

The handle runs the whole endpoint/retry loop in a task and hands text deltas through a
queue, so a stream that breaks can be finished by a plain completion behind the scenes.
An answer is cut, and kept as far as it came, when the call's deadline passes or the text
reaches its cap: a server that trickles or never stops cannot hold a family's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
import openai

from bot.llm.errors import (
    DeadlineExceeded,
    MalformedResponse,
    ResponseTooLarge,
    is_context_too_long,
)

R = TypeVar("R")
MAX_ANSWER_CHARS = 32_000


@dataclass(slots=True)
class AttemptInfo:
    """What one attempt learnt beside its value: the model the server named, and tokens."""

    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    deadline: float = float("inf")  # time.monotonic() by which the whole call must end


@dataclass(frozen=True, slots=True)
class Streamed:
    """One streamed answer: its text, ms to the first delta, and why it was cut (if it was)."""

    text: str
    ttft_ms: int | None
    cut: str | None = None  # "deadline" | "length"


class StreamRejected(MalformedResponse):
    """The server refused the streaming request itself (400): retry without streaming."""


def _delta_of(choice: Any) -> str | None:
    delta = getattr(choice, "delta", None)
    text = getattr(delta, "content", None)
    return text if isinstance(text, str) and text else None


async def stream_attempt(
    client: openai.AsyncOpenAI,
    params: dict[str, Any],
    info: AttemptInfo,
    on_delta: Callable[[str], None],
    *,
    deadline: float,
    max_chars: int = MAX_ANSWER_CHARS,
) -> Streamed:
    """Stream one answer until its finish reason, the deadline or `max_chars`.

    Raises if it ends early with nothing said; once some text came, a deadline or a cap
    keeps what came (marked by `cut`).
    """
    started = time.monotonic()
    parts: list[str] = []
    size = 0
    ttft: int | None = None
    finished = False
    try:
        async with asyncio.timeout(max(deadline - time.monotonic(), 0.0)):
            try:
                stream = await client.chat.completions.create(**params)
            except openai.BadRequestError as exc:
                if is_context_too_long(exc):
                    raise
                raise StreamRejected("stream request rejected") from exc
            async with stream:
                async for chunk in stream:
                    info.model = getattr(chunk, "model", None) or info.model
                    usage = getattr(chunk, "usage", None)
                    if usage is not None:
                        info.prompt_tokens = getattr(usage, "prompt_tokens", None)
                        info.completion_tokens = getattr(usage, "completion_tokens", None)
                    for choice in getattr(chunk, "choices", None) or ():
                        delta = _delta_of(choice)
                        if delta:
                            if ttft is None:
                                ttft = int((time.monotonic() - started) * 1000)
                            delta = delta[: max_chars - size]
                            parts.append(delta)
                            size += len(delta)
                            on_delta(delta)
                        if getattr(choice, "finish_reason", None):
                            finished = True
                    if size >= max_chars:
                        return Streamed("".join(parts), ttft, "length")
    except TimeoutError:
        if parts:
            return Streamed("".join(parts), ttft, "deadline")
        raise DeadlineExceeded("no answer before the deadline") from None
    except ResponseTooLarge:
        if parts:
            return Streamed("".join(parts), ttft, "length")
        raise
    except httpx.HTTPError as exc:
        raise MalformedResponse("stream broke off") from exc
    except (AttributeError, TypeError, ValueError) as exc:
        raise MalformedResponse("stream chunk") from exc
    if not finished:
        raise MalformedResponse("stream ended before its finish reason")
    return Streamed("".join(parts), ttft)


class StreamHandle(Generic[R]):
    """`async for delta in handle` yields text; `handle.result` holds the final answer."""

    def __init__(self, produce: Callable[[Callable[[str], None]], Awaitable[R]]) -> None:
        self._produce = produce
        self._result: R | None = None
        self._started = False
        self._task: asyncio.Task[R] | None = None

    @property
    def result(self) -> R:
        """The final answer; only after the iteration finished."""
        if self._result is None:
            raise RuntimeError("iterate the stream to the end before reading its result")
        return self._result

    async def __aiter__(self) -> AsyncIterator[str]:
        if self._started:
            raise RuntimeError("a stream can be iterated once")
        self._started = True
        queue: asyncio.Queue[str | None] = asyncio.Queue()

        async def run() -> R:
            try:
                return await self._produce(queue.put_nowait)
            finally:
                queue.put_nowait(None)

        self._task = asyncio.create_task(run())
        try:
            while (item := await queue.get()) is not None:
                yield item
            self._result = await self._task
        finally:
            await self.aclose()

    async def collect(self) -> R:
        """Drain the stream (ignoring deltas) and return the final answer."""
        async for _ in self:
            continue
        return self.result

    async def aclose(self) -> None:
        """Stop the work behind an abandoned stream."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
