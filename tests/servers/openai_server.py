"""A scriptable OpenAI-compatible server on loopback, for tests of the real openai client.

It answers `/v1/chat/completions` (JSON and SSE), `/v1/embeddings`, `/v1/audio/transcriptions`
and `/v1/models`, records every request, and plays a queue of scripted behaviours (errors,
delays, malformed bodies, cut streams, fixed replies) before falling back to its default reply.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"
TRANSCRIPTIONS = "/v1/audio/transcriptions"
SPEECH = "/v1/audio/speech"
EMBED_DIM = 64

# The texts real servers send when a prompt does not fit (llama-cpp-python, then llama.cpp).
CONTEXT_MESSAGE = (
    "This model's maximum context length is 2048 tokens. However, you requested 9000 tokens "
    "(8900 in the messages, 100 in the completion). Please reduce the length of the messages "
    "or completion."
)
LLAMA_CPP_CONTEXT_MESSAGE = "the request exceeds the available context size, try increasing it"

Messages = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as the server saw it (the Authorization header is never kept)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    had_auth: bool
    at: float


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One scripted answer: consumed by the next request to `path`."""

    kind: str  # status | delay | malformed | cut | reply | trickle | flood
    path: str = CHAT
    status: int = 200
    message: str = ""
    err_type: str = "invalid_request_error"
    code: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0
    text: str = ""
    after_chunks: int = 2


def status(
    code: int,
    message: str = "scripted error",
    *,
    err_type: str = "server_error",
    err_code: str | None = None,
    headers: dict[str, str] | None = None,
    path: str = CHAT,
) -> Behaviour:
    """An HTTP error with an OpenAI-style `{"error": {...}}` body."""
    return Behaviour(
        "status", path, code, message, err_type, err_code, tuple((headers or {}).items())
    )


def rate_limited(retry_after_s: float | None = None, *, ms: float | None = None) -> Behaviour:
    """429 with `Retry-After` (seconds) and/or `retry-after-ms`."""
    headers: dict[str, str] = {}
    if retry_after_s is not None:
        headers["Retry-After"] = f"{retry_after_s:g}"
    if ms is not None:
        headers["retry-after-ms"] = f"{ms:g}"
    return status(429, "Rate limit reached", err_type="rate_limit_error", headers=headers)


def context_too_long(llama_cpp: bool = False) -> Behaviour:
    """The 400 a server sends when the prompt does not fit its context window."""
    if llama_cpp:
        return status(400, LLAMA_CPP_CONTEXT_MESSAGE, err_type="exceed_context_size_error")
    return status(
        400, CONTEXT_MESSAGE, err_type="invalid_request_error", err_code="context_length_exceeded"
    )


def delay(seconds: float, path: str = CHAT) -> Behaviour:
    """Sleep before answering normally (longer than the client timeout = a timeout)."""
    return Behaviour("delay", path, delay_s=seconds)


def malformed(path: str = CHAT) -> Behaviour:
    """200 with a body that is not valid JSON."""
    return Behaviour("malformed", path)


def cut_stream(after_chunks: int = 2) -> Behaviour:
    """Stream a few chunks, then drop the connection without finishing."""
    return Behaviour("cut", CHAT, after_chunks=after_chunks)


def trickle(interval_s: float = 0.2, seconds: float = 30.0) -> Behaviour:
    """A server that never finishes: one byte (JSON) or one word (stream) per interval,
    each well inside the client's read timeout, for `seconds` at most."""
    return Behaviour("trickle", CHAT, delay_s=interval_s, after_chunks=int(seconds / interval_s))


def flood(seconds: float = 30.0) -> Behaviour:
    """A server that sends as fast as it can and never ends its answer (bounded in time)."""
    return Behaviour("flood", CHAT, delay_s=seconds)


def reply(text: str) -> Behaviour:
    """Answer the next chat request with this exact text."""
    return Behaviour("reply", CHAT, text=text)


