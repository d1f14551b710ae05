"""A small HTTP/1.1 transport for the model endpoints: the SDK builds the request, we carry it.

The SDK's default transport (httpcore) costs ~0.9 ms of CPU per model call on its own and
walks every pooled connection whenever a request enters or a response closes, so its cost
grows with the calls in flight. This one keeps idle keep-alive connections per origin in
a stack (O(1) to take and to give back), reads with asyncio's stream reader, and frames
bodies by Content-Length, chunked transfer coding or end of stream. It speaks HTTP/1.1
only (model endpoints all do), with TLS through the SDK's verifying context; an
environment that sets a proxy keeps the SDK's own transport (`wanted`).

Errors are the HTTP library's own (ConnectError, ReadTimeout, RemoteProtocolError...), so
the SDK maps them to APIConnectionError / APITimeoutError exactly as before.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
import urllib.request
from collections.abc import AsyncIterator, Coroutine
from typing import Any

try:
    import httpx2 as http  # the HTTP library of openai >= 3
except ImportError:  # pragma: no cover - older openai releases use httpx
    import httpx as http  # type: ignore[no-redef]

KEEPALIVE_EXPIRY_S = 5.0  # an idle connection older than this is not reused (httpcore's default)
READ_CHUNK = 64 * 1024
STREAM_LIMIT = 256 * 1024  # longest response head or chunk-size line we accept
_NO_BODY_STATUS = frozenset((204, 304))
Origin = tuple[bytes, str, int]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every pool: loading the CA bundle costs ~50 ms each time.

    Built the way the SDK's HTTP library builds its default (certifi, SSL_CERT_FILE/DIR).
    """
    return http.create_ssl_context()


@functools.lru_cache(maxsize=256)
def parsed_url(url: str) -> http.URL:
    """`url` parsed once: httpx parses and validates a URL string for every Request built
    from it (35 -> 17 us per request). URLs are immutable; the few endpoints and Bot API
    methods a process calls fit the cache."""
    return http.URL(url)


def wanted(base_url: str) -> bool:
    """Whether this transport may carry `base_url`: plain or TLS HTTP without a proxy.

    Proxies from the environment are the SDK's transport's job (it reads them only when it
    builds its own transport), so any proxy setting keeps that transport.
    """
    return base_url.startswith(("http://", "https://")) and not env_proxied()


def env_proxied() -> bool:
    """Whether the environment names a proxy (HTTPS_PROXY, ALL_PROXY...)."""
    return any(k != "no" for k in urllib.request.getproxies())  # "no": NO_PROXY's list


class _Conn:
    __slots__ = ("idle_since", "origin", "reader", "writer")

    def __init__(self, origin: Origin, reader: asyncio.StreamReader, writer: Any) -> None:
        self.origin = origin
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def alive(self, now: float) -> bool:
        return (
            not self.reader.at_eof()
            and not self.writer.is_closing()
            and now - self.idle_since < KEEPALIVE_EXPIRY_S
        )

    def close(self) -> None:
        self.writer.close()


