"""The model client: OpenAI-compatible endpoints tried in order, with retries in one place.

Every HTTP attempt is reported once through `on_call` (the caller stores it in `llm_calls`).
Calls go through `openai.AsyncOpenAI`'s public resource methods. The SDK's own retries are
off (`max_retries=0`); tenacity retries connection errors,
timeouts, 429 (honouring Retry-After) and 5xx with jittered exponential back-off inside a
bounded time per endpoint, then the next endpoint is tried. A prompt that does not fit
raises `ContextTooLong` at once so the caller can rebuild it smaller.

Local models (llama.cpp, llama-cpp-python, Ollama): the timeout is per request and the
first request after start may be slow while the model loads, so set `LLM_TIMEOUT_S`
generously (180 s or more on a small CPU), and `LLM_MAX_TOTAL_S` above it: it bounds a
whole call over retries and endpoints, streaming included: a streamed answer still coming
then is kept as far as it came and marked (`Completion.cut`). Answers are capped too
(`max_tokens` asked, and at most MAX_ANSWER_CHARS kept whatever the server sends). Such servers may
report another model name than the one requested (often the file path) and may omit usage
in streams; both are fine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import openai

from bot.core.config import Endpoint
from bot.core.errors import LLMUnavailable
from bot.llm import media
from bot.llm.errors import RetryPolicy
from bot.llm.pool import sdk_client
from bot.llm.retry import CallRecord, EndpointRunner, ms
from bot.llm.stream import MAX_ANSWER_CHARS, StreamHandle, stream_attempt
from bot.llm.stream import AttemptInfo as _Attempt
from bot.llm.wire import chat_params, read_completion

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
    cut: str | None = None  # "deadline" or "length": the answer stopped early, kept so far


def _maker(ep: Endpoint, timeout_s: float) -> openai.AsyncOpenAI:
    return sdk_client(ep.base_url, ep.api_key or "not-needed", timeout_s)


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
        default_max_tokens: int | None = 1024,
        max_answer_chars: int = MAX_ANSWER_CHARS,
    ) -> None:
        self.endpoints = tuple(endpoints)
        # Small local models may ramble until their context is full: cap every answer.
        self.default_max_tokens = default_max_tokens
        self._embedding_model = embedding_model
        self.max_answer_chars = max_answer_chars
        self._clients = {ep: _maker(ep, timeout_s) for ep in self.endpoints}
        self._runner = EndpointRunner(
            self._clients, timeout_s, max_total_s, on_call, retry or RetryPolicy()
        )

    @property
    def max_total_s(self) -> float:
        """The time one call may take over all retries and endpoints."""
        return self._runner.max_total_s

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
        kind: str = "chat",
    ) -> Completion:
        """One whole answer, from the first endpoint that gives one.

        `kind="vision"`: the messages carry image parts; only endpoints that may see
        images are asked, with their vision model.
        """
        endpoints = self._pick(local_only, kind)
        max_tokens = max_tokens or self.default_max_tokens

        async def attempt(ep: Endpoint, client: openai.AsyncOpenAI, info: _Attempt) -> Completion:
            return await self._complete_once(ep, client, info, messages, max_tokens, kind)

        return await self._runner.run(endpoints, purpose, family_id, attempt)

    def stream(
        self,
        messages: Messages,
        *,
        family_id: int | None = None,
        purpose: str = "chat",
        max_tokens: int | None = None,
        local_only: bool = False,
        kind: str = "chat",
    ) -> StreamHandle[Completion]:
        """Text deltas as they come; `handle.result` is the full answer after iteration.

        The first attempt streams; if it fails (before or after the first delta) the
        following attempts are plain completions, so `result.text` is always whole.
        """
        endpoints = self._pick(local_only, kind)
        max_tokens = max_tokens or self.default_max_tokens

        async def produce(on_delta: Callable[[str], None]) -> Completion:
            streamed = False

            async def attempt(
                ep: Endpoint, client: openai.AsyncOpenAI, info: _Attempt
            ) -> Completion:
                nonlocal streamed
                if streamed:
                    return await self._complete_once(ep, client, info, messages, max_tokens, kind)
                streamed = True
                started = time.monotonic()
                params = chat_params(
                    ep.model_for(kind), list(messages), max_tokens, stream=True, local=ep.local
                )
                got = await stream_attempt(
                    client,
                    params,
                    info,
                    on_delta,
                    deadline=info.deadline,
                    max_chars=self.max_answer_chars,
                )
                return Completion(
                    got.text,
                    info.model,
                    ep.label,
                    ms(started),
                    info.prompt_tokens,
                    info.completion_tokens,
                    got.ttft_ms,
                    got.cut,
                )

            return await self._runner.run(endpoints, purpose, family_id, attempt)

        return StreamHandle(produce)

    async def embed(
        self, texts: Sequence[str], *, local_only: bool = False
    ) -> list[list[float]] | None:
        """Vectors for `texts`, or None when no endpoint offers embeddings."""
        endpoints = self.capable("embeddings", local_only)
        if not endpoints or not texts:
            return None if not endpoints else []
        return await media.embed(self._runner, endpoints, texts, self._embedding_model)

    async def transcribe(
        self,
        audio: bytes,
        filename: str,
        *,
        local_only: bool = False,
        family_id: int | None = None,
    ) -> str | None:
        """Speech to text for a voice message, or None when no endpoint offers it."""
        endpoints = self.capable("transcription", local_only)
        if not endpoints:
            return None
        return await media.transcribe(self._runner, endpoints, audio, filename, family_id)

    async def speak(
        self, text: str, *, local_only: bool = False, family_id: int | None = None
    ) -> bytes | None:
        """A voice note (Ogg/Opus) reading `text`, or None when no endpoint offers speech."""
        endpoints = self.capable("speech", local_only)
        if not endpoints:
            return None
        return await media.speak(self._runner, endpoints, text, family_id)

    def can(self, kind: str, *, local_only: bool = False) -> bool:
        """Whether some endpoint may still be asked for `kind`: handlers say so kindly
        instead of trying (a photo with no vision endpoint, a reply with no speech)."""
        return bool(self.capable(kind, local_only))

    def capable(self, kind: str, local_only: bool = False) -> list[Endpoint]:
        """The endpoints, in order, that declare `kind` (or declare nothing) and have not
        refused it."""
        purpose = media.PURPOSE.get(kind, kind)
        return [
            ep
            for ep in self.endpoints
            if (ep.local or not local_only)
            and ep.can(kind)
            and (purpose, ep.base_url) not in self._runner.unsupported
        ]

    # -- the machinery ------------------------------------------------------------------

    def _pick(self, local_only: bool, kind: str = "chat") -> list[Endpoint]:
        endpoints = self.capable(kind, local_only)
        if not endpoints:
            what = "local endpoint" if local_only else "endpoint"
            raise LLMUnavailable(f"no {what} for {kind} configured")
        return endpoints

    async def _complete_once(
        self,
        ep: Endpoint,
        client: openai.AsyncOpenAI,
        info: _Attempt,
        messages: Messages,
        max_tokens: int | None,
        kind: str = "chat",
    ) -> Completion:
        started = time.monotonic()
        model = ep.model_for(kind)
        params = chat_params(model, messages, max_tokens, stream=False, local=ep.local)
        async with client.chat.completions.with_streaming_response.create(**params) as response:
            data = await media.json_body(response)
        answer = read_completion(data)
        info.model = answer.model or model
        info.prompt_tokens = answer.prompt_tokens
        info.completion_tokens = answer.completion_tokens
        text = answer.text[: self.max_answer_chars]
        return Completion(
            text,
            info.model,
            ep.label,
            ms(started),
            info.prompt_tokens,
            info.completion_tokens,
            cut="length" if len(text) < len(answer.text) else None,
        )
