"""The Telegram adapter: python-telegram-bot 22 in, the messenger-agnostic pipeline out.

Thin by design: it turns updates into Incoming / CallbackEvent / reactions, and Replies
into Telegram messages (telegram_outbox.py). Different chats run at once; messages of
one chat enter the pipeline in arrival order, so a slow answer in one family never
blocks another. It shares the event loop with other adapters: no run_polling here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
    Update,
)
from telegram.error import BadRequest, InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackContext,
    CallbackQueryHandler,
    ChatMemberHandler,
    MessageHandler,
    MessageReactionHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.calendar.service import start_reminders, stop_reminders
from bot.core.config import Settings
from bot.core.errors import ConfigError, FileUnavailable, HearthError
from bot.core.tasks import finish_or_cancel
from bot.core.types import CallbackEvent
from bot.membership import Membership
from bot.platforms.telegram_membership import GatedOutbox, GoneChats, apply_member_update
from bot.platforms.telegram_outbox import ChatClocks, Pacing, TelegramOutbox
from bot.platforms.telegram_render import (
    PLATFORM,
    attachment_of,
    chat_kind,
    command_menus,
    to_incoming,
)
from bot.platforms.telegram_updates import (
    AdminCache,
    BoundedUpdatesRequest,
    ChatOrderedProcessor,
    ChatTurn,
    OnDropped,
    current_turn,
)
from bot.platforms.telegram_webhook import start_webhook
from bot.platforms.webhook_guard import WebhookServer

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MESSAGE_REACTION,
    Update.CHAT_MEMBER,  # promotions and demotions, applied at once (telegram_membership.py)
    Update.MY_CHAT_MEMBER,  # the bot added to or removed from a chat
]
MAX_FILE_BYTES = 20 * 1024 * 1024  # what the cloud Bot API lets a bot download
SHUTDOWN_GRACE_S = 10.0
# Bot API calls in flight at once (PTB's HTTPXRequest holds one unless told); more wait in
# httpx's pool queue. Telegram allows ~30 messages/s per bot: at 300 ms per call 16 keep up.
REQUEST_POOL = 16


class TelegramAdapter:
    """Wires one Application to the pipeline: handlers, outboxes, commands, shutdown."""

    def __init__(self, pipeline: Any, settings: Settings) -> None:
        self.pipeline = pipeline
        self.settings = settings
        self.clocks = ChatClocks(Pacing() if settings.telegram_rate_limit else Pacing.unlimited())
        self.admins = AdminCache()
        self.gone = GoneChats()
        self.application = build_application(settings, on_dropped=self.on_dropped)
        self._inflight: set[asyncio.Task[Any]] = set()
        app = self.application
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_handler(MessageReactionHandler(self.on_reaction))
        app.add_handler(ChatMemberHandler(self.on_member, ChatMemberHandler.ANY_CHAT_MEMBER))
        app.add_handler(
            MessageHandler(
                (
                    filters.TEXT
                    | filters.CAPTION
                    | filters.Document.ALL
                    | filters.VOICE
                    | filters.AUDIO
                    | filters.PHOTO
                )
                & ~filters.UpdateType.EDITED,
                self.on_message,
            )
        )
        app.add_error_handler(self.on_error)

    # --- handlers --------------------------------------------------------------------------
    async def on_message(self, update: Update, context: CallbackContext) -> None:
        """A message: describe it, wait for its turn in the chat, hand it to the pipeline."""
        turn = current_turn()
        try:
            started = await self._enter_pipeline(update, turn)
        finally:
            if turn is not None:
                turn.entered.set()
        if started is not None:
            await self._finish(*started)

    async def _enter_pipeline(
        self, update: Update, turn: ChatTurn | None
    ) -> tuple[asyncio.Task[Any], GatedOutbox] | None:
        message = update.message
        if message is None or (
            message.from_user is not None
            and message.from_user.is_bot
            and message.sender_chat is None  # anonymous admins arrive via a bot account
        ):
            return None
        bot = self.application.bot
        incoming = to_incoming(
            message,
            bot_id=bot.id,
            bot_username=bot.username,
            is_chat_admin=False,
            attachment=attachment_of(message, self.fetch_for),
        )
        user = message.from_user
        anonymous_admin = message.sender_chat is not None and (
            message.sender_chat.id == message.chat.id  # an admin posting as the group
        )
        if anonymous_admin:
            incoming = replace(incoming, is_chat_admin=True)
        elif incoming.chat_kind == "group" and user is not None:
            # The admin list is asked for only when a command may need it: a question then
            # leaves the member's role as it is (None), and Telegram's budget goes to answers.
            is_admin = None
            if incoming.addressed and incoming.text.lstrip().startswith("/"):
                is_admin = await self.admins.is_admin(self.application, message.chat.id, user.id)
            incoming = replace(incoming, is_chat_admin=is_admin)
        self.gone.chats.discard(incoming.chat_id)  # a message from it: the bot is there
        outbox = self.gone.gate(
            TelegramOutbox(
                bot,
                incoming.chat_id,
                clocks=self.clocks,
                is_group=incoming.chat_kind == "group",
                thread_id=incoming.thread_id,
                reply_to=incoming.message_id if incoming.chat_kind == "group" else None,
            )
        )
        if turn is not None:
            await turn.wait()
        task = asyncio.create_task(self.pipeline.handle(incoming, outbox))
        return task, outbox

    async def _finish(self, task: asyncio.Task[Any], outbox: GatedOutbox) -> None:
        """Wait for the pipeline; a shutdown may cancel it (the message stays unanswered)."""
        self._inflight.add(task)
        try:
            await asyncio.wait({task})
            if task.cancelled():
                log.info("chat %s: answer interrupted by shutdown", outbox.chat_id)
            elif task.exception() is not None:
                log.error("pipeline failed", exc_info=task.exception())
        finally:
            self._inflight.discard(task)
            await outbox.close()

    async def on_callback(self, update: Update, context: CallbackContext) -> None:
        """A button press: the pipeline decides, Telegram always gets its answer (toast)."""
        query = update.callback_query
        if query is None:
            return
        toast = ""
        try:
            message = query.message
            chat = message.chat if message is not None else None
            event = CallbackEvent(
                platform=PLATFORM,
                chat_id=str(chat.id if chat is not None else query.from_user.id),
                user_id=str(query.from_user.id),
                data=query.data or "",
                message_id=str(message.message_id) if message is not None else None,
                user_name=query.from_user.full_name,
                chat_kind=chat_kind(chat.type) if chat is not None else "private",
                language_code=query.from_user.language_code,
            )
            toast = await self.pipeline.handle_callback(event)
        finally:
            try:
                await query.answer(text=(toast or None) and toast[:200])
            except TelegramError as exc:
                log.warning("answerCallbackQuery failed: %s", exc)

    async def on_reaction(self, update: Update, context: CallbackContext) -> None:
        """Newly added emoji reactions become reaction events (a kind of return)."""
        reaction = update.message_reaction
        if reaction is None:
            return
        old = {getattr(r, "emoji", None) for r in reaction.old_reaction}
        user = reaction.user or reaction.actor_chat
        if user is None:
            return
        for item in reaction.new_reaction:
            emoji = getattr(item, "emoji", None)
            if emoji and emoji not in old:
                await self.pipeline.handle_reaction(
                    PLATFORM,
                    str(reaction.chat.id),
                    str(user.id),
                    str(reaction.message_id),
                    emoji,
                )

    def on_dropped(self, update_id: str, reason: str) -> None:
        """An update too malformed to read: one log line and a dead letter."""
        task = asyncio.create_task(self.pipeline.dead.drop(PLATFORM, update_id, reason))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def on_error(self, update: object, context: CallbackContext) -> None:
        """The one place adapter errors end up: logged with their traceback."""
        log.error("telegram update failed: %s", update, exc_info=context.error)

    def fetch_for(self, file_id: str, size: int | None) -> Callable[[], Awaitable[bytes]]:
        """Download a file on demand (a message's own, or a resumed message's by file id)."""

        async def fetch() -> bytes:
            if size is not None and size > MAX_FILE_BYTES:
                raise HearthError(
                    "Tệp lớn quá (Telegram chỉ cho bot tải tệp dưới 20 MB).",
                    "The file is too large (Telegram lets bots download files under 20 MB).",
                )
            try:
                file = await self.application.bot.get_file(file_id)
            except BadRequest as exc:  # an unknown or expired file id: ask for it again
                log.info("a file could not be fetched from Telegram: %s", exc)
                raise FileUnavailable from exc
            return bytes(await file.download_as_bytearray())

        return fetch

    def outbox_for(self, chat_id: str) -> GatedOutbox:
        """An outbox for a chat without a fresh message (answers resumed after a restart)."""
        is_group = chat_id.startswith("-")
        bot = self.application.bot
        return self.gone.gate(TelegramOutbox(bot, chat_id, clocks=self.clocks, is_group=is_group))

    async def on_member(self, update: Update, context: CallbackContext) -> None:
        """Someone promoted, demoted or gone, or the bot itself removed: in effect at once."""
        membership = Membership(self.pipeline.services.db)
        await apply_member_update(update, self.admins, self.gone, membership, PLATFORM)

    # --- lifecycle -------------------------------------------------------------------------
    async def register_commands(self) -> None:
        """setMyCommands in Vietnamese and English, for private chats and for groups."""
        registry = getattr(self.pipeline, "registry", None)
        menus = command_menus(getattr(registry, "commands", []))
        scopes = {
            "private": BotCommandScopeAllPrivateChats(),
            "group": BotCommandScopeAllGroupChats(),
            "default": BotCommandScopeDefault(),
        }
        for (where, lang), items in menus.items():
            scope = scopes[where]
            listed = [BotCommand(name, description) for name, description in items]
            try:
                await self.application.bot.set_my_commands(listed, scope=scope, language_code=lang)
            except TelegramError as exc:
                log.warning("setMyCommands (%s, %s) failed: %s", scope.type, lang, exc)

    async def drain(self, grace_s: float) -> None:
        """Let answers in flight finish for a while, then cancel them (left unanswered)."""
        cancelled = await finish_or_cancel(self._inflight, grace_s)
        if cancelled:
            log.warning("%d answers left unanswered for the next start", cancelled)


def build_application(settings: Settings, on_dropped: OnDropped | None = None) -> Application:
    """ApplicationBuilder with the contract's base URLs, pooled HTTP, rate limiter, ordering;
    `on_dropped` hears of each update too deeply nested to read."""
    if not settings.telegram_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    # Opt in to PTB's coming default (durations as timedelta): RetryAfter then carries a
    # timedelta, which the outbox reads, instead of emitting a deprecation warning.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    builder: Any = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_base_file_url)
        .request(
            HTTPXRequest(
                connection_pool_size=REQUEST_POOL,
                pool_timeout=10.0,
                read_timeout=15.0,
                write_timeout=15.0,
                connect_timeout=10.0,
            )
        )
        .get_updates_request(
            BoundedUpdatesRequest(
                connection_pool_size=64,
                pool_timeout=10.0,
                read_timeout=15.0,
                connect_timeout=10.0,
                on_dropped=on_dropped,
            )
        )
        .concurrent_updates(ChatOrderedProcessor())
    )
    if settings.telegram_rate_limit:
        # max_retries=0: AIORateLimiter would otherwise pause *every* chat while one waits
        # out a 429; the outbox waits per chat instead.
        builder = builder.rate_limiter(AIORateLimiter(max_retries=0))
        _quiet_handled_flood_errors()
    application: Application = builder.build()
    return application


class _HandledFloodControl(logging.Filter):
    """AIORateLimiter logs every 429 with a traceback; the outbox handles (and logs) them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Rate limit hit after maximum of")