class _Body(http.AsyncByteStream):
    """A response body read from its connection; the connection goes back when it is read."""

    def __init__(
        self,
        transport: LiteTransport,
        conn: _Conn,
        request: http.Request,
        length: int | None,
        chunked: bool,
        reusable: bool,
        read_s: float | None,
    ) -> None:
        self._transport = transport
        self._conn: _Conn | None = conn
        self._request = request
        self._length = length
        self._chunked = chunked
        self._reusable = reusable
        self._read_s = read_s
        self._done = length == 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self._conn
        if conn is None or self._done:
            return
        reader = conn.reader
        try:
            if self._chunked:
                async for part in self._chunks(reader):
                    yield part
            elif self._length is not None:
                left = self._length
                while left:
                    data = await self._within(reader.read(min(left, READ_CHUNK)))
                    if not data:
                        raise http.RemoteProtocolError(
                            "the server closed the connection mid-body", request=self._request
                        )
                    left -= len(data)
                    yield data
            else:
                while data := await self._within(reader.read(READ_CHUNK)):
                    yield data
            self._done = True
        except TimeoutError as exc:
            raise http.ReadTimeout(
                "reading the response body timed out", request=self._request
            ) from exc
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise http.ReadError(
                f"reading the response body failed: {exc!r}", request=self._request
            ) from exc

    async def _chunks(self, reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
        """The data of the chunks each read completes, joined: one read (and one timer) per
        arrival rather than two per chunk — a streamed answer is dozens of small chunks,
        and those that arrive together are decoded together."""
        buf = bytearray()
        while True:
            data, end = _whole_chunks(buf, self._request)
            if data:
                yield data
            if end:
                if buf:  # bytes after the body: this connection's framing is lost
                    self._reusable = False
                return
            more = await self._within(reader.read(READ_CHUNK))
            if not more:
                raise http.RemoteProtocolError(
                    "the server closed the connection mid-body", request=self._request
                )
            if len(buf) + len(more) > STREAM_LIMIT + READ_CHUNK and buf.find(b"\r\n") < 0:
                raise http.RemoteProtocolError("chunk-size line too long", request=self._request)
            buf += more

    async def _within(self, read: Coroutine[Any, Any, bytes]) -> bytes:
        """One read, bounded by the read timeout (a per-read bound, as httpcore's)."""
        if self._read_s is None:
            return await read
        async with asyncio.timeout(self._read_s):
            return await read

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._done and self._reusable:
            self._transport.release(conn)
        else:
            self._transport.discard(conn)


def _whole_chunks(buf: bytearray, request: http.Request) -> tuple[bytes, bool]:
    """Take the complete chunks at the front of `buf`: (their data, whether the last chunk
    and its trailer were among them). What is left is an unfinished chunk."""
    out: list[bytes] = []
    pos = 0
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            break
        try:
            size = int(bytes(buf[pos:eol]).split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise http.RemoteProtocolError("bad chunk size", request=request) from exc
        if size < 0:
            raise http.RemoteProtocolError("bad chunk size", request=request)
        if size == 0:
            trailer_end = _trailer_end(buf, eol + 2)
            if trailer_end < 0:
                break
            del buf[:trailer_end]
            return b"".join(out), True
        stop = eol + 2 + size
        if len(buf) < stop + 2:
            break
        if buf[stop : stop + 2] != b"\r\n":
            raise http.RemoteProtocolError("chunk data without its CRLF", request=request)
        out.append(bytes(buf[eol + 2 : stop]))
        pos = stop + 2
    del buf[:pos]
    return b"".join(out), False


def _trailer_end(buf: bytearray, start: int) -> int:
    """Where the trailer section after the last chunk ends (its empty line), or -1."""
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return -1
        if eol == pos:
            return eol + 2
        pos = eol + 2  # a trailer field: nothing we use


class LiteTransport(http.AsyncBaseTransport):
    """Keep-alive HTTP/1.1 connections per origin, reused newest first."""

    def __init__(self, ssl_context: ssl.SSLContext, keepalive: int = 16) -> None:
        self._ssl = ssl_context
        self._keepalive = keepalive
        self._idle: dict[Origin, list[_Conn]] = {}
        self._open: set[_Conn] = set()
        self._closed = False

    @property
    def connections(self) -> int:
        """Open connections, idle or carrying a request (for tests and the bench)."""
        return len(self._open)

    async def handle_async_request(self, request: http.Request) -> http.Response:
        if self._closed:
            raise RuntimeError("the transport is closed")
        url = request.url
        scheme = url.raw_scheme
        port = url.port or (443 if scheme == b"https" else 80)
        origin: Origin = (scheme, url.host, port)
        timeouts: dict[str, float | None] = request.extensions.get("timeout") or {}
        body = await request.aread()
        head = _head(request, body)
        conn = self._take(origin)
        if conn is not None:
            try:
                return await self._exchange(conn, request, head + body, timeouts, reused=True)
            except _Stale:
                pass  # closed by the server while idle: one more try on a new connection
        conn = await self._connect(origin, request, timeouts)
        return await self._exchange(conn, request, head + body, timeouts, reused=False)

    async def _exchange(
        self,
        conn: _Conn,
        request: http.Request,
        message: bytes,
        timeouts: dict[str, float | None],
        *,
        reused: bool,
    ) -> http.Response:
        """Send the request and read the response head; the connection is closed on any
        failure. `reused`: it came from the idle stack, so the server may have closed it."""
        try:
            conn.writer.write(message)
            if conn.writer.transport.get_write_buffer_size() > 65536:
                try:
                    async with asyncio.timeout(timeouts.get("write")):
                        await conn.writer.drain()
                except TimeoutError as exc:
                    raise http.WriteTimeout(
                        "sending the request timed out", request=request
                    ) from exc
            status, reason, headers, version = await _read_head(conn, request, timeouts, reused)
            return self._response(conn, request, status, reason, headers, version, timeouts)
        except BaseException:
            self.discard(conn)
            raise

    def _response(
        self,
        conn: _Conn,
        request: http.Request,
        status: int,
        reason: bytes,
        headers: list[tuple[bytes, bytes]],
        version: bytes,
        timeouts: dict[str, float | None],
    ) -> http.Response:
        length: int | None = None
        chunked = False
        close = version != b"HTTP/1.1"
        for name, value in headers:
            low = name.lower()
            if low == b"content-length":
                try:
                    length = int(value)
                except ValueError as exc:
                    raise http.RemoteProtocolError("bad Content-Length", request=request) from exc
            elif low == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif low == b"connection":
                token = value.lower()
                close = b"close" in token or (close and b"keep-alive" not in token)
        if request.method == "HEAD" or status in _NO_BODY_STATUS:
            length, chunked = 0, False
        if chunked:
            length = None
        reusable = not close and (chunked or length is not None)
        stream = _Body(self, conn, request, length, chunked, reusable, timeouts.get("read"))
        return http.Response(
            status_code=status,
            headers=headers,
            stream=stream,
            extensions={"http_version": version, "reason_phrase": reason},
        )

    def _take(self, origin: Origin) -> _Conn | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if conn.alive(now):
                return conn
            self.discard(conn)
        return None

    async def _connect(
        self, origin: Origin, request: http.Request, timeouts: dict[str, float | None]
    ) -> _Conn:
        scheme, host, port = origin
        tls = self._ssl if scheme == b"https" else None
        try:
            async with asyncio.timeout(timeouts.get("connect")):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=host if tls else None, limit=STREAM_LIMIT
                )
        except TimeoutError as exc:
            raise http.ConnectTimeout(
                f"connecting to {host}:{port} timed out", request=request
            ) from exc
        except (OSError, ssl.SSLError) as exc:
            raise http.ConnectError(
                f"cannot connect to {host}:{port}: {exc}", request=request
            ) from exc
        conn = _Conn(origin, reader, writer)
        if self._closed:
            conn.close()
            raise RuntimeError("the transport is closed")
        self._open.add(conn)
        return conn

    def release(self, conn: _Conn) -> None:
        """Keep a connection whose response was read to the end for the next request."""
        conn.idle_since = time.monotonic()
        if self._closed or not conn.alive(conn.idle_since):
            self.discard(conn)
            return
        idle = self._idle.setdefault(conn.origin, [])
        idle.append(conn)
        if len(idle) > self._keepalive:
            self.discard(idle.pop(0))

    def discard(self, conn: _Conn) -> None:
        """Close a connection that must not carry another request."""
        self._open.discard(conn)
        conn.close()

    async def aclose(self) -> None:
        self._closed = True
        self._idle.clear()
        for conn in list(self._open):
            self.discard(conn)


class _Stale(Exception):
    """A reused connection ended before any byte of the response: safe to send again."""


def _head(request: http.Request, body: bytes) -> bytes:
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), request.url.raw_path)]
    chunked = False
    for name, value in request.headers.raw:
        if name.lower() == b"transfer-encoding":
            chunked = True
            continue
        lines.append(name + b": " + value)
    if chunked:  # the body was read whole: send its length instead of chunks
        lines.append(b"Content-Length: %d" % len(body))
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


