"""The model client: OpenAI-compatible endpoints tried in order, with retries in one place.

Every HTTP attempt is reported once through `on_call` (the caller stores it in `llm_calls`).
The SDK's own retries are off (`max_retries=0`); tenacity retries connection errors,
timeouts, 429 (honouring Retry-After) and 5xx with jittered exponential back-off inside a
bounded time per endpoint, then the next endpoint is tried. A prompt that does not fit
raises `ContextTooLong` at once so the caller can rebuild it smaller.

Local models (llama.cpp, llama-cpp-python, Ollama): the timeout is per request and the
first request after start may be slow while the model loads, so set `LLM_TIMEOUT_S`
generously (120 s or more on a small CPU). Such servers may report another model name
than the one requested (often the file path) and may omit usage in streams; both are fine.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_random_exponential

from bot.core.config import Endpoint
from bot.core.errors import ContextTooLong, LLMUnavailable
from bot.core.llm_errors import (
    EndpointUnsupported,
    MalformedResponse,
    RetryPolicy,
    is_context_too_long,
    is_retryable,
    is_unsupported,
    retry_after_s,
    short_error,
)
from bot.core.llm_stream import AttemptInfo as _Attempt
from bot.core.llm_stream import StreamHandle, stream_attempt

log = logging.getLogger(__name__)
T = TypeVar("T")
Messages = Sequence[dict[str, Any]]

__all__ = ["CallRecord", "Completion", "LLMClient", "RetryPolicy", "StreamHandle"]


@dataclass(frozen=True, slots=True)
class Completion:
    """A finished answer and where it came from (the label never contains a key)."""

    text: str
    model: str
    endpoint: str
    latency_ms: int
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_ms: int | None = None


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP attempt, for the `llm_calls` table."""

    endpoint: str
    model: str
    purpose: str
    ok: bool
    error: str | None
    latency_ms: int
    prompt_tokens: int | None
    completion_tokens: int | None
    family_id: int | None


Attempt = Callable[[Endpoint, openai.AsyncOpenAI, _Attempt], Awaitable[T]]


def _outcome_error(state: RetryCallState) -> str:
    exc = state.outcome.exception() if state.outcome else None
    return short_error(exc) if exc is not None else "?"


