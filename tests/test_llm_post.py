"""The hot model calls without the SDK's request builder: the same request, the same errors."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from bot.core import llm_post
from bot.core.llm_pool import sdk_client
from bot.core.llm_post import post_json
from bot.core.llm_wire import CHAT_PATH, chat_body, request_options
from tests.servers.openai_server import OpenAIServer, delay, rate_limited, status
from tests.servers.raw_http import RawHTTPServer, ok

BODY = chat_body(
    "gemma", [{"role": "user", "content": 'Cá kho tộ nấu sao? "ngon"'}], 64, stream=False
)
ANSWER = json.dumps({"choices": [{"message": {"content": "Kho với nước màu."}}]}).encode()


@pytest.fixture
async def raw() -> AsyncIterator[RawHTTPServer]:
    async with RawHTTPServer() as server:
        yield server


def head_of(raw_head: bytes) -> tuple[str, dict[str, str]]:
    """The request line and the headers (names lower-cased) of one recorded request."""
    line, *rest = raw_head.decode().strip().split("\r\n")
    headers = {}
    for h in rest:
        name, _, value = h.partition(":")
        headers[name.strip().lower()] = value.strip()
    return line, headers


async def test_the_request_is_the_one_the_sdk_sends(raw: RawHTTPServer) -> None:
    client = sdk_client(raw.url + "/v1", "sk-test", 30.0)
    try:
        raw.script(ok(ANSWER, "Content-Type: application/json"))
        raw.script(ok(ANSWER, "Content-Type: application/json"))
        by_sdk = await client.post(CHAT_PATH, body=BODY, cast_to=object, options=request_options())
        by_us = await post_json(client, CHAT_PATH, BODY)
    finally:
        await client.close()
    assert by_us == by_sdk == json.loads(ANSWER)
    (line_sdk, sdk), (line_us, us) = (head_of(r.head) for r in raw.requests)
    assert line_us == line_sdk == "POST /v1/chat/completions HTTP/1.1"
    assert us["authorization"] == "Bearer sk-test"
    # (an SDK that sends an idempotency key gets one per request from both: not compared)
    assert {k: v for k, v in us.items() if k != "idempotency-key"} == {
        k: v for k, v in sdk.items() if k != "idempotency-key"
    }
    assert ("idempotency-key" in us) == ("idempotency-key" in sdk)
    assert raw.requests[0].body == raw.requests[1].body  # the same bytes on the wire


async def test_a_body_that_is_not_json_comes_back_as_text(raw: RawHTTPServer) -> None:
    client = sdk_client(raw.url, "sk-test", 30.0)
    try:
        raw.script(ok(b"Fake answer", "Content-Type: text/plain"))
        assert await post_json(client, CHAT_PATH, BODY) == "Fake answer"
    finally:
        await client.close()


async def test_failures_are_the_sdks_exceptions(openai_server: OpenAIServer) -> None:
    client = sdk_client(openai_server.base_url, "sk-test", 30.0)
    try:
        openai_server.script(status(400, "bad things"))
        with pytest.raises(openai.BadRequestError) as bad:
            await post_json(client, CHAT_PATH, BODY)
        assert bad.value.status_code == 400 and "bad things" in str(bad.value)

        openai_server.script(rate_limited(7))
        with pytest.raises(openai.RateLimitError) as limited:
            await post_json(client, CHAT_PATH, BODY)
        assert limited.value.response.headers["retry-after"] == "7"

        openai_server.script(status(503, "loading", path="/v1/chat/completions"))
        with pytest.raises(openai.InternalServerError):
            await post_json(client, CHAT_PATH, BODY, stream=True)  # a stream fails alike

        openai_server.script(delay(5))
        began = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            await post_json(client.with_options(timeout=0.3), CHAT_PATH, BODY)
        assert time.monotonic() - began < 3  # the copy's shorter timeout, not the client's
    finally:
        await client.close()


async def test_an_endpoint_that_is_down_is_a_connection_error() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = sdk_client(f"http://127.0.0.1:{port}/v1", "sk-test", 5.0)
    try:
        with pytest.raises(openai.APIConnectionError) as down:
            await post_json(client, CHAT_PATH, BODY)
        assert not isinstance(down.value, openai.APITimeoutError)
    finally:
        await client.close()


class TokenClient(openai.AsyncOpenAI):
    """A client whose credentials are not a fixed API key (as with a token provider)."""

    @property
    def auth_headers(self) -> dict[str, Any]:
        return {}


async def test_other_authentication_goes_through_the_sdk(raw: RawHTTPServer) -> None:
    client = TokenClient(
        base_url=raw.url, api_key="unused", default_headers={"Authorization": "Token abc"}
    )
    try:
        assert llm_post._route(client) is None
        raw.script(ok(ANSWER, "Content-Type: application/json"))
        assert await post_json(client, CHAT_PATH, BODY) == json.loads(ANSWER)
    finally:
        await client.close()
    assert head_of(raw.requests[0].head)[1]["authorization"] == "Token abc"
