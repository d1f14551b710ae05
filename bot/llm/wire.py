"""The JSON on the wire: request bodies, and reading answers that came back as bytes.

Requests go through the SDK's resource methods (`client.chat.completions.…`); a whole
answer is read through `with_streaming_response` so the transport's byte cap and the call's
deadline hold while it arrives, then parsed here. Reading a dict leaves no malformed body a
chance to pass as an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.llm.errors import MalformedResponse


@dataclass(frozen=True, slots=True)
class Answer:
    """What a chat completion body says: the text, the model it names, token counts."""

    text: str
    model: str | None
    prompt_tokens: int | None
    completion_tokens: int | None


def chat_params(
    model: str,
    messages: Sequence[dict[str, Any]],
    max_tokens: int | None,
    *,
    stream: bool,
    local: bool = False,
) -> dict[str, Any]:
    """Keyword arguments of `chat.completions.create`; streams ask for usage at the end.

    `local`: the server is on this machine (llama.cpp, llama-cpp-python, Ollama):
    `cache_prompt` asks llama.cpp's server to keep the prompt's processed prefix, so the
    next turn, whose prompt starts the same, is read from where it changes. Servers that
    do not know the field ignore it.
    """
    params: dict[str, Any] = {"model": model, "messages": list(messages)}
    if max_tokens is not None:
        params["max_tokens"] = max_tokens
    if stream:
        params["stream"] = True
        params["stream_options"] = {"include_usage": True}
    if local:
        params["extra_body"] = {"cache_prompt": True}
    return params


def _tokens(usage: Any, key: str) -> int | None:
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_of(data: dict[str, Any]) -> tuple[int | None, int | None]:
    """(prompt_tokens, completion_tokens) when the body reports them, else None each."""
    usage = data.get("usage")
    return _tokens(usage, "prompt_tokens"), _tokens(usage, "completion_tokens")


def model_of(data: dict[str, Any]) -> str | None:
    """The model the server says answered (local servers often name a file path)."""
    model = data.get("model")
    return model if isinstance(model, str) and model else None


def read_completion(data: object) -> Answer:
    """The first choice's text; anything else than a usable completion is malformed."""
    if not isinstance(data, dict):
        raise MalformedResponse("completion body")
    try:
        text = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise MalformedResponse("completion body") from exc
    if not isinstance(text, str):
        raise MalformedResponse("completion without text")
    prompt, completion = usage_of(data)
    return Answer(text, model_of(data), prompt, completion)


def _floats(raw: object) -> list[float]:
    # floats: the request never asks for encoding_format=base64
    if not isinstance(raw, list):
        raise TypeError("embedding is not a list")
    return [float(x) for x in raw]


def read_embeddings(data: object, count: int) -> tuple[list[list[float]], int | None]:
    """Vectors in input order, and the prompt tokens the server counted."""
    if not isinstance(data, dict):
        raise MalformedResponse("embedding body")
    try:
        rows = sorted(data["data"], key=lambda d: int(d["index"]))
        vectors = [_floats(d["embedding"]) for d in rows]
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedResponse("embedding body") from exc
    if len(vectors) != count:
        raise MalformedResponse("embedding count")
    return vectors, usage_of(data)[0]