class _OverBudget(stop_base):
    """Stop before a sleep that would carry the endpoint past its time budget."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s

    def __call__(self, retry_state: RetryCallState) -> bool:
        spent = retry_state.seconds_since_start or 0.0
        return spent + retry_state.upcoming_sleep >= self.budget_s


def _ms(since: float) -> int:
    return int((time.monotonic() - since) * 1000)


class LLMClient:
    """All model traffic of the bot: chat, streaming, embeddings and transcription."""

    def __init__(
        self,
        endpoints: Sequence[Endpoint],
        timeout_s: float = 60.0,
        max_total_s: float = 120.0,
        on_call: Callable[[CallRecord], Awaitable[None]] | None = None,
        *,
        retry: RetryPolicy | None = None,
        embedding_model: str | None = None,
        transcription_model: str = "whisper-1",
        default_max_tokens: int | None = 1024,
    ) -> None:
        self.endpoints = tuple(endpoints)
        # Small local models may ramble until their context is full: cap every answer.
        self.default_max_tokens = default_max_tokens
        self._timeout_s = timeout_s
        # One whole attempt always fits in the total budget, however the two are set.
        self.max_total_s = max(max_total_s, timeout_s)
        self._on_call = on_call
        self._retry = retry or RetryPolicy()
        self._embedding_model = embedding_model
        self._transcription_model = transcription_model
        self._unsupported: set[tuple[str, str]] = set()  # (purpose, base_url) that said 404
        self._clients = {
            ep: openai.AsyncOpenAI(
                base_url=ep.base_url,
                api_key=ep.api_key or "not-needed",
                max_retries=0,
                timeout=timeout_s,
            )
            for ep in self.endpoints
        }

    @property
    def configured(self) -> bool:
        """Whether any endpoint exists (else Hearth answers from the knowledge base only)."""
        return bool(self.endpoints)

    @property
    def first_endpoint_is_local(self) -> bool:
        """True when the first endpoint tried is local, so private context stays on the box."""
        return bool(self.endpoints) and self.endpoints[0].local

    @property
    def all_endpoints_local(self) -> bool:
        """True when no fallback can carry the prompt off this machine (privacy: strict)."""
        return bool(self.endpoints) and all(ep.local for ep in self.endpoints)

    @property
    def has_local(self) -> bool:
        """Whether a `local_only=True` call can succeed at all."""
        return any(ep.local for ep in self.endpoints)

    async def aclose(self) -> None:
        """Close the HTTP connection pools."""
        for client in self._clients.values():
            await client.close()

    # -- public calls -------------------------------------------------------------------

    async def complete(
        self,
        messages: Messages,
        *,
        family_id: int | None = None,
        purpose: str = "chat",
        max_tokens: int | None = None,
        local_only: bool = False,
    ) -> Completion:
        """One whole answer, from the first endpoint that gives one."""
        endpoints = self._pick(local_only)
        max_tokens = max_tokens or self.default_max_tokens

        async def attempt(ep: Endpoint, client: openai.AsyncOpenAI, info: _Attempt) -> Completion:
            return await self._complete_once(ep, client, info, messages, max_tokens)

        return await self._run(endpoints, purpose, family_id, attempt)

    def stream(
        self,
        messages: Messages,
        *,
        family_id: int | None = None,
        purpose: str = "chat",
        max_tokens: int | None = None,
        local_only: bool = False,
    ) -> StreamHandle[Completion]:
        """Text deltas as they come; `handle.result` is the full answer after iteration.

        The first attempt streams; if it fails (before or after the first delta) the
        following attempts are plain completions, so `result.text` is always whole.
        """
        endpoints = self._pick(local_only)
        max_tokens = max_tokens or self.default_max_tokens

        async def produce(on_delta: Callable[[str], None]) -> Completion:
            streamed = False

            async def attempt(
                ep: Endpoint, client: openai.AsyncOpenAI, info: _Attempt
            ) -> Completion:
                nonlocal streamed
                if streamed:
                    return await self._complete_once(ep, client, info, messages, max_tokens)
                streamed = True
                started = time.monotonic()
                text, ttft = await stream_attempt(
                    client, ep.model, list(messages), max_tokens, info, on_delta
                )
                return Completion(
                    text,
                    info.model,
                    ep.label,
                    _ms(started),
                    info.prompt_tokens,
                    info.completion_tokens,
                    ttft,
                )

            return await self._run(endpoints, purpose, family_id, attempt)

        return StreamHandle(produce)

    async def embed(
        self, texts: Sequence[str], *, local_only: bool = False
    ) -> list[list[float]] | None:
        """Vectors for `texts`, or None when no endpoint offers embeddings."""
        endpoints = [
            ep
            for ep in self._pick(local_only, allow_empty=True)
            if ("embed", ep.base_url) not in self._unsupported
        ]
        if not endpoints or not texts:
            return None if not endpoints else []

        async def attempt(
            ep: Endpoint, client: openai.AsyncOpenAI, info: _Attempt
        ) -> list[list[float]]:
            resp = await client.embeddings.create(
                model=self._embedding_model or ep.model, input=list(texts)
            )
            try:
                rows = sorted(resp.data, key=lambda d: d.index)
                vectors = [list(map(float, d.embedding)) for d in rows]
            except (AttributeError, TypeError, ValueError) as exc:
                raise MalformedResponse("embedding body") from exc
            if len(vectors) != len(texts):
                raise MalformedResponse("embedding count")
            info.prompt_tokens = getattr(resp.usage, "prompt_tokens", None)
            return vectors

        return await self._run_optional(endpoints, "embed", attempt)

    async def transcribe(
        self, audio: bytes, filename: str, *, local_only: bool = False
    ) -> str | None:
        """Speech to text for a voice message, or None when no endpoint offers it."""
        endpoints = [
            ep
            for ep in self._pick(local_only, allow_empty=True)
            if ("transcribe", ep.base_url) not in self._unsupported
        ]
        if not endpoints:
            return None

        async def attempt(ep: Endpoint, client: openai.AsyncOpenAI, info: _Attempt) -> str:
            resp = await client.audio.transcriptions.create(
                model=self._transcription_model, file=(filename, audio)
            )
            text = resp if isinstance(resp, str) else getattr(resp, "text", None)
            if not isinstance(text, str):
                raise MalformedResponse("transcription body")
            return text.strip()

        return await self._run_optional(endpoints, "transcribe", attempt)

    # -- the machinery ------------------------------------------------------------------

    def _pick(self, local_only: bool, allow_empty: bool = False) -> list[Endpoint]:
        endpoints = [ep for ep in self.endpoints if ep.local or not local_only]
        if not endpoints and not allow_empty:
            what = "local endpoint" if local_only else "endpoint"
            raise LLMUnavailable(f"no {what} configured")
        return endpoints

    async def _complete_once(
        self,
        ep: Endpoint,
        client: openai.AsyncOpenAI,
        info: _Attempt,
        messages: Messages,
        max_tokens: int | None,
    ) -> Completion:
        started = time.monotonic()
        resp = await client.chat.completions.create(
            model=ep.model,
            messages=cast(Any, list(messages)),
            max_tokens=openai.omit if max_tokens is None else max_tokens,
        )
        try:
            text = resp.choices[0].message.content
            model = resp.model
        except (AttributeError, IndexError, TypeError) as exc:
            raise MalformedResponse("completion body") from exc
        if not isinstance(text, str):
            raise MalformedResponse("completion without text")
        usage = getattr(resp, "usage", None)
        info.model = model if isinstance(model, str) and model else ep.model
        info.prompt_tokens = getattr(usage, "prompt_tokens", None)
        info.completion_tokens = getattr(usage, "completion_tokens", None)
        return Completion(
            text, info.model, ep.label, _ms(started), info.prompt_tokens, info.completion_tokens
        )

    async def _run_optional(
        self, endpoints: list[Endpoint], purpose: str, attempt: Attempt[T]
    ) -> T | None:
        """Like `_run`, but an endpoint answering 404 is remembered and skipped next time."""

        async def guarded(ep: Endpoint, client: openai.AsyncOpenAI, info: _Attempt) -> T:
            try:
                return await attempt(ep, client, info)
            except openai.APIStatusError as exc:
                if is_unsupported(exc):
                    self._unsupported.add((purpose, ep.base_url))
                    log.info(
                        "%s: %s not offered (%s); not asking again",
                        ep.label,
                        purpose,
                        short_error(exc),
                    )
                    raise EndpointUnsupported(short_error(exc)) from exc
                raise

        try:
            return await self._run(endpoints, purpose, None, guarded)
        except LLMUnavailable:
            if all((purpose, ep.base_url) in self._unsupported for ep in endpoints):
                return None
            raise

    async def _run(
        self,
        endpoints: Sequence[Endpoint],
        purpose: str,
        family_id: int | None,
        attempt: Attempt[T],
    ) -> T:
        """Try each endpoint in order (with retries) until one answers."""
        deadline = time.monotonic() + self.max_total_s
        last: BaseException | None = None
        for ep in endpoints:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                return await self._with_retries(ep, deadline, purpose, family_id, attempt)
            except ContextTooLong:
                raise
            except (openai.OpenAIError, MalformedResponse, EndpointUnsupported) as exc:
                last = exc
                log.warning(
                    "model endpoint %s failed for %s: %s", ep.label, purpose, short_error(exc)
                )
        reason = short_error(last) if last is not None else "time budget spent"
        raise LLMUnavailable(f"all model endpoints failed (last: {reason})")

    async def _with_retries(
        self,
        ep: Endpoint,
        deadline: float,
        purpose: str,
        family_id: int | None,
        attempt: Attempt[T],
    ) -> T:
        policy = self._retry
        budget_s = min(deadline - time.monotonic(), policy.endpoint_budget_s)
        backoff = wait_random_exponential(
            multiplier=policy.backoff_initial_s, max=policy.backoff_max_s
        )

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            asked = retry_after_s(exc) if exc is not None else None
            if asked is not None:
                return min(asked, policy.retry_after_cap_s)
            return float(backoff(state))

        retrying = AsyncRetrying(
            retry=retry_if_exception(is_retryable),
            stop=stop_any(stop_after_attempt(policy.attempts_per_endpoint), _OverBudget(budget_s)),
            wait=wait,
            reraise=True,
            before_sleep=lambda s: log.info(
                "retrying %s on %s in %.2fs after %s",
                purpose,
                ep.label,
                s.upcoming_sleep,
                _outcome_error(s),
            ),
        )
        async for try_ in retrying:
            with try_:
                return await self._attempt(ep, deadline, purpose, family_id, attempt)
        raise AssertionError("tenacity ended without a result")  # pragma: no cover

    async def _attempt(
        self,
        ep: Endpoint,
        deadline: float,
        purpose: str,
        family_id: int | None,
        attempt: Attempt[T],
    ) -> T:
        """One HTTP call, reported through `on_call` whatever its outcome."""
        info = _Attempt(model=ep.model)
        started = time.monotonic()
        client = self._clients[ep]
        left = deadline - started
        if left < self._timeout_s:  # the last attempt may not outlive the total budget
            client = client.with_options(timeout=max(left, 0.05))
        try:
            try:
                value = await attempt(ep, client, info)
            except json.JSONDecodeError as exc:
                raise MalformedResponse("body is not JSON") from exc
        except asyncio.CancelledError:
            await self._report(ep, purpose, family_id, info, started, "cancelled")
            raise
        except (openai.OpenAIError, MalformedResponse, EndpointUnsupported) as exc:
            if is_context_too_long(exc):
                await self._report(ep, purpose, family_id, info, started, "context_too_long")
                raise ContextTooLong(f"{ep.label}: prompt too long") from exc
            await self._report(ep, purpose, family_id, info, started, short_error(exc))
            raise
        await self._report(ep, purpose, family_id, info, started, None)
        return value

    async def _report(
        self,
        ep: Endpoint,
        purpose: str,
        family_id: int | None,
        info: _Attempt,
        started: float,
        error: str | None,
    ) -> None:
        if self._on_call is None:
            return
        record = CallRecord(
            ep.label,
            info.model,
            purpose,
            error is None,
            error,
            _ms(started),
            info.prompt_tokens,
            info.completion_tokens,
            family_id,
        )
        try:
            await self._on_call(record)
        except Exception:
            log.exception("recording a model call failed")
