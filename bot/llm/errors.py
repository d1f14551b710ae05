"""How the model client reads failures: which to retry, how long to wait, what to log.

Kept apart from the client so the retry policy can be read (and tested) in one screen.
"""

from __future__ import annotations

import email.utils
import re
import time
from dataclasses import dataclass

import openai

# Texts real servers use when a prompt does not fit: OpenAI / vLLM / llama-cpp-python
# ("This model's maximum context length is N tokens ..."), llama.cpp's own server
# ("the request exceeds the available context size"), older llama.cpp ("input is larger than
# the max context size"), llama-cpp-python's low-level error ("Requested tokens (N) exceed
# context window of M") and Anthropic-style gateways ("prompt is too long").
CONTEXT_PATTERNS = re.compile(
    r"maximum context length|context_length_exceeded|exceeds? the available context size"
    r"|exceed_context_size|larger than the max context size|exceed context window"
    r"|context window of \d+|prompt is too long|too many tokens",
    re.IGNORECASE,
)
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Back-off settings; production defaults, tests pass tiny ones."""

    attempts_per_endpoint: int = 3
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 8.0
    retry_after_cap_s: float = 20.0
    endpoint_budget_s: float = 60.0
    loading_poll_s: float = 2.0  # llama.cpp answers 503 "Loading model" while it starts


class MalformedResponse(Exception):
    """The server answered 200 with something that is not a usable completion."""


class EndpointUnsupported(Exception):
    """The endpoint does not offer this kind of call (embeddings, transcription)."""


class DeadlineExceeded(Exception):
    """The call's total time (`LLM_MAX_TOTAL_S`) ran out before an answer arrived whole:
    a server that trickles is cut off instead of holding the family's queue."""


class ResponseTooLarge(Exception):
    """A response passed the byte cap: a server that streams without end is cut off
    instead of filling memory."""


# What one attempt may fail with, short of a bug: the runner logs it and moves on.
CALL_ERRORS = (
    openai.OpenAIError,
    MalformedResponse,
    EndpointUnsupported,
    DeadlineExceeded,
    ResponseTooLarge,
)


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of an API error, if it has one."""
    return exc.status_code if isinstance(exc, openai.APIStatusError) else None


def is_retryable(exc: BaseException) -> bool:
    """Connection trouble, timeouts, 429, 5xx and broken bodies are worth another try."""
    if isinstance(exc, openai.APIConnectionError | MalformedResponse):
        return True
    code = status_of(exc)
    if code is not None:
        return code in RETRYABLE_STATUS or code >= 500
    # An error event inside an SSE stream (no status): the server hiccuped mid-answer.
    return isinstance(exc, openai.APIError)


def error_text(exc: BaseException) -> str:
    """The message and error code inside an API error body, for pattern matching only."""
    parts = [str(getattr(exc, "message", "") or "")]
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            parts += [str(inner.get(k) or "") for k in ("message", "type", "code")]
        elif isinstance(inner, str):
            parts.append(inner)
    return " ".join(parts)


def is_context_too_long(exc: BaseException) -> bool:
    """A 400/413 (or a 500 from llama.cpp) whose text says the prompt does not fit."""
    code = status_of(exc)
    if code not in (400, 413, 422, 500):
        return False
    return bool(CONTEXT_PATTERNS.search(error_text(exc)))


def is_loading(exc: BaseException) -> bool:
    """llama.cpp's server says 503 "Loading model" until the weights are in memory."""
    return status_of(exc) == 503 and "loading" in error_text(exc).lower()


def is_unsupported(exc: BaseException) -> bool:
    """404/405/501, or a server that says it was not started with embeddings."""
    code = status_of(exc)
    if code in (404, 405, 501):
        return True
    return code in (400, 500) and "embedding" in error_text(exc).lower()


def short_error(exc: BaseException) -> str:
    """A log-safe summary: class and status only, never a body (bodies can echo keys)."""
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    if isinstance(exc, MalformedResponse):
        return "malformed"
    if isinstance(exc, DeadlineExceeded):
        return "deadline"
    if isinstance(exc, ResponseTooLarge):
        return "too_large"
    code = status_of(exc)
    if code is not None:
        return f"http_{code}"
    return type(exc).__name__


def _number(raw: str | None) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


def retry_after_s(exc: BaseException, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, `Retry-After` secs or date)."""
    if not isinstance(exc, openai.APIStatusError):
        return None
    headers = exc.response.headers
    millis = _number(headers.get("retry-after-ms"))
    if millis is not None:
        return max(0.0, millis / 1000.0)
    raw = headers.get("retry-after")
    seconds = _number(raw)
    if seconds is not None:
        return max(0.0, seconds)
    if not raw:
        return None
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))
