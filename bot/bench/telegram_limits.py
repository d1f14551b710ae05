"""Telegram's flood limits, enforced by the loopback Bot API while the bench runs.

Telegram states them loosely: about 30 messages a second per bot, about one message a
second in one chat (short bursts allowed), 20 messages a minute in a group. Each is a token
bucket here. The bot's bucket takes every request that names a chat (as python-telegram-bot's
AIORateLimiter counts them); a chat's and a group's take messages and edits. A request that
finds a bucket empty gets Telegram's own answer, 429 "Too Many Requests: retry after N" with
`parameters.retry_after`, and is counted.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MESSAGE_PREFIXES = ("send", "edit", "copy", "forward")
BOT_PER_S = 30.0
CHAT_PER_S, CHAT_BURST = 1.0, 3.0
GROUP_PER_MIN = 20.0


@dataclass(slots=True)
class Bucket:
    """`capacity` tokens, refilled at `per_s`; a request takes one."""

    capacity: float
    per_s: float
    tokens: float
    at: float

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0: there is one now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.per_s)
        self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.per_s


def is_message(method: str) -> bool:
    """A method that puts a message in a chat or changes one (not a typing indicator)."""
    return method.startswith(MESSAGE_PREFIXES) and method != "sendChatAction"


class TelegramLimits:
    """The buckets of one bot, and the 429s they caused by method."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.bot = Bucket(BOT_PER_S, BOT_PER_S, BOT_PER_S, clock())
        self.chats: dict[int, Bucket] = {}
        self.status_429: Counter[str] = Counter()
        self.lock = threading.Lock()

    def _chat_buckets(self, chat_id: int, now: float) -> list[Bucket]:
        bucket = self.chats.get(chat_id)
        if bucket is None:
            if chat_id < 0:
                bucket = Bucket(GROUP_PER_MIN, GROUP_PER_MIN / 60, GROUP_PER_MIN, now)
            else:
                bucket = Bucket(CHAT_BURST, CHAT_PER_S, CHAT_BURST, now)
            self.chats[chat_id] = bucket
        return [bucket]

    def admit(self, method: str, params: dict[str, Any]) -> float:
        """0 when the request may go (its tokens are taken); else the seconds Telegram
        would ask the bot to wait (nothing is taken, the 429 is counted)."""
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, TypeError, ValueError):
            return 0.0  # getUpdates, getMe, answerCallbackQuery…: no chat, no flood limit
        with self.lock:
            now = self.clock()
            buckets = [self.bot]
            if is_message(method):
                buckets += self._chat_buckets(chat_id, now)
            wait = max(b.wait(now) for b in buckets)
            if wait > 0:
                self.status_429[method] += 1
                return wait
            for bucket in buckets:
                bucket.tokens -= 1
            return 0.0

    def install(self, fake: Any, api_error: type[Exception]) -> None:
        """Put the limits in front of a running loopback Bot API (its `handle` method)."""
        inner = fake.handle

        def handle(method: str, params: dict[str, Any], files: Any) -> Any:
            wait = self.admit(method, params)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                raise api_error(  # type: ignore[call-arg]
                    429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
                )
            return inner(method, params, files)

        fake.handle = handle

    @property
    def total_429(self) -> int:
        """Every request refused so far."""
        return sum(self.status_429.values())
