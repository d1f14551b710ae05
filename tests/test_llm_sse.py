"""The model's SSE stream read from the raw response: framing, errors, connection reuse."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from bot.core.http_lite import LiteTransport, http, tls_context
from bot.core.llm_sse import sse_chunks
from tests.servers.raw_http import RawHTTPServer, Reply, chunked


@pytest.fixture
async def raw() -> AsyncIterator[RawHTTPServer]:
    async with RawHTTPServer() as server:
        yield server


async def read_all(client: http.AsyncClient, url: str) -> list[Any]:
    async with client.stream("POST", url, content=b"{}") as response:
        return [c async for c in sse_chunks(response)]


def event(n: int) -> bytes:
    return b"data: " + json.dumps({"n": n, "text": "cá kho\nxong"}).encode()


async def test_events_split_anywhere_and_every_line_ending(raw: RawHTTPServer) -> None:
    body = (
        b": keep-alive comment\r\n\r\n"
        + event(1) + b"\r\n\r\n"
        + b"event: message\n" + event(2) + b"\n\n"
        + b'data: {"n": 3,\rdata: "text": "two lines"}\r\r'
        + event(4) + b"\r\n\r\n"
        + b"data: [DONE]\r\n\r\n"
    )  # fmt: skip
    # cut the body into 7-byte chunks: boundaries fall inside lines and between \r and \n
    raw.script(chunked(*(body[i : i + 7] for i in range(0, len(body), 7))))
    raw.script(chunked(event(5) + b"\n\n" + b"data: [DONE]\n\n"))
    transport = LiteTransport(tls_context())
    async with http.AsyncClient(transport=transport) as client:
        chunks = await read_all(client, raw.url)
        again = await read_all(client, raw.url)
        assert transport.connections == 1  # read to the end after [DONE]: kept
    assert [c["n"] for c in chunks] == [1, 2, 3, 4]
    assert chunks[0]["text"] == "cá kho\nxong" and chunks[2]["text"] == "two lines"
    assert again == [{"n": 5, "text": "cá kho\nxong"}]
    assert raw.connections == 1


async def test_a_stream_without_done_ends_with_its_body(raw: RawHTTPServer) -> None:
    raw.script(chunked(event(1) + b"\n\n" + event(2)))  # no blank line after the last
    async with http.AsyncClient(transport=LiteTransport(tls_context())) as client:
        assert [c["n"] for c in await read_all(client, raw.url)] == [1, 2]


async def test_an_error_event_is_the_sdks_api_error(raw: RawHTTPServer) -> None:
    error = b'data: {"error": {"message": "model overloaded", "type": "server_error"}}\n\n'
    raw.script(chunked(event(1) + b"\n\n" + error))
    async with http.AsyncClient(transport=LiteTransport(tls_context())) as client:
        with pytest.raises(openai.APIError, match="model overloaded"):
            await read_all(client, raw.url)


async def test_a_broken_connection_is_the_sdks_connection_error(raw: RawHTTPServer) -> None:
    cut = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + event(1)[:16]
    raw.script(Reply(cut + b"\r\n", close=True), Reply(cut, pause_s=0.0))
    transport = LiteTransport(tls_context())
    async with http.AsyncClient(transport=transport, timeout=0.3) as client:
        with pytest.raises(openai.APIConnectionError):
            await read_all(client, raw.url)
        with pytest.raises(openai.APITimeoutError):
            await read_all(client, raw.url)  # the rest never comes
        assert transport.connections == 0


async def test_a_payload_that_is_not_json_raises_a_json_error(raw: RawHTTPServer) -> None:
    raw.script(chunked(b"data: {not json\n\n"))
    async with http.AsyncClient(transport=LiteTransport(tls_context())) as client:
        with pytest.raises(json.JSONDecodeError):
            await read_all(client, raw.url)