async def _read_head(
    conn: _Conn, request: http.Request, timeouts: dict[str, float | None], reused: bool
) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes]:
    """Status, reason, headers and version of the response (informational ones skipped)."""
    while True:
        try:
            async with asyncio.timeout(timeouts.get("read")):
                raw = await conn.reader.readuntil(b"\r\n\r\n")
        except TimeoutError as exc:
            raise http.ReadTimeout("waiting for the response timed out", request=request) from exc
        except asyncio.IncompleteReadError as exc:
            if reused and not exc.partial:
                raise _Stale from exc
            raise http.RemoteProtocolError(
                "the server closed the connection mid-response", request=request
            ) from exc
        except asyncio.LimitOverrunError as exc:
            raise http.RemoteProtocolError("response head too long", request=request) from exc
        except (ConnectionResetError, BrokenPipeError) as exc:
            if reused:
                raise _Stale from exc
            raise http.ReadError(f"connection lost: {exc!r}", request=request) from exc
        except OSError as exc:
            raise http.ReadError(f"connection lost: {exc!r}", request=request) from exc
        lines = raw[:-4].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        try:
            version, status = parts[0], int(parts[1])
        except (IndexError, ValueError) as exc:
            raise http.RemoteProtocolError("bad status line", request=request) from exc
        if 100 <= status < 200 and status != 101:
            continue
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                raise http.RemoteProtocolError("bad header line", request=request)
            headers.append((name.strip(), value.strip()))
        return status, parts[2] if len(parts) > 2 else b"", headers, version
