"""A small async client for the Zalo Bot API, written directly on httpx.

The API mirrors Telegram's URL form (`{base}{token}/{method}`, `{"ok", "result"}` replies)
but is much smaller: no edits, no keyboards, one update per `getUpdates`, and an empty
long poll answers `ok: false` with `error_code` 408.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bot.core import bounded_json

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com/bot"
MAX_TEXT = 2000
RETRY_CODES = frozenset({429, 500, 502, 503, 504})
AUTH_CODES = frozenset({401, 403, 404})
MAX_REPLY_DEPTH = 32  # a reply nests a few levels; deeper would make its readers recurse

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class ZaloApiError(Exception):
    """Zalo answered `ok: false` (or not JSON); carries the code, never the token."""

    def __init__(
        self, method: str, code: int, description: str, retry_after: float | None = None
    ) -> None:
        super().__init__(f"Zalo {method} failed: {code} {description}")
        self.method = method
        self.code = code
        self.description = description
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """429 and 5xx are worth another try; 4xx are not."""
        return self.code in RETRY_CODES or self.code >= 500


def backoff_delay(attempt: int, base_s: float, cap_s: float) -> float:
    """Exponential back-off with a little jitter, so many bots do not retry in step."""
    delay: float = min(cap_s, base_s * (2**attempt))
    return delay * (0.8 + 0.4 * random.random())


class ZaloClient:
    """The Zalo Bot API methods Hearth uses; base URL and httpx client injectable for tests."""

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.AsyncClient | None = None,
        *,
        max_attempts: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        request_timeout_s: float = 20.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._token = token
        self._base = base_url  # requests go to {base}{token}/{method}, as on Telegram
        self._http = http or httpx.AsyncClient(timeout=request_timeout_s)
        self._owns_http = http is None
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.request_timeout_s = request_timeout_s
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"ZaloClient(base={self._base!r})"

    def _url(self, method: str) -> str:
        return f"{self._base}{self._token}/{method}"

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    async def call_once(
        self, method: str, payload: dict[str, Any] | None = None, *, timeout_s: float | None = None
    ) -> Any:
        """One request, no retries: returns `result` or raises ZaloApiError / httpx errors."""
        response = await self._http.post(
            self._url(method),
            json=payload or {},
            timeout=timeout_s if timeout_s is not None else self.request_timeout_s,
        )
        try:
            body = bounded_json.loads(response.content, MAX_REPLY_DEPTH)
        except ValueError:
            raise ZaloApiError(
                method, response.status_code, f"non-JSON reply ({len(response.content)} bytes)"
            ) from None
        if bounded_json.was_cut(body):  # Zalo has already handed it over: it is dropped
            raise ZaloApiError(method, response.status_code, "reply nested too deeply")
        if not isinstance(body, dict):
            raise ZaloApiError(method, response.status_code, "reply is not a JSON object")
        if body.get("ok") is True:
            return body.get("result")
        code = body.get("error_code")
        if not isinstance(code, int):
            code = response.status_code if response.status_code >= 400 else 400
        params = body.get("parameters")
        retry_after = None
        if isinstance(params, dict) and isinstance(params.get("retry_after"), int | float):
            retry_after = float(params["retry_after"])
        if retry_after is None and response.headers.get("Retry-After", "").isdigit():
            retry_after = float(response.headers["Retry-After"])
        raise ZaloApiError(method, code, str(body.get("description") or ""), retry_after)

    async def call(
        self, method: str, payload: dict[str, Any] | None = None, *, timeout_s: float | None = None
    ) -> Any:
        """Call a method, waiting out 429 and retrying 5xx / network errors with back-off."""
        attempt = 0
        while True:
            try:
                return await self.call_once(method, payload, timeout_s=timeout_s)
            except ZaloApiError as exc:
                if not exc.retryable or attempt + 1 >= self.max_attempts:
                    raise
                delay = exc.retry_after or backoff_delay(
                    attempt, self.backoff_s, self.max_backoff_s
                )
                log.warning(
                    "Zalo %s: %s %s; retrying in %.1fs", method, exc.code, exc.description, delay
                )
            except httpx.TransportError as exc:
                if attempt + 1 >= self.max_attempts:
                    raise
                delay = backoff_delay(attempt, self.backoff_s, self.max_backoff_s)
                log.warning("Zalo %s: %s; retrying in %.1fs", method, type(exc).__name__, delay)
            attempt += 1
            await self._sleep(min(delay, self.max_backoff_s))

    async def download(self, url: str, max_bytes: int = 10 * 1024 * 1024) -> bytes:
        """Fetch an image a user sent (Zalo gives a public URL), refusing huge files."""
        async with self._http.stream("GET", url, timeout=self.request_timeout_s) as response:
            response.raise_for_status()
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise ValueError(f"file larger than {max_bytes} bytes")
            return bytes(data)

    async def get_me(self) -> dict[str, Any]:
        """Check the token and learn the bot's id and name."""
        result = await self.call("getMe")
        return result if isinstance(result, dict) else {}

    async def get_updates(self, timeout_s: float = 30.0) -> dict[str, Any] | None:
        """One long poll: ONE update, or None when nothing came (Zalo's 408)."""
        try:
            result = await self.call_once(
                "getUpdates",
                {"timeout": str(int(timeout_s))},
                timeout_s=timeout_s + self.request_timeout_s,
            )
        except ZaloApiError as exc:
            if exc.code == 408:
                return None
            raise
        if isinstance(result, list):  # tolerate a Telegram-like list, one at a time
            return result[0] if result and isinstance(result[0], dict) else None
        return result if isinstance(result, dict) and result else None

    async def send_message(self, chat_id: str, text: str) -> str:
        """Send plain text (1-2000 characters); returns the new message id."""
        result = await self.call("sendMessage", {"chat_id": chat_id, "text": text})
        return str(result.get("message_id", "")) if isinstance(result, dict) else ""

    async def send_photo(self, chat_id: str, photo_url: str, caption: str = "") -> str:
        """Send an image by public URL (Zalo takes no uploads)."""
        payload = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            payload["caption"] = caption
        result = await self.call("sendPhoto", payload)
        return str(result.get("message_id", "")) if isinstance(result, dict) else ""

    async def send_sticker(self, chat_id: str, sticker: str) -> str:
        """Send a sticker by its Zalo sticker id."""
        result = await self.call("sendSticker", {"chat_id": chat_id, "sticker": sticker})
        return str(result.get("message_id", "")) if isinstance(result, dict) else ""

    async def send_chat_action(
        self, chat_id: str, action: str = "typing", *, timeout_s: float | None = None
    ) -> None:
        """Show 'typing…' once; callers repeat it while they work. Never retried."""
        await self.call_once(
            "sendChatAction", {"chat_id": chat_id, "action": action}, timeout_s=timeout_s
        )

    async def set_webhook(self, url: str, secret_token: str) -> dict[str, Any]:
        """Register the HTTPS webhook; getUpdates stops working after this."""
        result = await self.call("setWebhook", {"url": url, "secret_token": secret_token})
        return result if isinstance(result, dict) else {}

    async def delete_webhook(self) -> None:
        """Remove the webhook so long polling works again."""
        await self.call("deleteWebhook")

    async def get_webhook_info(self) -> dict[str, Any]:
        """The webhook currently registered (`url` is empty when none)."""
        result = await self.call("getWebhookInfo")
        return result if isinstance(result, dict) else {}
