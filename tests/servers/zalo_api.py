"""A loopback Zalo Bot API, faithful to what Zalo documents, for in-process and e2e tests.

- `POST {base}{token}/{method}` with a JSON body; a wrong token answers 401.
- `getUpdates` returns ONE update (not a list) and takes no offset; when nothing comes
  within the long-poll wait it answers `ok: false`, `error_code` 408. It fails once a
  webhook is set; pushed updates are then POSTed to the webhook with the secret header.
- `sendMessage` rejects text outside 1..2000 characters with `ok: false` (400).
- ids are strings, dates milliseconds; 429 (or anything) can be injected per method.

Run standalone: `python -m tests.servers.zalo_api` prints the base URL and the token.
"""

from __future__ import annotations

import itertools
import json
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_TOKEN = "1459232241454765289:loopbacksecretABCDEFGH"
MAX_TEXT = 2000


def _hex_id() -> str:
    return secrets.token_hex(10)


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Failure:
    """An injected error for the next `times` calls of one method."""

    code: int
    description: str
    times: int
    retry_after: int | None = None


@dataclass
class ZaloState:
    """Everything the fake API remembers; guarded by one condition variable."""

    token: str
    long_poll_cap_s: float
    bot_id: str = "1459232241454765289"
    bot_name: str = "Hearth"
    updates: deque[dict[str, Any]] = field(default_factory=deque)
    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failures: dict[str, deque[Failure]] = field(default_factory=dict)
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_wrapped: bool = True
    webhook_deliveries: list[tuple[int, str]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms stalls

    def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
        return

    def _reply(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, code: int, description: str, retry_after: int | None = None) -> None:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        headers = {}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
            headers["Retry-After"] = str(retry_after)
        self._reply(code, body, headers)

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            self._error(404, "Not Found")
            return
        token, method = parts[0][3:], parts[1]
        state = self.server.state
        if token != state.token:
            self._error(401, "Unauthorized")
            return
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            self._error(400, "Bad Request: body is not JSON")
            return
        if not isinstance(payload, dict):
            self._error(400, "Bad Request: body is not an object")
            return
        with state.cond:
            state.calls.append((method, payload))
            queue = state.failures.get(method)
            failure = queue[0] if queue else None
            if failure is not None:
                failure.times -= 1
                if failure.times <= 0:
                    queue.popleft()  # type: ignore[union-attr]
        if failure is not None:
            self._error(failure.code, failure.description, failure.retry_after)
            return
        handler = getattr(self, f"m_{method}", None)
        if handler is None:
            self._error(404, f"Not Found: method {method}")
            return
        handler(payload)

    def _ok(self, result: Any) -> None:
        self._reply(200, {"ok": True, "result": result})

    def m_getMe(self, payload: dict[str, Any]) -> None:
        state = self.server.state
        self._ok(
            {
                "id": state.bot_id,
                "account_name": state.bot_name,
                "account_type": "BASIC",
                "can_join_groups": False,
            }
        )

    def m_getUpdates(self, payload: dict[str, Any]) -> None:
        state = self.server.state
        try:
            wait = float(payload.get("timeout", 30))
        except (TypeError, ValueError):
            wait = 30.0
        wait = min(wait, state.long_poll_cap_s)
        with state.cond:
            if state.webhook_url:
                update = None
                conflict = True
            else:
                conflict = False
                state.cond.wait_for(lambda: bool(state.updates), timeout=wait)
                update = state.updates.popleft() if state.updates else None
        if conflict:
            self._error(400, "Bad Request: webhook is set, getUpdates is disabled")
        elif update is None:
            self._error(408, "Request Timeout")
        else:
            self._ok(update)

    def m_sendMessage(self, payload: dict[str, Any]) -> None:
        chat_id, text = payload.get("chat_id"), payload.get("text")
        if not isinstance(chat_id, str) or not chat_id:
            self._error(400, "Bad Request: chat_id is required")
            return
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT:
            self._error(400, "Bad Request: text must be 1 to 2000 characters")
            return
        self._record("sendMessage", {"chat_id": chat_id, "text": text})

    def m_sendPhoto(self, payload: dict[str, Any]) -> None:
        photo = payload.get("photo")
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            self._error(400, "Bad Request: photo must be a public URL")
            return
        self._record(
            "sendPhoto",
            {
                "chat_id": payload.get("chat_id"),
                "photo": photo,
                "caption": payload.get("caption", ""),
            },
        )

    def m_sendSticker(self, payload: dict[str, Any]) -> None:
        self._record(
            "sendSticker", {"chat_id": payload.get("chat_id"), "sticker": payload.get("sticker")}
        )

    def _record(self, method: str, item: dict[str, Any]) -> None:
        state = self.server.state
        result = {"message_id": _hex_id(), "date": _now_ms()}
        with state.cond:
            state.sent.append({"method": method, **item, **result})
            state.cond.notify_all()
        self._ok(result)

    def m_sendChatAction(self, payload: dict[str, Any]) -> None:
        if payload.get("action") not in ("typing", "upload_photo"):
            self._error(400, "Bad Request: unknown action")
            return
        self._reply(200, {"ok": True})

    def m_setWebhook(self, payload: dict[str, Any]) -> None:
        url, secret = payload.get("url"), payload.get("secret_token")
        if not isinstance(url, str) or not url.startswith(("https://", "http://127.0.0.1")):
            self._error(400, "Bad Request: url must be HTTPS")
            return
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            self._error(400, "Bad Request: secret_token must be 8 to 256 characters")
            return
        state = self.server.state
        with state.cond:
            state.webhook_url, state.webhook_secret = url, secret
            state.cond.notify_all()
        self._ok({"url": url, "updated_at": _now_ms()})

    def m_deleteWebhook(self, payload: dict[str, Any]) -> None:
        state = self.server.state
        with state.cond:
            state.webhook_url = state.webhook_secret = ""
        self._ok({"url": "", "updated_at": _now_ms()})

    def m_getWebhookInfo(self, payload: dict[str, Any]) -> None:
        self._ok({"url": self.server.state.webhook_url, "updated_at": _now_ms()})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 2048
    state: ZaloState

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A bot that gave up on a long poll (stop, cancel) is normal, not an error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class ZaloApiServer:
    """Start on 127.0.0.1 and an OS port; push updates in, read what the bot sent out."""

    def __init__(self, token: str = DEFAULT_TOKEN, long_poll_cap_s: float = 0.5) -> None:
        self.state = ZaloState(token=token, long_poll_cap_s=long_poll_cap_s)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)

    @property
    def token(self) -> str:
        """The token the fake API accepts."""
        return self.state.token

    @property
    def base_url(self) -> str:
        """What ZALO_API_BASE_URL should be: requests go to `{base}{token}/{method}`."""
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    def start(self) -> ZaloApiServer:
        """Listen on a port from the OS, serving in a daemon thread."""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True, name="zalo-api"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut down and wake any waiting long poll."""
        if self._server is not None:
            with self.state.cond:
                self.state.cond.notify_all()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- feeding updates -------------------------------------------------------------
    def make_update(
        self,
        text: str | None = None,
        *,
        chat_id: str = "chat-1",
        user_id: str | None = None,
        display_name: str = "Mẹ Lan",
        chat_type: str = "PRIVATE",
        message_id: str | None = None,
        event_name: str | None = None,
        photo: str | None = None,
        sticker: str | None = None,
    ) -> dict[str, Any]:
        """A faithful update: string ids, millisecond date, one message."""
        message: dict[str, Any] = {
            "message_id": message_id or _hex_id(),
            "chat": {"id": chat_id, "chat_type": chat_type},
            "from": {"id": user_id or chat_id, "display_name": display_name, "is_bot": False},
            "date": _now_ms(),
        }
        if text is not None:
            message["text"] = text
        if photo is not None:
            message["photo"] = photo
            if text is not None:
                message["caption"] = text
        if sticker is not None:
            message["sticker"] = sticker
        if event_name is None:
            event_name = (
                "message.image.received"
                if photo
                else "message.sticker.received"
                if sticker
                else "message.text.received"
                if text is not None
                else "message.unsupported.received"
            )
        return {"event_name": event_name, "message": message}

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates, or deliver it to the webhook if one is set."""
        with self.state.cond:
            url, secret = self.state.webhook_url, self.state.webhook_secret
            if not url:
                self.state.updates.append(update)
                self.state.cond.notify_all()
        if url:
            self._deliver(url, secret, update)
        return update

    def push_text(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """Queue a text message; returns the update (its message id is in it)."""
        return self.push(self.make_update(text, **kwargs))

    def _deliver(self, url: str, secret: str, update: dict[str, Any]) -> None:
        body = {"ok": True, "result": update} if self.state.webhook_wrapped else update
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode("utf-8"),
            method="POST",
            headers={"Content-Type": "application/json", "X-Bot-Api-Secret-Token": secret},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, text = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode("utf-8", "replace")
        with self.state.cond:
            self.state.webhook_deliveries.append((status, text))

    def fail_next(
        self,
        method: str,
        code: int = 429,
        times: int = 1,
        description: str = "Too Many Requests",
        retry_after: int | None = None,
    ) -> None:
        """Make the next `times` calls of `method` fail with `code`."""
        with self.state.cond:
            self.state.failures.setdefault(method, deque()).append(
                Failure(code, description, times, retry_after)
            )

    # --- reading what the bot did ----------------------------------------------------
    def sent_to(self, chat_id: str) -> list[dict[str, Any]]:
        """Messages sent to one chat so far, in order."""
        with self.state.cond:
            return [m for m in self.state.sent if m.get("chat_id") == chat_id]

    def wait_for_sent(
        self, chat_id: str, count: int, timeout_s: float = 10.0
    ) -> list[dict[str, Any]]:
        """Block until `count` messages reached the chat; raises with what came instead."""
        deadline = time.monotonic() + timeout_s
        with self.state.cond:
            while True:
                got = [m for m in self.state.sent if m.get("chat_id") == chat_id]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"expected {count} messages to {chat_id}, got {got!r}")
                self.state.cond.wait(left)

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        """Payloads of every call of one method, in order."""
        with self.state.cond:
            return [p for m, p in self.state.calls if m == method]

    def wait_for_call(self, method: str, count: int = 1, timeout_s: float = 10.0) -> None:
        """Block until the bot has called `method` at least `count` times."""
        deadline = time.monotonic() + timeout_s
        while len(self.calls_of(method)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} called {len(self.calls_of(method))} times")
            time.sleep(0.02)


@contextmanager
def running_zalo_api(**kwargs: Any) -> Iterator[ZaloApiServer]:
    """A started server that is stopped afterwards (for fixtures)."""
    server = ZaloApiServer(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":
    with running_zalo_api(long_poll_cap_s=30.0) as api:
        print(f"ZALO_API_BASE_URL={api.base_url}\nZALO_BOT_TOKEN={api.token}", flush=True)
        threading.Event().wait()