def last_user_text(messages: Messages) -> str:
    """The content of the last user message (text parts joined)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def echo_reply(messages: Messages) -> str:
    """Default answer: a short sentence that mentions the last user message."""
    return f"Fake answer about: {last_user_text(messages)[:200]}"


def embed_text(text: str, dim: int = EMBED_DIM) -> list[float]:
    """Hashed character trigrams, L2-normalised: similar texts get similar vectors."""
    vec = [0.0] * dim
    padded = f"  {text.lower()}  "
    for i in range(len(padded) - 2):
        digest = hashlib.blake2b(padded[i : i + 3].encode(), digest_size=4).digest()
        vec[int.from_bytes(digest, "little") % dim] += 1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


def count_tokens(text: str) -> int:
    """A rough token count (words and punctuation) for the usage fields."""
    return len(re.findall(r"\w+|[^\w\s]", text))


@dataclass
class OpenAIServer:
    """The server state: configuration, the behaviour queue and the request history."""

    reply_fn: Callable[[Messages], str] = echo_reply
    reported_model: str | None = None  # None: echo the requested model
    latency_s: float = 0.0
    chunk_delay_s: float = 0.0
    embeddings: bool = True
    transcription: str | None = "xin chào cả nhà"
    speech: bool = True  # False: answer /audio/speech with 404, as chat-only servers do
    stream_usage: bool = True  # False: behave like servers that never send usage chunks
    history: list[Recorded] = field(default_factory=list)
    _queue: list[Behaviour] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT/v1`, the value for LLM_BASE_URL."""
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours; each is used once by the next request to its path."""
        with self._lock:
            self._queue.extend(behaviours)

    def requests(self, path: str = CHAT) -> list[Recorded]:
        """The recorded requests to one path, oldest first."""
        with self._lock:
            return [r for r in self.history if r.path == path]

    def _take(self, path: str) -> Behaviour | None:
        with self._lock:
            for i, b in enumerate(self._queue):
                if b.path == path:
                    return self._queue.pop(i)
        return None

    def _record(self, item: Recorded) -> None:
        with self._lock:
            self.history.append(item)

    def start(self) -> OpenAIServer:
        """Bind a port from the OS on 127.0.0.1 and serve in a daemon thread."""
        server = self

        class Handler(_Handler):
            state = server

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release delayed handlers."""
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


@contextmanager
def running_openai_server(**options: Any) -> Iterator[OpenAIServer]:
    """Start a server for the duration of a `with` block (sync or async tests alike)."""
    server = OpenAIServer(**options).start()
    try:
        yield server
    finally:
        server.stop()


