"""The model endpoints' HTTP/1.1 transport: framing, reuse, stale connections, errors, TLS."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.config import load_settings
from bot.core.http_lite import LiteTransport, http, wanted
from bot.core.llm import LLMClient
from bot.core.llm_pool import sdk_client, tls_context
from tests.servers.openai_server import CHAT, OpenAIServer
from tests.servers.raw_http import RawHTTPServer, Reply, chunked, ok


@pytest.fixture
async def raw() -> AsyncIterator[RawHTTPServer]:
    async with RawHTTPServer() as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[http.AsyncClient]:
    transport = LiteTransport(tls_context(), keepalive=4)
    async with http.AsyncClient(transport=transport, timeout=2.0) as c:
        yield c


def transport_of(c: http.AsyncClient) -> LiteTransport:
    t = c._transport
    assert isinstance(t, LiteTransport)
    return t


async def test_keep_alive_bodies_of_every_framing_share_one_connection(
    raw: RawHTTPServer, client: http.AsyncClient
) -> None:
    raw.script(
        ok(b"first"),
        chunked(b"da", b"ta: x\n\n", trailer=b"X-Trailer: 1\r\n"),
        Reply(b"HTTP/1.1 204 No Content\r\n\r\n"),
        Reply(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes"),
        ok(b"split body", "X-A: b"),
    )
    raw.replies[-1] = Reply(raw.replies[-1].data, split_at=30)
    bodies = [(await client.post(raw.url + f"/p{i}", content=b"q")).content for i in range(4)]
    last = await client.get(raw.url + "/last")
    assert bodies == [b"first", b"data: x\n\n", b"", b"yes"]
    assert last.content == b"split body" and last.headers["x-a"] == "b"
    assert raw.connections == 1 and [r.connection for r in raw.requests] == [1] * 5
    assert (
        raw.requests[0].head.startswith(b"POST /p0 HTTP/1.1\r\n") and raw.requests[0].body == b"q"
    )
    assert b"\r\nhost: localhost:" in raw.requests[0].head.lower()


async def test_a_streamed_body_arrives_chunk_by_chunk(
    raw: RawHTTPServer, client: http.AsyncClient
) -> None:
    raw.script(chunked(b"data: 1\n\n", b"data: 2\n\n"))
    raw.replies[0] = Reply(raw.replies[0].data, split_at=80)
    async with client.stream("POST", raw.url, content=b"{}") as response:
        parts = [p async for p in response.aiter_raw()]
    assert parts == [b"data: 1\n\n", b"data: 2\n\n"]
    await client.get(raw.url)
    assert raw.connections == 1


async def test_chunks_that_arrive_together_are_read_together(
    raw: RawHTTPServer, client: http.AsyncClient
) -> None:
    events = [b"data: %d\n\n" % n for n in range(40)]
    raw.script(chunked(*events))  # one write: every chunk in the first read or two
    async with client.stream("POST", raw.url, content=b"{}") as response:
        parts = [p async for p in response.aiter_raw()]
    assert b"".join(parts) == b"".join(events)
    assert len(parts) < 5  # not one await (and one timer) per chunk
    await client.get(raw.url)
    assert raw.connections == 1  # read to its last chunk: the connection was kept


async def test_chunk_framing_errors_and_stray_bytes(
    raw: RawHTTPServer, client: http.AsyncClient
) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    raw.script(
        Reply(head + b"3\r\nabcXY0\r\n\r\n"),  # data longer than its size
        Reply(head + b"3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n"),  # bytes after the body
    )
    with pytest.raises(http.RemoteProtocolError):
        await client.get(raw.url)
    assert (await client.get(raw.url)).content == b"abc"
    assert (await client.get(raw.url)).content == b"ok"
    assert raw.connections == 3  # neither connection was reused


async def test_a_body_read_to_the_end_of_the_connection_is_not_reused(
    raw: RawHTTPServer, client: http.AsyncClient
) -> None:
    raw.script(
        Reply(b"HTTP/1.1 200 OK\r\n\r\nuntil close", close=True),
        ok(b"1", "Connection: close"),
        Reply(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n10"),
    )
    assert (await client.get(raw.url)).content == b"until close"
    assert (await client.get(raw.url)).content == b"1"
    assert (await client.get(raw.url)).content == b"10"  # HTTP/1.0 without keep-alive
    await client.get(raw.url)
    assert raw.connections == 4
    await asyncio.sleep(0.05)
    assert transport_of(client).connections == 1 and raw.open_now == 1


async def test_a_connection_the_server_closed_while_idle_is_replaced(
    raw: RawHTTPServer, client: http.AsyncClient
) -> None:
    await client.get(raw.url)
    await raw.close_idle()
    assert (await client.get(raw.url)).content == b"ok"
    assert raw.connections == 2 and len(raw.requests) == 2
    assert transport_of(client).connections == 1  # the dead one was closed, not kept


async def test_a_reused_connection_dropped_before_answering_is_retried_once(
    raw: RawHTTPServer, client: http.AsyncClient
) -> None:
    await client.get(raw.url)
    raw.script(Reply(b"", close=True))  # a keep-alive race: the server drops the request
    assert (await client.post(raw.url, content=b"again")).content == b"ok"
    assert [r.body for r in raw.requests] == [b"", b"again", b"again"]
    assert raw.connections == 2


async def test_a_fresh_connection_dropped_before_answering_is_an_error(
    raw: RawHTTPServer, client: http.AsyncClient
) -> None:
    raw.script(Reply(b"", close=True))
    with pytest.raises(http.RemoteProtocolError):
        await client.post(raw.url, content=b"once")
    assert len(raw.requests) == 1  # a new connection proves the server saw it: not resent


async def test_bad_responses_are_protocol_errors_and_close_the_connection(
    raw: RawHTTPServer, client: http.AsyncClient
) -> None:
    raw.script(
        Reply(b"HTTP/1.1 2xx OK\r\n\r\n"),
        Reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", close=True),
        Reply(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"),
    )
    for _ in range(4):
        with pytest.raises(http.RemoteProtocolError):
            await client.get(raw.url)
    assert (await client.get(raw.url)).content == b"ok"
    assert raw.connections == 5
    await asyncio.sleep(0.05)
    assert transport_of(client).connections == 1


async def test_timeouts_are_the_http_librarys_and_leave_nothing_open(
    raw: RawHTTPServer,
) -> None:
    raw.script(
        Reply(pause_s=0.5),
        Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab", pause_s=0.0),
    )
    transport = LiteTransport(tls_context())
    async with http.AsyncClient(transport=transport, timeout=0.2) as c:
        with pytest.raises(http.ReadTimeout):
            await c.get(raw.url)
        with pytest.raises(http.ReadTimeout):
            await c.get(raw.url)  # the body stops short
        assert transport.connections == 0
    with pytest.raises(http.ConnectError):
        async with http.AsyncClient(transport=LiteTransport(tls_context())) as c:
            await c.get("http://127.0.0.1:9/")


async def test_an_abandoned_stream_closes_its_connection(
    raw: RawHTTPServer, client: http.AsyncClient
) -> None:
    raw.script(chunked(b"a", b"b", b"c"))
    async with client.stream("GET", raw.url) as response:
        async for _ in response.aiter_raw():
            break
    assert transport_of(client).connections == 0
    assert (await client.get(raw.url)).content == b"ok"
    assert raw.connections == 2


async def test_a_cancelled_request_closes_its_connection(
    raw: RawHTTPServer, client: http.AsyncClient
) -> None:
    raw.script(Reply(pause_s=5))
    task = asyncio.create_task(client.get(raw.url))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert transport_of(client).connections == 0


async def test_large_and_streamed_request_bodies_arrive_whole(
    raw: RawHTTPServer, client: http.AsyncClient
) -> None:
    big = bytes(range(256)) * 2000

    async def parts() -> AsyncIterator[bytes]:
        yield b"part one, "
        yield b"part two"

    await client.post(raw.url, content=big)
    await client.post(raw.url, content=parts())
    assert raw.requests[0].body == big
    assert raw.requests[1].body == b"part one, part two"
    assert b"transfer-encoding" not in raw.requests[1].head.lower()


async def test_idle_connections_beyond_the_keepalive_cap_are_closed(raw: RawHTTPServer) -> None:
    raw.script(*(Reply(ok().data, pause_s=0.1) for _ in range(10)))
    transport = LiteTransport(tls_context(), keepalive=3)
    async with http.AsyncClient(transport=transport) as c:
        await asyncio.gather(*(c.get(raw.url) for _ in range(10)))
        assert raw.connections == 10 and transport.connections == 3
    assert transport.connections == 0
    await asyncio.sleep(0.05)
    assert raw.open_now == 0


async def test_the_sdk_streams_and_reuses_one_connection(openai_server: OpenAIServer) -> None:
    sdk = sdk_client(openai_server.base_url, "k", 5.0)
    transport = sdk._client._transport
    assert isinstance(transport, LiteTransport)
    try:
        for i in range(5):
            stream = await sdk.chat.completions.create(
                model="m", messages=[{"role": "user", "content": f"câu {i}"}], stream=True
            )
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            assert text == f"Fake answer about: câu {i}"
        done = await sdk.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "xong"}]
        )
        assert done.choices[0].message.content == "Fake answer about: xong"
        assert transport.connections == 1
    finally:
        await sdk.close()
    assert len(openai_server.requests(CHAT)) == 6


async def test_the_sdks_own_transport_can_be_chosen(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    env = {"HEARTH_DB": str(tmp_path / "h.db"), "LLM_BASE_URL": openai_server.base_url}
    for choice, lite in (("", True), ("httpx", False)):
        settings = load_settings({**env, "HEARTH_HTTP_TRANSPORT": choice}, dotenv=None)
        llm = LLMClient(settings.endpoints, lite_http=settings.http_transport == "lite")
        try:
            shards = llm._clients[llm.endpoints[0]]
            assert isinstance(shards.clients[0]._client._transport, LiteTransport) is lite
            answer = await llm.complete([{"role": "user", "content": "chào"}])
            assert answer.text == "Fake answer about: chào"
        finally:
            await llm.aclose()


def test_a_proxy_in_the_environment_keeps_the_sdks_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert wanted("http://127.0.0.1:8080/v1")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert not wanted("https://api.openai.com/v1")
    sdk = sdk_client("https://api.openai.com/v1", "k", 5.0)
    assert not isinstance(sdk._client._transport, LiteTransport)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_tls_is_verified(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    async with RawHTTPServer(tls=server_tls) as server:
        trusting = ssl.create_default_context(cafile=str(cert))
        async with http.AsyncClient(transport=LiteTransport(trusting)) as c:
            assert (await c.get(server.url)).content == b"ok"
            assert (await c.get(server.url)).content == b"ok"
        assert server.connections == 1
        with pytest.raises(http.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            async with http.AsyncClient(transport=LiteTransport(tls_context())) as c:
                await c.get(server.url)


async def test_a_closed_transport_refuses_work(raw: RawHTTPServer) -> None:
    transport = LiteTransport(tls_context())
    async with http.AsyncClient(transport=transport) as c:
        await c.get(raw.url)
    with pytest.raises(RuntimeError):
        await transport.handle_async_request(http.Request("GET", raw.url))
