"""Streaming answers: one SSE attempt, and the handle the caller iterates.

The handle runs the whole endpoint/retry loop in a task and hands text deltas through a
queue, so a stream that breaks can be finished by a plain completion behind the scenes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import openai

from bot.core.llm_errors import MalformedResponse, is_context_too_long
from bot.core.llm_post import post_json
from bot.core.llm_sse import sse_chunks
from bot.core.llm_wire import CHAT_PATH, chat_body, model_of, usage_of

R = TypeVar("R")


@dataclass(slots=True)
class AttemptInfo:
    """What one attempt learnt beside its value: the model the server named, and tokens."""

    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class StreamRejected(MalformedResponse):
    """The server refused the streaming request itself (400): retry without streaming."""


async def stream_attempt(
    client: openai.AsyncOpenAI,
    model: str,
    messages: list[dict[str, Any]],
    max_tokens: int | None,
    info: AttemptInfo,
    on_delta: Callable[[str], None],
) -> tuple[str, int | None]:
    """Stream one answer; returns (full text, ms to first delta). Raises if it ends early."""
    started = time.monotonic()
    try:
        response = await post_json(
            client, CHAT_PATH, chat_body(model, messages, max_tokens, stream=True), stream=True
        )
    except openai.BadRequestError as exc:
        if is_context_too_long(exc):
            raise
        raise StreamRejected("stream request rejected") from exc
    parts: list[str] = []
    ttft: int | None = None
    finished = False
    try:
        async for chunk in sse_chunks(response):
            if not isinstance(chunk, dict):
                raise MalformedResponse("stream chunk")
            info.model = model_of(chunk) or info.model
            if chunk.get("usage") is not None:
                info.prompt_tokens, info.completion_tokens = usage_of(chunk)
            for choice in chunk.get("choices") or ():
                delta = (choice.get("delta") or {}).get("content")
                if isinstance(delta, str) and delta:
                    if ttft is None:
                        ttft = int((time.monotonic() - started) * 1000)
                    parts.append(delta)
                    on_delta(delta)
                if choice.get("finish_reason"):
                    finished = True
    except (json.JSONDecodeError, AttributeError, TypeError) as exc:
        raise MalformedResponse("stream chunk") from exc
    finally:
        await response.aclose()
    if not finished:
        raise MalformedResponse("stream ended before its finish reason")
    return "".join(parts), ttft


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
