"""The Telegram side of one conversation turn: typing, throttled previews, the final reply.

What users of other Telegram LLM bots meet, and what this avoids: flood bans from
editing on every token (edits here are paced per chat, slower in groups), answers cut at
4096 characters (split at paragraph/sentence boundaries), Markdown errors that swallow an
answer (escaped HTML with a plain-text fallback), and a final answer lost to a 429 or a
network blip (bounded retries that wait out RetryAfter).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from collections import deque
from dataclasses import dataclass, field

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.core.types import Reply
from bot.platforms.telegram_render import TEXT_LIMIT, keyboard, split_for_telegram, to_html

log = logging.getLogger(__name__)

TYPING_EVERY_S = 4.0
TYPING_MAX_S = 180.0
TYPING_LAND_S = 1.0  # how long a reply waits for a typing indicator already on its way
SEND_ATTEMPTS = 5
MAX_RETRY_AFTER_S = 60.0
NO_BUDGET = 1 << 30  # rate limiting off: Telegram's budget is not Hearth's to keep


@dataclass
class Pacing:
    """Minimum seconds between a chat's edits/sends; zero when rate limiting is off."""

    private_s: float = 1.0
    group_s: float = 3.0
    final_s: float = 1.0
    retry_s: float = 1.0  # first back-off after a network error; doubles up to 8 s
    # Both counted from the moment the model was asked (typing()), not from the message's
    # arrival: a quick answer arrives whole, without "typing…" or a preview message, even
    # when the message waited in a queue first.
    first_preview_s: float = 0.8
    typing_after_s: float = 0.5
    # More answers than this being worked on at once: no typing indicators. Each is one
    # more Bot API call from the budget the answers need (Telegram allows ~30 messages a
    # second per bot) and costs as much CPU as the answer's own sendMessage; at that load
    # nearly every answer takes longer than typing_after_s, so every one would get one.
    typing_busy: int = 32
    # Bot API calls in the last second at or above this: no typing indicators or previews.
    # Telegram allows a bot about 30 messages a second and python-telegram-bot's
    # AIORateLimiter counts every call that names a chat against them: when the answers
    # alone take most of that, a cosmetic call delays somebody's answer.
    calls_busy_per_s: int = 20

    @classmethod
    def off(cls) -> Pacing:
        """No pacing at all (tests against the loopback Bot API)."""
        return cls(
            0.0, 0.0, 0.0, first_preview_s=0.0, typing_after_s=0.0, calls_busy_per_s=NO_BUDGET
        )

    @classmethod
    def unlimited(cls) -> Pacing:
        """TELEGRAM_RATE_LIMIT=off: finals go at once, previews stay paced (they are extra calls)."""
        return cls(final_s=0.0, calls_busy_per_s=NO_BUDGET)


@dataclass
class ChatClock:
    """When a chat last got a message or edit from us, and until when Telegram told us to wait."""

    last: float = 0.0
    blocked_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ChatClocks:
    """One clock per chat, shared by every outbox of that chat (AIORateLimiter has no per-chat
    1 message/s rule)."""

    def __init__(self, pacing: Pacing) -> None:
        self.pacing = pacing
        self._clocks: dict[str, ChatClock] = {}
        self.answering = 0  # outboxes whose model was asked and whose answer is not out yet
        self._calls: deque[float] = deque()  # when each call of the last second went out

    def calling(self) -> None:
        """Count one Bot API call that names a chat (see Pacing.calls_busy_per_s)."""
        self._calls.append(time.monotonic())
        self.calls_last_second()  # the deque holds one second of calls, however busy is read

    def calls_last_second(self) -> int:
        """How many such calls went out in the last second."""
        since = time.monotonic() - 1.0
        while self._calls and self._calls[0] < since:
            self._calls.popleft()
        return len(self._calls)

    @property
    def busy(self) -> bool:
        """Too many answers in the works, or too much of the bot's Telegram budget already
        spent, for cosmetic calls (see Pacing.typing_busy and calls_busy_per_s)."""
        return (
            self.answering > self.pacing.typing_busy
            or self.calls_last_second() >= self.pacing.calls_busy_per_s
        )

    def get(self, chat_id: str) -> ChatClock:
        clock = self._clocks.get(chat_id)
        if clock is None:
            if len(self._clocks) > 10_000:
                self._clocks.clear()
            clock = self._clocks[chat_id] = ChatClock()
        return clock


