"""Free text: build the family's context, ask the model (or the knowledge base), log it."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import defaultdict, deque
from typing import Any

from bot.core.errors import ContextTooLong, LLMUnavailable, UsageError
from bot.core.i18n import tr
from bot.core.tasks import finish_or_cancel
from bot.core.types import Reply
from bot.report.usage import find_repeat_in, normalize_question, return_in
from bot.store.answers import AnswerLog, AnswerRecord, record_in
from bot.store.call_log import CallLog
from handlers.base import Ctx
from handlers.chat_date import today_for
from handlers.feedback import feedback_buttons
from handlers.media import photo_note, vision_call
from knowledge import context as rewriter
from knowledge.calendar_context import search_hint
from knowledge.memory import FOLD_SLACK, Recall
from knowledge.output_guard import check_answer, looks_like_echo
from knowledge.search import verbatim_match
from knowledge.types import ContextInput, SearchHit, Turn

log = logging.getLogger(__name__)

SEARCH_LIMIT = 8  # candidates for knowledge.selection, which sends at most 3
FOLD_MAX_WAIT_S = 30.0  # a background summary waits at most this long for a pause
FOLD_CONCURRENCY = 16  # summaries made at once (each reads a window of history, asks the model)
# Questions whose context is being read and written into a prompt at once. A burst of
# 1,000 questions otherwise advances breadth-first: every one holds its history, hits and
# prompt in memory until the last is ready, and the first answer waits for the last prompt.
# Gated, the burst is served in arrival order and only the prompts wait for the model.
PREPARE_CONCURRENCY = 16
PREVIEW_MIN_CHARS = 24
GREETINGS = frozenset(
    {
        "xin chao",
        "chao",
        "chao ban",
        "chao hearth",
        "xin chao hearth",
        "alo",
        "hello",
        "hi",
        "hey",
        "hello hearth",
        "hi hearth",
        "chao buoi sang",
        "good morning",
    }
)
SUMMARY_PROMPT = (
    "Summarise this family conversation for a family assistant's memory in at most 120 "
    "words, in the language the family uses. Keep facts, preferences, plans and decisions; "
    "drop greetings. Output only the summary."
)


class RateLimiter:
    """A sliding one-minute window of model calls per member."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._calls: dict[tuple[int, int], deque[float]] = defaultdict(deque)

    def allow(self, family_id: int, member_id: int) -> bool:
        """True if this member may call the model now (and counts the call)."""
        now = time.monotonic()
        window = self._calls[(family_id, member_id)]
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return False
        window.append(now)
        return True


