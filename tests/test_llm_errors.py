"""How failures are read: Retry-After forms, context-too-long texts, log-safe summaries."""

from __future__ import annotations

import email.utils
import json
import urllib.request

import httpx as http
import openai
import pytest

from bot.llm.errors import (
    MalformedResponse,
    is_context_too_long,
    is_loading,
    is_retryable,
    is_unsupported,
    retry_after_s,
    short_error,
)
from tests.servers.openai_server import (
    CONTEXT_MESSAGE,
    LLAMA_CPP_CONTEXT_MESSAGE,
    embed_text,
    running_openai_server,
)

REQUEST = http.Request("POST", "http://127.0.0.1:1/v1/chat/completions")


def api_error(
    code: int,
    message: str = "x",
    headers: dict[str, str] | None = None,
    err_type: str = "invalid_request_error",
    err_code: str | None = None,
) -> openai.APIStatusError:
    body = {"error": {"message": message, "type": err_type, "code": err_code}}
    response = http.Response(code, headers=headers or {}, json=body, request=REQUEST)
    return openai.APIStatusError(message, response=response, body=body)


def test_retry_after_forms() -> None:
    assert retry_after_s(api_error(429, headers={"Retry-After": "2"})) == 2.0
    assert retry_after_s(api_error(429, headers={"retry-after-ms": "1500"})) == 1.5
    ms_wins = api_error(429, headers={"retry-after-ms": "100", "Retry-After": "9"})
    assert retry_after_s(ms_wins) == 0.1
    date = email.utils.formatdate(1_000_030.0, usegmt=True)
    assert retry_after_s(api_error(429, headers={"Retry-After": date}), now=1_000_000.0) == 30.0
    assert retry_after_s(api_error(429, headers={"Retry-After": "soon"})) is None
    assert retry_after_s(api_error(429)) is None
    assert retry_after_s(MalformedResponse("x")) is None


@pytest.mark.parametrize(
    ("code", "message", "err_type", "err_code"),
    [
        (400, CONTEXT_MESSAGE, "invalid_request_error", "context_length_exceeded"),
        (400, LLAMA_CPP_CONTEXT_MESSAGE, "exceed_context_size_error", None),
        (500, "input is larger than the max context size. skipping", "server_error", None),
        (
            400,
            "Requested tokens (9000) exceed context window of 4096",
            "invalid_request_error",
            None,
        ),
        (400, "whatever", "invalid_request_error", "context_length_exceeded"),
    ],
)
def test_context_too_long_texts(
    code: int, message: str, err_type: str, err_code: str | None
) -> None:
    assert is_context_too_long(api_error(code, message, err_type=err_type, err_code=err_code))


def test_other_errors_are_not_context_too_long() -> None:
    assert not is_context_too_long(api_error(400, "Invalid value for 'temperature'"))
    assert not is_context_too_long(api_error(401, "maximum context length"))
    assert not is_context_too_long(MalformedResponse("maximum context length"))


def test_retryable_and_unsupported() -> None:
    assert [is_retryable(api_error(c)) for c in (400, 401, 403, 404, 408, 429, 500, 503)] == [
        False,
        False,
        False,
        False,
        True,
        True,
        True,
        True,
    ]
    assert is_retryable(openai.APITimeoutError(request=REQUEST))
    assert is_retryable(openai.APIConnectionError(request=REQUEST))
    assert is_retryable(MalformedResponse("x"))
    assert is_unsupported(api_error(404))
    assert is_unsupported(api_error(500, "Llama model must be created with embedding=True"))
    assert not is_unsupported(api_error(500, "out of memory"))
    assert is_loading(api_error(503, "Loading model", err_type="unavailable_error"))
    assert not is_loading(api_error(503, "Service Unavailable"))


def test_short_error_never_carries_the_body() -> None:
    secret = "sk-live-abcdefghijklmnop"
    err = api_error(401, f"Incorrect API key provided: {secret}")
    assert short_error(err) == "http_401"
    assert short_error(openai.APITimeoutError(request=REQUEST)) == "timeout"
    assert short_error(openai.APIConnectionError(request=REQUEST)) == "connection"
    assert short_error(MalformedResponse(secret)) == "malformed"


def test_embedding_vectors_are_unit_length_and_similar_for_similar_text() -> None:
    a, b, c = embed_text("canh chua cá lóc"), embed_text("canh chua cá"), embed_text("xe máy")
    assert abs(sum(x * x for x in a) - 1.0) < 1e-9
    assert sum(x * y for x, y in zip(a, b, strict=True)) > sum(
        x * y for x, y in zip(a, c, strict=True)
    )


def test_server_is_usable_from_sync_code() -> None:
    with running_openai_server(reported_model="llama") as server:
        with urllib.request.urlopen(f"{server.base_url}/models", timeout=5) as resp:
            listing = json.load(resp)
        req = urllib.request.Request(
            f"{server.base_url}/chat/completions",
            data=json.dumps(
                {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            answer = json.load(resp)
    assert listing["data"][0]["id"] == "llama"
    assert answer["choices"][0]["message"]["content"] == "Fake answer about: hi"
    assert [r.path for r in server.history] == ["/v1/models", "/v1/chat/completions"]