class TelegramOutbox:
    """Outbox for one incoming message (or one resumed chat)."""

    def __init__(
        self,
        bot: Bot,
        chat_id: str,
        *,
        clocks: ChatClocks,
        is_group: bool,
        thread_id: str | None = None,
        reply_to: str | None = None,
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self._asked_at: float | None = None  # when the model was asked (typing or 1st preview)
        self.clocks = clocks
        self.is_group = is_group
        self.thread_id = int(thread_id) if thread_id else None
        self.reply_to = reply_to
        self._typing: asyncio.Task[None] | None = None
        self._typing_call: asyncio.Future[None] | None = None  # a sendChatAction on its way
        self._answering = False  # counted in clocks.answering
        self._preview_id: int | None = None
        self._preview_text = ""
        self._preview_stopped = False

    # --- typing ---------------------------------------------------------------------------
    async def typing(self) -> None:
        """Show a typing indicator if no reply went out within `typing_after_s`, then every
        ~4 s until the reply is sent (a quick answer needs none: it is one extra call)."""
        if self._asked_at is None:
            self._asked_at = time.monotonic()
        if not self._answering:
            self._answering = True
            self.clocks.answering += 1
        if self._typing is not None and not self._typing.done():
            return
        wait = self.clocks.pacing.typing_after_s
        if wait <= 0:
            if not self.clocks.busy:
                await self._send_typing()
            wait = TYPING_EVERY_S
        self._typing = asyncio.create_task(self._keep_typing(wait), name="telegram-typing")

    async def _send_typing(self) -> None:
        self.clocks.calling()
        try:
            await self.bot.send_chat_action(
                self.chat_id, ChatAction.TYPING, message_thread_id=self.thread_id
            )
        except TelegramError as exc:
            log.debug("typing indicator for chat %s failed: %s", self.chat_id, exc)

    async def _keep_typing(self, first_wait: float) -> None:
        started = time.monotonic()
        await asyncio.sleep(first_wait)
        while time.monotonic() - started < TYPING_MAX_S:
            if not self.clocks.busy:
                # Shielded: stopping the repeats must not cut a request already on its way.
                self._typing_call = asyncio.ensure_future(self._send_typing())
                await asyncio.shield(self._typing_call)
            await asyncio.sleep(TYPING_EVERY_S)

    async def _stop_typing(self) -> None:
        """Stop the indicator before a message goes out; one already on its way may land
        first (Telegram would otherwise show "typing…" under the answer for 5 s)."""
        self._answered()
        task, self._typing = self._typing, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        call, self._typing_call = self._typing_call, None
        if call is not None and not call.done():
            await asyncio.wait({call}, timeout=TYPING_LAND_S)

    def _answered(self) -> None:
        """This answer no longer counts as being worked on (idempotent)."""
        if self._answering:
            self._answering = False
            self.clocks.answering -= 1

    async def close(self) -> None:
        """Stop background work; called when the pipeline is done with this turn."""
        self._answered()
        task, self._typing = self._typing, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- preview ---------------------------------------------------------------------------
    @property
    def wants_preview(self) -> bool:
        """Stream into a preview, except while too many answers are in the works for
        cosmetic calls (Pacing.typing_busy): each preview is a message and edits that take
        from the bot's ~30 messages a second the answers need, and a stream costs more CPU
        than a plain completion (1.0-1.5 against 0.6-0.8 ms per answer here). The answer
        then arrives whole."""
        return not self.clocks.busy

    async def preview(self, text: str) -> None:
        """Show streamed text, at most one edit per interval per chat; never waits on 429.
        Nothing while too many answers are in the works (a stream begun before goes on)."""
        text = text.strip()
        if self._preview_stopped or not text or text == self._preview_text or self.clocks.busy:
            return
        pieces = split_for_telegram(text)
        shown = pieces[0] + (" …" if len(pieces) > 1 else "")
        if len(pieces) > 1 and self._preview_text.startswith(pieces[0]):
            return  # the first message is full; the rest arrives with the final reply
        clock = self.clocks.get(self.chat_id)
        interval = self.clocks.pacing.group_s if self.is_group else self.clocks.pacing.private_s
        now = time.monotonic()
        if self._asked_at is None:
            self._asked_at = now
        if self._preview_id is None and now - self._asked_at < self.clocks.pacing.first_preview_s:
            return
        if clock.lock.locked() or now < clock.blocked_until or now - clock.last < interval:
            return
        async with clock.lock:
            self.clocks.calling()
            try:
                if self._preview_id is None:
                    await self._stop_typing()
                    message = await self.bot.send_message(
                        self.chat_id,
                        shown,
                        message_thread_id=self.thread_id,
                        reply_parameters=self._reply_parameters(),
                    )
                    self._preview_id = message.message_id
                else:
                    await self.bot.edit_message_text(shown, self.chat_id, self._preview_id)
                self._preview_text = shown
            except RetryAfter as exc:
                clock.blocked_until = time.monotonic() + _seconds(exc)
                log.info(
                    "chat %s: preview paused %ss by flood control", self.chat_id, _seconds(exc)
                )
            except TelegramError as exc:
                log.info("chat %s: preview stopped: %s", self.chat_id, exc)
                self._preview_stopped = True
            finally:
                clock.last = time.monotonic()

    # --- final reply -----------------------------------------------------------------------
    async def send(self, reply: Reply) -> list[str]:
        """Deliver the whole answer; the preview message becomes its first piece."""
        await self._stop_typing()
        pieces = split_for_telegram(reply.text)
        markup = keyboard(reply.buttons)
        ids: list[str] = []
        clock = self.clocks.get(self.chat_id)
        reply_to = reply.reply_to_message_id or self.reply_to
        async with clock.lock:
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                piece_markup = markup if last else None
                if index == 0 and self._preview_id is not None:
                    ids.append(await self._finish_preview(clock, piece, piece_markup))
                else:
                    ids.append(await self._deliver(clock, piece, piece_markup, reply_to))
                    reply_to = None
            if self._preview_id is not None and not pieces:
                ids.append(str(self._preview_id))
            if reply.document is not None:
                ids.append(await self._send_document(clock, *reply.document))
            for audio in reply.voice:  # after the text, which never waits for them
                ids.append(await self._send_voice(clock, audio))
        return ids

    async def _deliver(
        self,
        clock: ChatClock,
        text: str,
        markup: InlineKeyboardMarkup | None,
        reply_to: str | None,
    ) -> str:
        params = self._reply_parameters(reply_to)

        async def html_send() -> Message:
            return await self.bot.send_message(
                self.chat_id,
                to_html(text),
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                message_thread_id=self.thread_id,
                reply_parameters=params,
            )

        async def plain_send() -> Message:
            return await self.bot.send_message(
                self.chat_id,
                text,
                reply_markup=markup,
                message_thread_id=self.thread_id,
                reply_parameters=params,
            )

        message = await self._with_fallback(clock, html_send, plain_send)
        return str(message.message_id)

    async def _finish_preview(
        self, clock: ChatClock, text: str, markup: InlineKeyboardMarkup | None
    ) -> str:
        message_id = self._preview_id
        assert message_id is not None

        async def html_edit() -> object:
            return await self.bot.edit_message_text(
                to_html(text),
                self.chat_id,
                message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )

        async def plain_edit() -> object:
            return await self.bot.edit_message_text(
                text, self.chat_id, message_id, reply_markup=markup
            )

        try:
            await self._with_fallback(clock, html_edit, plain_edit)
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return str(message_id)
            log.info("chat %s: preview could not be edited (%s); sending anew", self.chat_id, exc)
            return await self._deliver(clock, text, markup, None)
        return str(message_id)

    async def _send_document(self, clock: ChatClock, filename: str, data: bytes) -> str:
        async def upload() -> Message:
            return await self.bot.send_document(
                self.chat_id,
                io.BytesIO(data),
                filename=filename,
                message_thread_id=self.thread_id,
            )

        message = await self._retrying(clock, upload)
        return str(message.message_id)

    async def _send_voice(self, clock: ChatClock, audio: bytes) -> str:
        async def upload() -> Message:
            return await self.bot.send_voice(
                self.chat_id,
                io.BytesIO(audio),
                filename="hearth.ogg",
                message_thread_id=self.thread_id,
            )

        message = await self._retrying(clock, upload)
        return str(message.message_id)

    async def _with_fallback(self, clock: ChatClock, html_call, plain_call):  # type: ignore[no-untyped-def]
        """HTML first; Telegram's "can't parse entities" falls back to the same text plain."""
        try:
            return await self._retrying(clock, html_call)
        except BadRequest as exc:
            if "can't parse entities" not in str(exc).lower():
                raise
            log.warning("chat %s: HTML rejected (%s); sending plain text", self.chat_id, exc)
            return await self._retrying(clock, plain_call)

    async def _retrying(self, clock: ChatClock, call):  # type: ignore[no-untyped-def]
        """Pace per chat, wait out RetryAfter, retry network errors; a bounded number of times."""
        delay = self.clocks.pacing.retry_s
        for attempt in range(1, SEND_ATTEMPTS + 1):
            wait = max(clock.blocked_until, clock.last + self.clocks.pacing.final_s)
            wait -= time.monotonic()
            if wait > 0:
                await asyncio.sleep(min(wait, MAX_RETRY_AFTER_S))
            self.clocks.calling()
            try:
                return await call()
            except RetryAfter as exc:
                seconds = _seconds(exc)
                clock.blocked_until = time.monotonic() + seconds
                log.info(
                    "chat %s: flood control, waiting %.1fs (attempt %d)",
                    self.chat_id,
                    seconds,
                    attempt,
                )
                if attempt == SEND_ATTEMPTS:
                    raise
            except BadRequest:
                raise
            except NetworkError as exc:  # TimedOut is a NetworkError; so are 5xx answers
                log.info("chat %s: network error %s (attempt %d)", self.chat_id, exc, attempt)
                if attempt == SEND_ATTEMPTS:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 8.0)
            finally:
                clock.last = time.monotonic()
        raise AssertionError("unreachable")

    def _reply_parameters(self, reply_to: str | None = None) -> ReplyParameters | None:
        target = reply_to or self.reply_to  # self.reply_to is set for group chats only
        if not target:
            return None
        return ReplyParameters(int(target), allow_sending_without_reply=True)


def _seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after is a timedelta with PTB_TIMEDELTA (set by build_application)
    and an int without it; take both."""
    retry_after = exc.retry_after
    total = getattr(retry_after, "total_seconds", None)
    value = float(total()) if callable(total) else float(retry_after)  # type: ignore[arg-type]
    return min(max(value, 0.0), MAX_RETRY_AFTER_S)


__all__ = ["TEXT_LIMIT", "ChatClocks", "Pacing", "TelegramOutbox"]