def _quiet_handled_flood_errors() -> None:
    limiter_log = logging.getLogger("telegram.ext.AIORateLimiter")
    if not any(isinstance(f, _HandledFloodControl) for f in limiter_log.filters):
        limiter_log.addFilter(_HandledFloodControl())


async def run_telegram(
    app: Any,
    settings: Settings,
    stop_event: asyncio.Event,
    *,
    grace_s: float = SHUTDOWN_GRACE_S,
) -> None:
    """Run the bot until stop_event is set, inside the caller's event loop.

    Polling by default; webhook when TELEGRAM_WEBHOOK_URL is set. Messages left
    unanswered by an earlier stop are answered first (pipeline.resume_pending); at stop,
    answers in flight get `grace_s` seconds to finish and are otherwise left pending.
    """
    adapter = TelegramAdapter(app.pipeline, settings)
    application = adapter.application
    try:
        await application.initialize()
    except InvalidToken:  # PTB's message quotes the token: say what happened without it
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN: Telegram rejected the token (revoked or mistyped); "
            "ask @BotFather for the current one"
        ) from None
    resume: asyncio.Task[Any] | None = None
    webhook: WebhookServer | None = None
    reminders: asyncio.Task[None] | None = None
    try:
        await adapter.register_commands()
        await application.start()
        resume = asyncio.create_task(
            app.pipeline.resume_pending(PLATFORM, adapter.outbox_for, adapter.fetch_for),
            name="telegram-resume",
        )
        reminders = start_reminders(app, PLATFORM, adapter.outbox_for, stop_event)
        updater = application.updater
        assert updater is not None
        if settings.telegram_webhook_url:
            assert settings.telegram_webhook_secret  # load_settings requires it with the URL
            webhook = await start_webhook(
                application,
                url=settings.telegram_webhook_url,
                secret=settings.telegram_webhook_secret,
                listen=settings.telegram_webhook_listen,
                allowed_updates=ALLOWED_UPDATES,
                on_dropped=adapter.on_dropped,
            )
            log.info(
                "telegram: @%s listening for webhooks on %s",
                application.bot.username,
                settings.telegram_webhook_listen,
            )
        else:
            await updater.start_polling(timeout=10, allowed_updates=ALLOWED_UPDATES)
            log.info("telegram: @%s polling for updates", application.bot.username)
        await stop_event.wait()
    finally:
        if webhook is not None:  # stop taking updates first
            await webhook.stop()
        await stop_reminders(reminders, stop_event)  # before the bot closes
        await _stop(adapter, resume, grace_s)


async def _stop(adapter: TelegramAdapter, resume: asyncio.Task[Any] | None, grace_s: float) -> None:
    """Stop fetching, let answers in flight finish (bounded), then close the Application."""
    application = adapter.application
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    await adapter.drain(grace_s)
    if resume is not None and not resume.done():
        resume.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await resume
    elif resume is not None and resume.exception() is not None:
        log.error("resuming unanswered messages failed", exc_info=resume.exception())
    if application.running:
        await application.stop()
    await application.shutdown()
