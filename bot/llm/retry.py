"""Retries and fallback over endpoints: the one place where model calls are retried.

tenacity retries connection errors, timeouts, 429 (honouring Retry-After, capped) and 5xx
with jittered exponential back-off inside a bounded time per endpoint; 400/401/403/404 are
not retried; then the next endpoint is tried. Every HTTP attempt is reported once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_any,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_random_exponential

from bot.core.config import Endpoint
from bot.core.errors import ContextTooLong, LLMUnavailable
from bot.llm.errors import (
    CALL_ERRORS,
    DeadlineExceeded,
    EndpointUnsupported,
    MalformedResponse,
    RetryPolicy,
    is_context_too_long,
    is_loading,
    is_retryable,
    is_unsupported,
    retry_after_s,
    short_error,
)
from bot.llm.stream import AttemptInfo

log = logging.getLogger("bot.llm")
DEADLINE_GRACE_S = 0.25
T = TypeVar("T")


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


Attempt = Callable[[Endpoint, openai.AsyncOpenAI, AttemptInfo], Awaitable[T]]


class _AttemptsUnlessLoading(stop_base):
    """Stop after N attempts, but keep polling (within the budget) while the model loads."""

    def __init__(self, attempts: int) -> None:
        self.attempts = attempts

    def __call__(self, retry_state: RetryCallState) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if exc is not None and is_loading(exc):
            return False
        return retry_state.attempt_number >= self.attempts


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


def ms(since: float) -> int:
    return int((time.monotonic() - since) * 1000)


class EndpointRunner:
    """Runs one kind of call over endpoints in order, with retries, budgets and reports."""

    def __init__(
        self,
        clients: dict[Endpoint, openai.AsyncOpenAI],
        timeout_s: float,
        max_total_s: float,
        on_call: Callable[[CallRecord], Awaitable[None]] | None,
        retry: RetryPolicy,
    ) -> None:
        self._clients = clients
        self._timeout_s = timeout_s
        self.max_total_s = max_total_s
        self._on_call = on_call
        self._retry = retry
        self.unsupported: set[tuple[str, str]] = set()  # (purpose, base_url) that said 404

    async def run_optional(
        self,
        endpoints: list[Endpoint],
        purpose: str,
        attempt: Attempt[T],
        family_id: int | None = None,
    ) -> T | None:
        """Like `run`, but an endpoint answering 404 is remembered and skipped next time."""

        async def guarded(ep: Endpoint, client: openai.AsyncOpenAI, info: AttemptInfo) -> T:
            try:
                return await attempt(ep, client, info)
            except openai.APIStatusError as exc:
                if is_unsupported(exc):
                    self.unsupported.add((purpose, ep.base_url))
                    log.info(
                        "%s: %s not offered (%s); not asking again",
                        ep.label,
                        purpose,
                        short_error(exc),
                    )
                    raise EndpointUnsupported(short_error(exc)) from exc
                raise

        try:
            return await self.run(endpoints, purpose, family_id, guarded)
        except LLMUnavailable:
            if all((purpose, ep.base_url) in self.unsupported for ep in endpoints):
                return None
            raise

    async def run(
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
            except CALL_ERRORS as exc:
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
            if exc is not None and is_loading(exc):
                return policy.loading_poll_s
            return float(backoff(state))

        retrying = AsyncRetrying(
            retry=retry_if_exception(is_retryable),
            stop=stop_any(
                _AttemptsUnlessLoading(policy.attempts_per_endpoint), _OverBudget(budget_s)
            ),
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
        """One HTTP call, reported through `on_call` whatever its outcome.

        The call may not outlive the deadline of the whole call: a server that trickles
        bytes (each read within its timeout) is cut off there all the same.
        """
        info = AttemptInfo(model=ep.model, deadline=deadline)
        started = time.monotonic()
        left = deadline - started
        client = self._clients[ep]
        if left < self._timeout_s:  # the last attempt may not outlive the budget
            client = client.with_options(timeout=max(left, 0.05))
        try:
            try:
                # a stream keeps what came at the deadline itself; this is the backstop
                async with asyncio.timeout(max(left, 0.0) + DEADLINE_GRACE_S):
                    value = await attempt(ep, client, info)
            except TimeoutError:
                raise DeadlineExceeded("the call's time ran out") from None
            except json.JSONDecodeError as exc:
                raise MalformedResponse("body is not JSON") from exc
        except asyncio.CancelledError:
            await self._report(ep, purpose, family_id, info, started, "cancelled")
            raise
        except CALL_ERRORS as exc:
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
        info: AttemptInfo,
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
            ms(started),
            info.prompt_tokens,
            info.completion_tokens,
            family_id,
        )
        try:
            await self._on_call(record)
        except Exception:
            log.exception("recording a model call failed")
