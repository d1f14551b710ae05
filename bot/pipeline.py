"""One pipeline for every messenger: store first, route, answer, reply, mark answered."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from functools import partial

from bot.core.errors import HearthError
from bot.core.i18n import reply_language, tr
from bot.core.types import CallbackEvent, Incoming, Outbox, Reply
from bot.dead_letters import DeadLetters
from bot.inbound import clean_event, clean_incoming, clean_label
from bot.report.usage import normalize_question, return_in
from bot.store.answers import answer_for_message_in
from bot.store.families import Family, Member
from bot.turns import (
    ChatTurns,
    FetchFor,
    claim_greeting_in,
    drop_unconfirmed_in,
    incoming_from,
    mark_answered_in,
    nothing,
    store_in,
    who_of,
)
from handlers.base import Ctx, Registry, Services, parse_command
from handlers.chat import GREETINGS
from handlers.family import first_run_greeting
from handlers.feedback import apply_feedback, buttons_in, parse_feedback
from handlers.media import MEDIA_KINDS, answer_media
from handlers.voice_out import VoiceOut

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
PROFILE_LANGS = {
    "vi": "vi",
    "vn": "vi",
    "tiếng việt": "vi",
    "vietnamese": "vi",
    "en": "en",
    "english": "en",
    "tiếng anh": "en",
}


class NullOutbox:
    """For events that reply through the platform's own mechanism (callback toasts)."""

    wants_preview = False

    async def typing(self) -> None:
        """Nothing to show."""

    async def preview(self, text: str) -> None:
        """Nothing to show."""

    async def send(self, reply: Reply) -> list[str]:
        """Dropped: the caller shows the returned text instead."""
        return []

    async def close(self) -> None:
        """Nothing runs in the background."""


