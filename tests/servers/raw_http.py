"""A loopback HTTP/1.1 server that answers with scripted bytes, for testing an HTTP client.

Each request (head plus a Content-Length body) is recorded with the number of the
connection that carried it, then answered by the next scripted `Reply`: raw bytes, then
optionally a pause or closing the connection. With the script empty it answers a small
keep-alive 200. It runs on the test's own event loop (`async with RawHTTPServer() as s`).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reply:
    """What the server does with one request."""

    data: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    close: bool = False  # close the connection after writing `data`
    pause_s: float = 0.0  # wait before writing `data`
    split_at: int | None = None  # write `data` in two parts, 50 ms apart


def ok(body: bytes = b"ok", *headers: str) -> Reply:
    """A keep-alive 200 with a Content-Length body."""
    extra = "".join(f"{h}\r\n" for h in headers)
    return Reply(f"HTTP/1.1 200 OK\r\n{extra}Content-Length: {len(body)}\r\n\r\n".encode() + body)


def chunked(*parts: bytes, trailer: bytes = b"") -> Reply:
    """A keep-alive 200 whose body is sent in chunks (with a chunk extension on the first)."""
    out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    for i, part in enumerate(parts):
        ext = b";note=1" if i == 0 else b""
        out += b"%x%s\r\n%s\r\n" % (len(part), ext, part)
    return Reply(out + b"0\r\n" + trailer + b"\r\n")


@dataclass
class Seen:
    """One request as the server read it."""

    connection: int
    head: bytes
    body: bytes


@dataclass
class RawHTTPServer:
    """Scripted replies on 127.0.0.1; `requests` and `connections` say what arrived."""

    tls: ssl.SSLContext | None = None
    replies: list[Reply] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://localhost:{self.port}"

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        self.replies.extend(replies)

    async def __aenter__(self) -> RawHTTPServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        # let each connection's handler see its end and return (a handler still running
        # when the test's loop closes is cancelled, and asyncio logs that as an error)
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=2.0)

    async def close_idle(self) -> None:
        """Close every connection from the server's side, as a keep-alive timeout would."""
        for writer in list(self._writers):
            writer.close()
        await asyncio.sleep(0.05)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)
        self.connections += 1
        number = self.connections
        self.open_now += 1
        self._writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                self.requests.append(Seen(number, head, body))
                reply = self.replies.pop(0) if self.replies else Reply()
                if reply.pause_s and await _closed_within(reader, reply.pause_s):
                    return
                if reply.split_at is not None:
                    writer.write(reply.data[: reply.split_at])
                    await writer.drain()
                    await asyncio.sleep(0.05)
                    writer.write(reply.data[reply.split_at :])
                else:
                    writer.write(reply.data)
                await writer.drain()
                if reply.close:
                    return
        except ConnectionError:
            return
        finally:
            self.open_now -= 1
            self._writers.discard(writer)
            writer.close()


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Wait `seconds`, or less when the connection ends first (then True)."""
    try:
        await asyncio.wait_for(reader.read(1), seconds)
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True  # EOF (or an unexpected byte: the client broke the exchange)
