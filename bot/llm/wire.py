"""The JSON on the wire: request bodies and reading answers, without the SDK's typed layer.

Bodies go out as plain dicts and answers come back as parsed JSON: the SDK's per-call
transform of the params and its pydantic models cost ~2.5 ms of CPU per chat call, which
1,000 chats at once pay one after another. The requests themselves are sent by
`llm_post.post_json` through the SDK client (its key, headers, timeout, pool and errors).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.llm_errors import MalformedResponse

CHAT_PATH = "/chat/completions"
EMBEDDINGS_PATH = "/embeddings"
_PROCESS_KEY = secrets.token_hex(8)
_SEQUENCE = itertools.count()


@dataclass(frozen=True, slots=True)
class Answer:
    """What a chat completion body says: the text, the model it names, token counts."""

    text: str
    model: str | None
    prompt_tokens: int | None
    completion_tokens: int | None


def idempotency_key() -> str:
    """A unique key per request without the SDK's uuid4 per call (uuid4 reads the OS's
    random source: a system call per request, which adds up when 1,000 chats ask at once)."""
    return f"hearth-{_PROCESS_KEY}-{next(_SEQUENCE)}"


def request_options() -> Any:
    """SDK options of one request sent through the SDK's own `post`."""
    return {"idempotency_key": idempotency_key()}


def chat_body(
    model: str, messages: Sequence[dict[str, Any]], max_tokens: int | None, *, stream: bool
) -> dict[str, Any]:
    """The `/chat/completions` request; streams ask for the usage chunk at the end."""
    body: dict[str, Any] = {"model": model, "messages": list(messages)}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


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