class Pipeline:
    """Adapters call `handle`; everything after that is messenger-agnostic."""

    def __init__(self, services: Services, registry: Registry) -> None:
        self.services = services
        self.registry = registry
        self.turns = ChatTurns()
        self.dead = DeadLetters(services.db)
        self.voice = VoiceOut(services)

    async def _language(
        self, family: Family, member: Member, text: str, profile: dict[str, str]
    ) -> str:
        profile_lang = PROFILE_LANGS.get(profile.get("language", "").strip().lower())
        fallback = member.language or profile_lang or "vi"
        if not text.strip() and profile_lang:  # a bare command: the family's chosen language
            return profile_lang
        if not text.strip():  # …or else the language the member last wrote in
            last = await self.services.db.scalar(
                "SELECT text FROM messages WHERE family_id = ? AND member_id = ? AND role = 'user'"
                " AND text NOT LIKE '/%' AND text != '' ORDER BY id DESC LIMIT 1",
                (family.id, member.id),
            )
            return reply_language(last or "", fallback)
        return reply_language(text, fallback)

    async def handle(self, inc: Incoming, outbox: Outbox) -> None:
        """Store the message at once (even while its chat is busy), then process it in order.

        A message that waits for its chat's turn is already in the database, so a crash
        while an earlier answer is being written loses nothing; a duplicate is dropped here.
        """
        key = f"{inc.platform}:{inc.chat_id}"
        with self.turns.joined(key) as chat:
            # a turn of this chat running now, or one that starts before ours, may answer
            # or erase (/deletefamily) the row we store; otherwise nothing can
            quiet_since = None if chat.lock.locked() else chat.turns
            async with self.turns.lock(f"store:{key}"):  # arrival order = processing order
                try:
                    inc, cut = clean_incoming(inc, self.services.settings.max_message_chars)
                    arrival = await self.services.families.arrive(
                        who_of(inc), lambda conn, f, m: store_in(conn, f, m, inc)
                    )
                except Exception:
                    log.exception("could not store an incoming message")
                    await self._apologise(
                        outbox, reply_language(inc.text, inc.language_code or "vi"), stored=False
                    )
                    return
            family, member, row_id = arrival.family, arrival.member, arrival.result
            if row_id is None:
                log.info("duplicate delivery of %s:%s ignored", inc.chat_id, inc.message_id)
                return
            async with chat.lock:
                chat.turns += 1
                others_ran = quiet_since is None or chat.turns != quiet_since + 1
                if (
                    inc.addressed
                    and others_ran
                    and not await self._still_pending(family.id, row_id)
                ):
                    return  # resume_pending answered it while it waited
                await self._process(family, member, inc, row_id, outbox, arrival.profile, cut=cut)

    async def _claim_greeting(self, family_id: int) -> bool:
        """True for the one turn that marks the family greeted (the first to ask)."""
        return await self.services.db.write(partial(claim_greeting_in, family_id=family_id))

    def _is_start(self, text: str) -> bool:
        parsed = parse_command(text)
        found = self.registry.find(parsed[0]) if parsed else None
        return found is not None and found[0].name == "start"

    async def _still_pending(self, family_id: int, row_id: int) -> bool:
        status = await self.services.db.scalar(
            "SELECT status FROM messages WHERE family_id = ? AND id = ?", (family_id, row_id)
        )
        return status == "pending"

    async def _process(
        self,
        family: Family,
        member: Member,
        inc: Incoming,
        row_id: int,
        outbox: Outbox,
        profile: dict[str, str],
        *,
        cut: bool = False,
    ) -> None:
        parsed = parse_command(inc.text)
        lang = await self._language(family, member, parsed[1] if parsed else inc.text, profile)
        if not inc.addressed:
            return
        db = self.services.db
        try:
            if inc.reply_to_message_id:
                await self._reply_return(family, member, inc, row_id)
            greeted_now = False
            # claimed in the database: a message that arrived meanwhile saw an ungreeted
            # family too; /start (or /batdau) is its own greeting
            claimed = not family.greeted and await self._claim_greeting(family.id)
            if claimed and not self._is_start(inc.text):
                try:
                    await outbox.send(Reply(first_run_greeting(lang)))
                except Exception:  # undelivered: the turn that answers it later greets
                    await db.execute("UPDATE families SET greeted = 0 WHERE id = ?", (family.id,))
                    raise
                greeted_now = True
            if cut:
                await outbox.send(
                    Reply(
                        tr(
                            lang,
                            "Tin nhắn dài quá nên mình chỉ đọc {n} ký tự đầu.",
                            "Your message was very long, so I read only the first {n} characters.",
                            n=self.services.settings.max_message_chars,
                        )
                    )
                )
            if greeted_now and normalize_question(inc.text) in GREETINGS:
                reply = None  # "xin chào" on first contact: the greeting was the answer
            else:
                reply = await self._route(family, member, inc, lang, outbox, row_id, profile)
            ids: list[str] = []
            if reply is not None:
                reply.buttons = buttons_in(lang, reply.buttons)
                await self.voice.add_voice(family.id, lang, profile, reply)
                ids = await outbox.send(reply)
            answer_id = reply.answer_id if reply is not None else None
            await self._mark_answered(family.id, row_id, answer_id, ids)
        except HearthError as exc:
            await self._finish_with(outbox, family.id, row_id, Reply(exc.user_message(lang)))
        except Exception:
            log.exception("processing message %s of family %s failed", row_id, family.id)
            try:  # the database may be the thing that failed: still apologise, never raise
                await db.execute(
                    "UPDATE messages SET attempts = attempts + 1 WHERE family_id = ? AND id = ?",
                    (family.id, row_id),
                )
            except Exception:
                log.exception("could not count the failed attempt; the message stays pending")
            await self._apologise(outbox, lang, stored=True)

    async def _mark_answered(
        self, family_id: int, row_id: int, answer_id: int | None = None, sent: Sequence[str] = ()
    ) -> None:
        """The one place a user message becomes answered (resume_pending skips it after).

        In the same transaction, the platform messages that carried the answer are linked
        to it (so replies to them are returns): one write after the send, not two.
        """

        await self.services.db.write(
            lambda conn: mark_answered_in(conn, family_id, row_id, answer_id, sent)
        )

    async def _finish_with(self, outbox: Outbox, family_id: int, row_id: int, reply: Reply) -> None:
        try:
            await outbox.send(reply)
            await self._mark_answered(family_id, row_id)
        except Exception:
            log.exception("could not deliver or record a reply; the message stays pending")

    async def _apologise(self, outbox: Outbox, lang: str, *, stored: bool) -> None:
        text = (
            tr(
                lang,
                "Xin lỗi, mình gặp trục trặc. Tin nhắn của bạn đã được lưu, mình sẽ trả lời lại sớm.",
                "Sorry, something went wrong. Your message is saved and I will answer it soon.",
            )
            if stored
            else tr(
                lang,
                "Xin lỗi, mình gặp trục trặc và chưa lưu được tin nhắn. Bạn gửi lại giúp mình nhé.",
                "Sorry, something went wrong and I could not save your message. Please send it again.",
            )
        )
        try:
            await outbox.send(Reply(text))
        except Exception:
            log.exception("could not deliver the apology either")

    async def _route(
        self,
        family: Family,
        member: Member,
        inc: Incoming,
        lang: str,
        outbox: Outbox,
        row_id: int,
        profile: dict[str, str],
    ) -> Reply | None:
        parsed = parse_command(inc.text)
        ctx = Ctx(
            self.services, inc, family, member, lang, "", inc.text.strip(), outbox, row_id, profile
        )
        if parsed is None:
            question = ctx.args
            if inc.attachment is not None and inc.attachment.kind in MEDIA_KINDS:
                return await answer_media(ctx)
            if not question.strip():
                return Reply(
                    tr(
                        lang,
                        "Mình chưa thấy câu hỏi nào trong tin nhắn này. Bạn gõ câu hỏi giúp mình nhé.",
                        "I couldn't find a question in that message. Please type your question.",
                    )
                )
            return await self.services.answers.answer(ctx, question)
        name, args = parsed
        found = self.registry.find(name)
        if found is None:
            return Reply(
                tr(
                    lang,
                    "Mình chưa biết lệnh /{n}. Gõ /help để xem các lệnh.",
                    "I don't know /{n}. Type /help to see the commands.",
                    n=name,
                )
            )
        cmd, folded = found
        ctx.command, ctx.args = cmd.name, (folded or args)
        if cmd.role == "admin":
            ctx.require_admin()
        return await cmd.handler(ctx)

    async def _reply_return(
        self, family: Family, member: Member, inc: Incoming, row_id: int
    ) -> None:
        reply_to = inc.reply_to_message_id
        assert reply_to is not None

        def work(conn: sqlite3.Connection) -> None:
            answer_id = answer_for_message_in(conn, family.id, reply_to)
            if answer_id is not None:
                return_in(
                    conn, family.id, answer_id, member.id, "reply", f"reply:{answer_id}:{row_id}"
                )

        await self.services.db.write(work)

    async def handle_callback(self, event: CallbackEvent) -> str:
        """A button press: log the return and give the toast text for the messenger."""
        event = clean_event(event)
        inc = Incoming(
            event.platform,
            event.chat_id,
            event.user_id,
            event.message_id or "",
            "",
            event.chat_kind,
            event.user_name,
            language_code=event.language_code,
        )
        try:
            arrival = await self.services.families.arrive(who_of(inc, knows_admin=False), nothing)
            family, member = arrival.family, arrival.member
            lang = await self._language(family, member, "", arrival.profile)
            parsed = parse_feedback(event.data)
            if parsed is None:
                return tr(lang, "Nút này không còn dùng được.", "This button no longer works.")
            ctx = Ctx(
                self.services,
                inc,
                family,
                member,
                lang,
                "",
                "",
                NullOutbox(),
                None,
                arrival.profile,
            )
            return await apply_feedback(ctx, *parsed)
        except Exception:
            log.exception("callback %r failed", event.data)
            return tr(event.language_code or "vi", "Xin lỗi, có lỗi xảy ra.", "Sorry, that failed.")

    async def handle_reaction(
        self, platform: str, chat_id: str, user_id: str, message_id: str, emoji: str
    ) -> bool:
        """An emoji reaction on an answer message is a return (once per member and answer).

        Reactions arrive for any message in a chat, so this never creates a family (a group
        first seen through a reaction would otherwise be stored as a private chat) and never
        rewrites a member's role (a reaction does not say whether they are a chat admin).
        """
        chat_id, user_id, message_id = map(clean_label, (chat_id, user_id, message_id))
        emoji = clean_label(emoji, 32)
        db = self.services.db
        family_id = await db.scalar(
            "SELECT id FROM families WHERE platform = ? AND chat_id = ?", (platform, chat_id)
        )
        if family_id is None:
            return False
        answer_id = await self.services.answers.log.by_platform_message(family_id, message_id)
        if answer_id is None:
            return False
        member_id = await db.scalar(
            "SELECT id FROM members WHERE family_id = ? AND user_id = ?", (family_id, user_id)
        )
        if member_id is None:
            family = await self.services.families.get(family_id)
            assert family is not None
            member_id = (await self.services.families.member(family, user_id, "")).id
        return bool(
            await self.services.usage.record_return(
                family_id,
                answer_id,
                member_id,
                "reaction",
                detail=emoji,
                dedup_key=f"reaction:{answer_id}:{member_id}",
            )
        )

    async def resume_pending(
        self,
        platform: str,
        outbox_for: Callable[[str], Outbox],
        fetch_for: FetchFor | None = None,
    ) -> int:
        """Answer, once, every message a crash or failed send left unanswered; `fetch_for`
        (the adapter's download) gets a voice note or document back from its platform."""
        rows = await self.services.db.fetchall(
            "SELECT m.id, m.payload, f.chat_id FROM messages m JOIN families f ON f.id = m.family_id"
            " WHERE m.status = 'pending' AND m.role = 'user' AND f.platform = ?"
            f" AND m.attempts < {MAX_ATTEMPTS} ORDER BY m.id",
            (platform,),
        )
        done = 0
        for row in rows:
            try:
                inc = incoming_from(row["payload"], fetch_for)
            except (TypeError, ValueError):
                await self.services.db.execute(
                    "UPDATE messages SET status = 'failed' WHERE id = ? AND family_id ="
                    " (SELECT id FROM families WHERE platform = ? AND chat_id = ?)",
                    (row["id"], platform, row["chat_id"]),
                )
                await self.dead.drop(platform, f"message {row['id']}", "no usable payload")
                continue
            async with self.turns.lock(f"{inc.platform}:{inc.chat_id}"):
                arrival = await self.services.families.arrive(who_of(inc), nothing)
                family, member = arrival.family, arrival.member
                if not await self._still_pending(family.id, row["id"]):
                    continue  # a live delivery answered it first
                # an answer written before the stop was never confirmed delivered: this
                # turn's answer replaces it (one answer per turn, migration 0008)
                await self.services.db.write(
                    partial(drop_unconfirmed_in, family_id=family.id, row_id=row["id"])
                )
                outbox = outbox_for(row["chat_id"])
                try:
                    await self._process(family, member, inc, row["id"], outbox, arrival.profile)
                finally:
                    await outbox.close()  # as the adapter does after a live turn
            done += 1
        return done
