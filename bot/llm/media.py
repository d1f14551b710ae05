"""Model calls beside chat: embeddings, speech to text, text to speech.

Each goes through the SDK's public resource methods and the same runner (retries,
deadline, one report per attempt) as chat; an endpoint that answers 404 for a kind is
remembered and not asked for it again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import openai

from bot.core.config import Endpoint
from bot.llm.errors import MalformedResponse
from bot.llm.retry import EndpointRunner
from bot.llm.stream import AttemptInfo
from bot.llm.wire import read_embeddings

# The purpose each kind is logged (and remembered as unsupported) under.
PURPOSE = {"embeddings": "embed", "transcription": "transcribe", "speech": "speak"}


async def json_body(response: Any) -> Any:
    """The body of a `with_streaming_response` call, read within the transport's cap."""
    return json.loads(await response.read())


async def embed(
    runner: EndpointRunner,
    endpoints: list[Endpoint],
    texts: Sequence[str],
    model: str | None = None,
) -> list[list[float]] | None:
    """Vectors in input order (floats: never the SDK's base64 default)."""

    async def attempt(
        ep: Endpoint, client: openai.AsyncOpenAI, info: AttemptInfo
    ) -> list[list[float]]:
        async with client.embeddings.with_streaming_response.create(
            model=model or ep.model_for("embeddings"),
            input=list(texts),
            encoding_format="float",
        ) as response:
            data = await json_body(response)
        vectors, info.prompt_tokens = read_embeddings(data, len(texts))
        return vectors

    return await runner.run_optional(endpoints, PURPOSE["embeddings"], attempt)


async def transcribe(
    runner: EndpointRunner,
    endpoints: list[Endpoint],
    audio: bytes,
    filename: str,
    family_id: int | None = None,
) -> str | None:
    """What a voice note says, by each endpoint's transcription model."""

    async def attempt(ep: Endpoint, client: openai.AsyncOpenAI, info: AttemptInfo) -> str:
        info.model = ep.model_for("transcription")
        resp = await client.audio.transcriptions.create(model=info.model, file=(filename, audio))
        text = resp if isinstance(resp, str) else getattr(resp, "text", None)
        if not isinstance(text, str):
            raise MalformedResponse("transcription body")
        return text.strip()

    return await runner.run_optional(endpoints, PURPOSE["transcription"], attempt, family_id)


async def speak(
    runner: EndpointRunner, endpoints: list[Endpoint], text: str, family_id: int | None = None
) -> bytes | None:
    """Ogg/Opus audio reading `text` (what Telegram's sendVoice plays)."""

    async def attempt(ep: Endpoint, client: openai.AsyncOpenAI, info: AttemptInfo) -> bytes:
        info.model = ep.model_for("speech")
        async with client.audio.speech.with_streaming_response.create(
            model=info.model, voice=ep.speech_voice, input=text, response_format="opus"
        ) as response:
            audio = await response.read()
        if not audio:
            raise MalformedResponse("empty speech")
        return bytes(audio)

    return await runner.run_optional(endpoints, PURPOSE["speech"], attempt, family_id)