class Answerer:
    """The chat flow; one instance shared by all families (state is keyed by family)."""

    def __init__(
        self,
        log_: AnswerLog,
        per_minute: int,
        family_concurrency: int,
        calls: CallLog,
    ) -> None:
        self.log = log_
        self.calls = calls
        self.rate = RateLimiter(per_minute)
        self._family_slots: dict[int, asyncio.Semaphore] = {}
        self.family_concurrency = family_concurrency
        self._background: set[asyncio.Task[None]] = set()
        self._folding: set[int] = set()
        self._answering = 0
        self._fold_slots = asyncio.Semaphore(FOLD_CONCURRENCY)
        self._preparing = asyncio.Semaphore(PREPARE_CONCURRENCY)
        self._idle = asyncio.Event()
        self._idle.set()

    async def drain(self, grace_s: float | None = None) -> None:
        """Let background memory folding finish before the database closes; past `grace_s`
        the rest is cancelled (a fold is idempotent: the next turn of that family asks again)."""
        cancelled = await finish_or_cancel(self._background, grace_s)
        if cancelled:
            log.info("%d history summaries left for a later turn", cancelled)

    def schedule_fold(self, ctx: Ctx) -> None:
        """Fold old turns into the summary off the reply path (one fold per family at once)."""
        fid = ctx.family.id
        if fid in self._folding:
            return
        self._folding.add(fid)
        task = asyncio.create_task(self._fold(ctx.services, fid))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _quiet(self) -> None:
        """Wait until no question is being answered (at most FOLD_MAX_WAIT_S): a burst of
        questions is answered first, and the summaries it makes due are written after it."""
        if self._answering:
            try:
                await asyncio.wait_for(self._idle.wait(), FOLD_MAX_WAIT_S)
            except TimeoutError:
                log.debug("answering without a pause for %.0f s; folding anyway", FOLD_MAX_WAIT_S)

    async def _fold(self, services: Any, family_id: int) -> None:
        summarizer = None
        if services.llm is not None:
            llm = services.llm

            async def summarizer(previous: str, turns: list[Any]) -> str:
                lines = [f"Previous summary: {previous}"] if previous else []
                lines += [f"{t.author or t.role}: {t.text}" for t in turns]
                try:
                    done = await llm.complete(
                        [
                            {"role": "system", "content": SUMMARY_PROMPT},
                            {"role": "user", "content": "\n".join(lines)[:12000]},
                        ],
                        family_id=family_id,
                        purpose="summary",
                    )
                except LLMUnavailable:
                    return ""
                return str(done.text)

        try:
            await self._quiet()
            async with self._fold_slots:
                await services.memory.fold(family_id, services.settings.history_tokens, summarizer)
        except Exception:
            log.exception("folding the history of family %s failed", family_id)
        finally:
            self._folding.discard(family_id)

    def _slot(self, family_id: int) -> asyncio.Semaphore:
        slot = self._family_slots.get(family_id)
        if slot is None:
            slot = self._family_slots[family_id] = asyncio.Semaphore(self.family_concurrency)
        return slot

    async def gather_context(
        self, ctx: Ctx, question: str, budget: int
    ) -> tuple[ContextInput, Recall]:
        """Read everything the rewriter may use for this family (and nothing of others)."""
        services = ctx.services
        fid = ctx.family.id
        profile = await ctx.family_profile()
        strict = profile.get("privacy", "") == "strict" and _leaves_the_machine(services.llm)
        today = await today_for(services, fid)
        # memory is read on the database thread while the search does its own work here
        memory, (hits, glossary) = await asyncio.gather(
            services.memory.recall(
                fid, services.settings.history_tokens, facts=not strict, slack=FOLD_SLACK
            ),
            _knowledge(services.kb, question, fid, search_hint(question, today)),
        )
        facts, summary, recent = memory.facts, memory.summary, memory.recent
        if strict:
            hits = [h for h in hits if h.entry.family_id is None]
            glossary = [g for g in glossary if g.family_id is None]
        inp = ContextInput(
            question=question,
            language=ctx.lang,
            profile=profile,
            facts=facts,
            summary=None if strict else summary,
            recent=[] if strict else _before(recent, question),
            hits=hits,
            glossary=glossary,
            budget_tokens=budget,
            strict_privacy=strict,
            today=today,
        )
        return inp, memory

    async def answer(self, ctx: Ctx, question: str) -> Reply:
        """Answer one question and return the reply with its feedback buttons."""
        self._answering += 1
        self._idle.clear()
        try:
            return await self._answer(ctx, question)
        finally:
            self._answering -= 1
            if not self._answering:
                self._idle.set()

    async def _answer(self, ctx: Ctx, question: str) -> Reply:
        services = ctx.services
        settings = services.settings
        if normalize_question(question) in GREETINGS:
            return Reply(
                ctx.t(
                    "Chào {name}! 😊 Bạn cứ hỏi mình chuyện bếp núc, phong tục hay việc nhà nhé.",
                    "Hi {name}! 😊 Ask me anything about cooking, customs or the household.",
                    name=ctx.member.display_name or ctx.t("bạn", "there"),
                )
            )
        async with self._preparing:
            inp, memory = await self.gather_context(ctx, question, settings.context_tokens)
            result = rewriter.rewrite(inp)
        top = result.entry_ids[0] if result.entry_ids else None
        qnorm = normalize_question(question)

        rec = AnswerRecord(
            family_id=ctx.family.id,
            member_id=ctx.member.id,
            message_id=ctx.message_row_id,
            question=question,
            question_norm=qnorm,
            answer="",
            prompt=result.messages,
            context=dict(result.record),
            entry_ids=list(result.entry_ids),
        )
        if (photo := photo_note(ctx)) is not None:
            rec.context["photo"] = photo
        verbatim = verbatim_match(inp.hits) if ctx.photo is None else None
        if verbatim is not None:
            rec.answer = _quote_verbatim(ctx, verbatim)
            rec.source = "kb"
            rec.entry_ids = [verbatim.entry.id]
            rec.context["verbatim_entry"] = verbatim.entry.id
        elif services.llm is not None:
            await self._ask_model(ctx, inp, result, rec)
        else:
            rec.answer = rewriter.kb_only_answer(inp, result)
            rec.source = "kb" if result.entry_ids else "none"
        if inp.strict_privacy:
            rec.answer += "\n\n" + ctx.t(
                "🔒 Chế độ riêng tư: câu trả lời chỉ dùng kiến thức chung, không gửi thông tin "
                "riêng của gia đình ra ngoài.",
                "🔒 Strict privacy: this answer used shared knowledge only; nothing private to "
                "your family was sent out.",
            )
        # the model calls behind this answer are logged in the same transaction
        answer_id = await self.calls.write_with(lambda conn: _record_in(conn, rec, top))
        if services.memory.may_overflow(memory, [rec.answer, question], settings.history_tokens):
            self.schedule_fold(ctx)
        return Reply(rec.answer, feedback_buttons(answer_id), answer_id=answer_id)

    async def _ask_model(self, ctx: Ctx, inp: ContextInput, result: Any, rec: AnswerRecord) -> None:
        services = ctx.services
        llm = services.llm
        if not self.rate.allow(ctx.family.id, ctx.member.id):
            raise UsageError(
                "Bạn hỏi hơi nhanh rồi 😊 Chờ một phút rồi hỏi tiếp nhé.",
                "You're asking a little fast 😊 Please wait a minute and ask again.",
            )
        async with self._slot(ctx.family.id):
            await ctx.outbox.typing()
            for attempt in range(3):
                try:
                    completion = await self._complete(ctx, llm, result.messages)
                    break
                except ContextTooLong:
                    if attempt == 2:
                        raise LLMUnavailable("context too long even after trimming") from None
                    inp.budget_tokens = max(400, inp.budget_tokens // 2)
                    result = rewriter.rewrite(inp)
                    rec.prompt = result.messages
                    rec.context = dict(result.record)
                    rec.entry_ids = list(result.entry_ids)
                except LLMUnavailable as exc:
                    log.warning("all model endpoints failed: %s", exc)
                    rec.answer = (
                        rewriter.kb_only_answer(inp, result)
                        + "\n\n"
                        + ctx.t(
                            "(Mô hình AI tạm thời không trả lời được, nên mình trả lời từ kho kiến "
                            "thức của gia đình.)",
                            "(The AI model is unavailable right now, so this answer comes from the "
                            "knowledge base.)",
                        )
                    )
                    rec.source = "kb" if result.entry_ids else "none"
                    rec.context["model_error"] = str(exc)[:200]
                    return
        rec.answer = _guarded(completion.text.strip(), result, rec) or (
            rewriter.kb_only_answer(inp, result)
        )
        if completion.cut and completion.text.strip():
            rec.answer += "\n\n" + tr(
                ctx.lang,
                "(Câu trả lời bị cắt: mô hình AI trả lời quá lâu hoặc quá dài.)",
                "(This answer was cut short: the AI model took too long or wrote too much.)",
            )
            rec.context["answer_cut"] = completion.cut
        sources = rewriter.format_sources(result.sources, ctx.lang)
        if sources and sources not in rec.answer:
            rec.answer += "\n\n" + sources
        rec.source = "model"
        rec.model = completion.model
        rec.endpoint = completion.endpoint
        rec.latency_ms = completion.latency_ms
        rec.prompt_tokens = completion.prompt_tokens
        rec.completion_tokens = completion.completion_tokens

    async def _complete(self, ctx: Ctx, llm: Any, messages: list[dict[str, str]]) -> Any:
        """Stream into the adapter's preview when it wants one, else one plain completion."""
        sent, options = vision_call(ctx, messages)  # a photo question: the photo goes too
        if not ctx.outbox.wants_preview:
            return await llm.complete(sent, family_id=ctx.family.id, **options)
        handle = llm.stream(sent, family_id=ctx.family.id, **options)
        text = ""
        echo = False
        async for delta in handle:
            text += delta
            echo = echo or looks_like_echo(text)  # never show the prompt, even for a moment
            if len(text) >= PREVIEW_MIN_CHARS and not echo:
                await ctx.outbox.preview(text)
        return handle.result


async def _knowledge(
    kb: Any, question: str, family_id: int, hint: str = ""
) -> tuple[list[SearchHit], list[Any]]:
    """The knowledge hits and glossary for a question (none without a knowledge base); a
    date hint ("món chay" on a rằm, the giỗ named) adds the entries of that occasion."""
    if kb is None:
        return [], []
    hits = await kb.search(question, family_id, limit=SEARCH_LIMIT)
    if hint:
        seen = {h.entry.id for h in hits}
        extra = await kb.search(hint, family_id, limit=SEARCH_LIMIT)
        hits += [h for h in extra if h.entry.id not in seen]
    return hits, await kb.glossary_for(question, family_id)


def _guarded(answer: str, result: Any, rec: AnswerRecord) -> str:
    """The model's answer without any part that repeats the prompt's rules or the family's
    constraints ("" when nothing real is left: the knowledge-base answer goes instead)."""
    if not answer:
        return ""
    checked = check_answer(answer, result.guarded, result.messages[0]["content"])
    if checked.action == "kept":
        return answer
    rec.context["output_guard"] = {"action": checked.action, "echo_lines": checked.echo_lines}
    log.warning(
        "the model repeated its prompt to family %s (%d lines): answer %s",
        rec.family_id,
        checked.echo_lines,
        "trimmed" if checked.action == "trimmed" else "replaced by the knowledge-base answer",
    )
    return checked.text


def _before(recent: list[Turn], question: str) -> list[Turn]:
    """The conversation before this question (the question itself may already be stored).
    All of it: the rewriter decides how much fits, so the prompt's history only grows at
    its end from one turn to the next."""
    if recent and recent[-1].role == "user" and recent[-1].text == question:
        return recent[:-1]
    return recent


def _leaves_the_machine(llm: Any) -> bool:
    """Whether a prompt may reach a model off this machine: privacy strict only hides family
    data then. No client or no endpoint means knowledge-base answers, read here alone."""
    endpoints = getattr(llm, "endpoints", None) or ()
    return any(not e.local for e in endpoints)


def _quote_verbatim(ctx: Ctx, hit: SearchHit) -> str:
    entry = hit.entry
    author = entry.author or ctx.t("một thành viên", "a family member")
    return ctx.t(
        "📜 «{title}» — nguyên văn của {author}:\n\n{body}",
        "📜 “{title}” — exactly as {author} wrote it:\n\n{body}",
        title=entry.title,
        author=author,
        body=entry.body,
    )


def _record_in(conn: sqlite3.Connection, rec: AnswerRecord, top: int | None) -> int:
    """Log the answer and, if the question returns to an earlier one, that return: one write."""
    repeat = find_repeat_in(conn, rec.family_id, rec.question_norm, top)  # before it exists
    answer_id = record_in(conn, rec)
    if repeat is not None and repeat != answer_id:
        key = f"ask_again:{repeat}:{answer_id}"
        return_in(conn, rec.family_id, repeat, rec.member_id, "ask_again", key)
    return answer_id