def dead_base_url() -> str:
    """A loopback URL where nothing listens (a port the OS gave and took back)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


class _Server(ThreadingHTTPServer):
    request_queue_size = 2048
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a timeout, a cancelled summary at shutdown) is normal."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls per response
    state: OpenAIServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _record(self, body: Any) -> None:
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"}
        had_auth = bool(self.headers.get("Authorization"))
        path = self.path.split("?", 1)[0]
        self.state._record(Recorded(self.command, path, headers, body, had_auth, time.time()))

    def _send_json(
        self, code: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(
        self,
        code: int,
        message: str,
        err_type: str,
        err_code: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        body = {"error": {"message": message, "type": err_type, "param": None, "code": err_code}}
        self._send_json(code, body, headers)

    def _wait(self, seconds: float) -> bool:
        """Sleep unless the server stops; False when it stopped."""
        return not self.state._stop.wait(seconds) if seconds > 0 else True

    def do_GET(self) -> None:
        """`/v1/models` lists the one model the server pretends to have."""
        self._record(None)
        if self.path.split("?", 1)[0] == "/v1/models":
            name = self.state.reported_model or "fake-model"
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": name, "object": "model", "created": 0, "owned_by": "hearth-tests"}
                    ],
                },
            )
        else:
            self._error(404, f"no route {self.path}", "not_found_error")

    def do_POST(self) -> None:
        """Route a POST after recording it and applying a scripted behaviour."""
        raw = self._read_body()
        path = self.path.split("?", 1)[0]
        body: Any
        if path == TRANSCRIPTIONS:
            body = {
                "bytes": len(raw),
                "filename": _multipart_filename(raw),
                "model": _multipart_field(raw, "model"),
            }
        else:
            try:
                body = json.loads(raw or b"null")
            except json.JSONDecodeError:
                body = None
        self._record(body)
        if not self._wait(self.state.latency_s):
            return
        behaviour = self.state._take(path)
        if behaviour is not None and not self._apply(behaviour, body):
            return
        if path == CHAT:
            text = behaviour.text if behaviour and behaviour.kind == "reply" else None
            self._chat(body or {}, text, behaviour)
        elif path == EMBEDDINGS:
            self._embeddings(body or {})
        elif path == TRANSCRIPTIONS:
            self._transcription()
        elif path == SPEECH:
            self._speech(body or {})
        else:
            self._error(404, f"no route {path}", "not_found_error")

    def _apply(self, b: Behaviour, body: Any = None) -> bool:
        """Play a behaviour; True when the normal answer should still follow."""
        if b.kind == "status":
            self._error(b.status, b.message, b.err_type, b.code, b.headers)
            return False
        if b.kind == "malformed":
            data = b'{"id": "chatcmpl-broken", "choices": [ {"mess'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return False
        if b.kind == "delay":
            return self._wait(b.delay_s)
        if b.kind in ("trickle", "flood"):
            self._endless(b, bool(isinstance(body, dict) and body.get("stream")))
            return False
        return True

    def _endless(self, b: Behaviour, streamed: bool) -> None:
        """Trickle or flood an answer that never ends, until the client hangs up."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream" if streamed else "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        word = {"choices": [{"index": 0, "delta": {"content": "lặp "}, "finish_reason": None}]}
        unit = f"data: {json.dumps(word, ensure_ascii=False)}\n\n".encode() if streamed else b" "
        try:
            if not streamed:
                self._chunk(b'{"choices": [{"message": {"content": "')
            if b.kind == "trickle":
                for _ in range(b.after_chunks):
                    self._chunk(unit if streamed else b"a")
                    if not self._wait(b.delay_s):
                        return
            else:
                block = unit * max(1, 16384 // len(unit))
                until = time.monotonic() + b.delay_s
                while time.monotonic() < until and not self.state._stop.is_set():
                    self._chunk(block)
        except OSError:  # the client hung up: what a cut-off looks like from here
            return

    def _chat(self, body: dict[str, Any], fixed: str | None, b: Behaviour | None) -> None:
        messages = body.get("messages") or []
        text = fixed if fixed is not None else self.state.reply_fn(messages)
        model = self.state.reported_model or str(body.get("model") or "fake-model")
        prompt_tokens = sum(count_tokens(str(m.get("content") or "")) for m in messages)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": count_tokens(text),
            "total_tokens": prompt_tokens + count_tokens(text),
        }
        if body.get("stream"):
            opts = body.get("stream_options") or {}
            include_usage = bool(opts.get("include_usage")) and self.state.stream_usage
            cut = b.after_chunks if b is not None and b.kind == "cut" else None
            self._stream(text, model, usage if include_usage else None, cut)
            return
        self._send_json(
            200,
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": text},
                    }
                ],
                "usage": usage,
            },
        )

    def _stream(self, text: str, model: str, usage: dict[str, int] | None, cut: int | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        base = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        pieces = re.findall(r"\S+\s*|\s+", text) or [""]
        events = [
            {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                    }
                ],
            }
        ]
        events += [
            {**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]}
            for p in pieces
        ]
        events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if usage is not None:
            events.append({**base, "choices": [], "usage": usage})
        for i, event in enumerate(events):
            if cut is not None and i > cut:
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)  # drop without the chunked terminator
                return
            self._chunk(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
            if i > 0 and not self._wait(self.state.chunk_delay_s):
                return
        self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _embeddings(self, body: dict[str, Any]) -> None:
        if not self.state.embeddings:
            self._error(404, "File Not Found", "not_found_error")
            return
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        data = [
            {"object": "embedding", "index": i, "embedding": embed_text(str(t))}
            for i, t in enumerate(texts)
        ]
        tokens = sum(count_tokens(str(t)) for t in texts)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": str(body.get("model")),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _transcription(self) -> None:
        if self.state.transcription is None:
            self._error(404, "File Not Found", "not_found_error")
            return
        self._send_json(200, {"text": self.state.transcription})

    def _speech(self, body: dict[str, Any]) -> None:
        """Fake Ogg/Opus: the magic bytes, then the text read (so a test sees what was said)."""
        if not self.state.speech:
            self._error(404, "no speech here", "not_found_error")
            return
        data = b"OggS" + str(body.get("input") or "").encode()
        self.send_response(200)
        self.send_header("Content-Type", "audio/ogg")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _multipart_field(raw: bytes, name: str) -> str | None:
    match = re.search(rb'name="' + name.encode() + rb'"\r\n\r\n([^\r]*)', raw)
    return match.group(1).decode(errors="replace") if match else None


def _multipart_filename(raw: bytes) -> str | None:
    match = re.search(rb'name="file"; filename="([^"]*)"', raw)
    return match.group(1).decode(errors="replace") if match else None
