"""The model's SSE stream read straight from the HTTP response.

The SDK's decoder handles every line through several Python layers and a per-event
wrapper; a streamed answer is dozens of events, and under Telegram load that decoding was
~9 % of the event loop's time. This reads the same `data:` payloads (events end at a blank
line; `\\r\\n`, `\\n` and `\\r` all end lines; `[DONE]` ends the stream, the rest of the body
is read so the connection can be reused) and raises what the SDK raises: APIError for an
error event, APITimeoutError / APIConnectionError when the connection fails mid-stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai

from bot.core.http_lite import http
from bot.core.llm_post import as_sdk_errors


async def sse_chunks(response: http.Response) -> AsyncIterator[Any]:
    """Each event's JSON payload, until `[DONE]` or the end of the body."""
    done = False
    with as_sdk_errors(response.request):
        async for data in _events(response):
            # after [DONE], read on to the body's end, or the connection is not kept
            done = done or data.startswith("[DONE]")
            if done:
                continue
            chunk = json.loads(data)
            if isinstance(chunk, dict) and chunk.get("error"):
                error = chunk["error"]
                message = error.get("message") if isinstance(error, dict) else None
                raise openai.APIError(
                    message if isinstance(message, str) and message else "stream error",
                    response.request,
                    body=error,
                )
            yield chunk


async def _events(response: http.Response) -> AsyncIterator[str]:
    pending = b""
    data: list[bytes] = []
    async for part in response.aiter_bytes():
        lines = (pending + part).splitlines(keepends=True)
        last = lines[-1] if lines else b""
        # a last line without \n waits for more: unfinished, or a \r that may start \r\n
        pending = lines.pop() if not last.endswith(b"\n") else b""
        for line in lines:
            line = line.rstrip(b"\r\n")
            if not line:
                if data:
                    yield b"\n".join(data).decode()
                    data = []
            elif line.startswith(b"data:"):
                data.append(_value(line))
    last_line = pending.rstrip(b"\r\n")
    if last_line.startswith(b"data:"):
        data.append(_value(last_line))
    if data:
        yield b"\n".join(data).decode()


def _value(line: bytes) -> bytes:
    """A `data:` line's value (one leading space is part of the syntax, not the value)."""
    value = line[5:]
    return value[1:] if value.startswith(b" ") else value
