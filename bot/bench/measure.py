"""In-process measurements of one Hearth: pipeline overhead, knowledge search, concurrency.

Each function builds the real app (`bot.app.build`) on the synthetic database and drives
`pipeline.handle` exactly as an adapter does; only the outbox is the bench's own.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.bench.phrases import DISHES, EN_QUESTIONS, TOPICS, VI_QUESTIONS
from bot.bench.stats import summarize
from bot.bench.synthetic import family_chat_id, member_user_id
from bot.core.config import Settings
from bot.core.types import Incoming, Reply

TAG_RE = re.compile(r"\[(\d)\]")


@dataclass
class BenchOutbox:
    """Keeps the time each reply arrived; answers are the replies that carry an answer id."""

    wants_preview: bool = False
    replies: list[tuple[int, Reply]] = field(default_factory=list)
    on_answer: Callable[[Reply], None] | None = None

    async def typing(self) -> None:
        """Nothing to show."""

    async def preview(self, text: str) -> None:
        """Previews are not measured."""

    async def close(self) -> None:
        """Nothing runs in the background."""

    async def send(self, reply: Reply) -> list[str]:
        """Record the reply with its arrival time."""
        self.replies.append((time.perf_counter_ns(), reply))
        if reply.answer_id is not None and self.on_answer is not None:
            self.on_answer(reply)
        return [f"bench-{len(self.replies)}"]


class TimedModel:
    """The real model client, with the time spent waiting for the model counted apart.

    The answer-log callback (`llm_calls` insert) runs inside `complete`; its time is
    counted back into Hearth's own work, because it is Hearth's database write. Only
    answers are timed: a background summary's model call overlaps the next message.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_ns = 0
        self.callback_ns = 0
        on_call = getattr(inner, "_on_call", None)
        if on_call is not None:

            async def timed_on_call(call: Any) -> None:
                began = time.perf_counter_ns()
                try:
                    await on_call(call)
                finally:
                    if getattr(call, "purpose", "chat") == "chat":
                        self.callback_ns += time.perf_counter_ns() - began

            inner._on_call = timed_on_call

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def time_embeddings(self, kb: Any) -> None:
        """The knowledge base embeds each query at the endpoint: that wait is the model's too."""
        vectors: Any = getattr(kb, "vectors", None)
        embedder = getattr(vectors, "embedder", None)
        if vectors is None or embedder is None:
            return

        async def timed_embed(texts: list[str]) -> Any:
            began = time.perf_counter_ns()
            try:
                return await embedder(texts)
            finally:
                self.model_ns += time.perf_counter_ns() - began

        vectors.embedder = timed_embed

    async def complete(self, messages: Any, **kwargs: Any) -> Any:
        """Delegate to the real client; count the wall time of answers (not background work)."""
        if kwargs.get("purpose", "chat") != "chat":
            return await self.inner.complete(messages, **kwargs)
        began = time.perf_counter_ns()
        try:
            return await self.inner.complete(messages, **kwargs)
        finally:
            self.model_ns += time.perf_counter_ns() - began

    @property
    def outside_ns(self) -> int:
        """Model time minus the part that was Hearth's own callback."""
        return self.model_ns - self.callback_ns


class StatementCounter:
    """Counts SQL statements both connections run (BEGIN/COMMIT and FTS5's own included)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _sql: str) -> None:
        self.count += 1

    async def attach(self, db: Any) -> StatementCounter:
        """Trace the database's connections (only a count is kept: no memory grows)."""
        for conn in db.connections:
            await conn.set_trace_callback(self)
        return self


def question(rng: random.Random) -> str:
    """A family question like the ones in the synthetic history."""
    pool = VI_QUESTIONS if rng.random() < 0.8 else EN_QUESTIONS
    return rng.choice(pool).format(dish=rng.choice(DISHES), topic=rng.choice(TOPICS))


def incoming_for(index: int, text: str, message_id: str, families: int) -> Incoming:
    """A message from the first member of synthetic family `index` (or a new chat past it)."""
    if index < families:
        chat_id, kind = family_chat_id(index)
    else:
        chat_id, kind = f"bench-{index}", "private"
    return Incoming(
        platform="telegram",
        chat_id=chat_id,
        user_id=member_user_id(index, 0),
        message_id=message_id,
        text=text,
        chat_kind=kind,  # type: ignore[arg-type]
        user_name="Bench",
        addressed=True,
    )


async def measure_overhead(
    settings: Settings, families: int, samples: int, warmup: int, seed: int = 1, tag: str = ""
) -> dict[str, Any]:
    """Sequential chat messages to random families; Hearth's time = total − model wait."""
    from bot.app import build, settle

    hearth = await build(settings)
    settle()  # as `hearth run` does once it is built
    rng = random.Random(seed)
    tag = tag or str(os.getpid())  # message ids never collide with an earlier run's
    try:
        timed = None
        if hearth.services.llm is not None:
            timed = TimedModel(hearth.services.llm)
            timed.time_embeddings(hearth.services.kb)
            hearth.services.llm = timed
        outbox = BenchOutbox()
        statements = await StatementCounter().attach(hearth.services.db)
        totals: list[float] = []
        own: list[float] = []
        cpu: list[float] = []
        for n in range(warmup + samples):
            inc = incoming_for(rng.randrange(families), question(rng), f"ovh-{tag}-{n}", families)
            before = timed.outside_ns if timed else 0
            if n == warmup:
                statements.count = 0
            cpu_began = time.process_time_ns()
            began = time.perf_counter_ns()
            await hearth.pipeline.handle(inc, outbox)
            spent = time.perf_counter_ns() - began
            cpu_spent = time.process_time_ns() - cpu_began
            model = (timed.outside_ns if timed else 0) - before
            if n >= warmup:
                totals.append(spent / 1e6)
                own.append((spent - model) / 1e6)
                cpu.append(cpu_spent / 1e6)
        answered = sum(1 for _, r in outbox.replies if r.answer_id is not None)
        if answered < warmup + samples:
            raise RuntimeError(f"only {answered} of {warmup + samples} messages were answered")
        return {
            "overhead": summarize(own),
            "handle_total": summarize(totals),
            "process_cpu_ms": summarize(cpu),
            "sql_statements_per_message": statements.count / samples,
            "with_model": timed is not None,
            "kb": hearth.services.kb is not None,
        }
    finally:
        await hearth.aclose()


async def measure_kb_search(
    settings: Settings, families: int, samples: int, warmup: int, seed: int = 2
) -> dict[str, Any] | None:
    """Knowledge search alone, through the app's own KnowledgeBase, per-family scope."""
    from bot.app import build, settle

    hearth = await build(settings)
    settle()  # as `hearth run` does once it is built
    try:
        kb = hearth.services.kb
        if kb is None:
            try:
                from knowledge.store import KnowledgeBase
            except ImportError:
                return None
            kb = KnowledgeBase(hearth.services.db)
        rng = random.Random(seed)
        times: list[float] = []
        hits = 0
        for n in range(warmup + samples):
            fid = rng.randrange(families) + 1
            query = question(rng)
            began = time.perf_counter_ns()
            found = await kb.search(query, fid, limit=5)
            spent = time.perf_counter_ns() - began
            if n >= warmup:
                times.append(spent / 1e6)
                hits += bool(found)
        return {"search": summarize(times), "queries_with_hits": hits / max(1, samples)}
    finally:
        await hearth.aclose()


async def measure_concurrent(settings: Settings, families: int, chats: int) -> dict[str, Any]:
    """`chats` chats ask at once against a slow model; a few chats send two in a row (they must stay in order)."""
    from bot.app import build, settle

    ordered_chats = max(1, min(20, chats // 5))

    hearth = await build(settings)
    settle()  # as `hearth run` does once it is built
    rng = random.Random(3)
    try:
        outbox_of: dict[int, BenchOutbox] = {}
        jobs: list[tuple[int, Incoming]] = []
        for i in range(chats):
            outbox_of[i] = BenchOutbox()
            burst = 2 if i < ordered_chats else 1
            for k in range(burst):
                text = f"[{k + 1}] {question(rng)}"
                jobs.append((i, incoming_for(i, text, f"c{os.getpid()}-{i}-{k}", families)))
        cpu_began = time.process_time_ns()
        began = time.perf_counter_ns()
        tasks = [asyncio.create_task(hearth.pipeline.handle(inc, outbox_of[i])) for i, inc in jobs]
        await asyncio.gather(*tasks)
        cpu_ns = time.process_time_ns() - cpu_began
        latencies = []
        order_ok = True
        order_failures: list[dict[str, Any]] = []

        def texts_of(i: int) -> list[str]:
            return [r.text[:80] for _, r in outbox_of[i].replies]

        missing = 0
        for i in range(chats):
            answers = [(t, r) for t, r in outbox_of[i].replies if r.answer_id is not None]
            if not answers:
                missing += 1
                continue
            if i < ordered_chats:
                tags = [_tag(r.text) for _, r in answers]
                if tags != ["1", "2"]:
                    order_ok = False
                    order_failures.append({"chat": i, "tags": tags, "texts": texts_of(i)})
            else:
                latencies.append((answers[0][0] - began) / 1e9)
        if not latencies:
            raise RuntimeError(f"no chat was answered: {outbox_of[0].replies[:1]}")
        return {
            "latency_s": summarize(latencies),
            "order_ok": order_ok,
            "order_failures": order_failures[:3],
            "unanswered": missing,
            "chats": chats,
            "messages": len(jobs),
            "cpu_s": round(cpu_ns / 1e9, 3),
            "cpu_ms_per_message": round(cpu_ns / 1e6 / len(jobs), 3),
        }
    finally:
        await hearth.aclose()


PROMPT_CHARS = 2_000  # about what the rewrite sends: rules, profile, facts, sources, history


async def measure_model_calls(settings: Settings, calls: int) -> dict[str, Any]:
    """The floor under concurrent_2s: the same burst as model calls alone, through the app's
    own client (retries, fallbacks, call log) with none of Hearth's other work around them.

    Why: the 1,000-chat latency is 2 s of model plus the CPU of everything else; this says
    how much of "everything else" the model calls themselves are on this machine.
    """
    from bot.app import build, settle

    hearth = await build(settings)
    settle()
    try:
        llm = hearth.services.llm
        if llm is None:
            raise RuntimeError("no model client configured")
        rng = random.Random(4)
        system = ("Gia đình ở Huế, bếp gas, không có lò nướng. " * 60)[:PROMPT_CHARS]
        prompts = [
            [{"role": "system", "content": system}, {"role": "user", "content": question(rng)}]
            for _ in range(calls)
        ]
        cpu_began = time.process_time_ns()
        began = time.perf_counter_ns()

        async def one(n: int) -> float:
            await llm.complete(prompts[n], family_id=n + 1)
            return (time.perf_counter_ns() - began) / 1e9

        latencies = await asyncio.gather(*(one(n) for n in range(calls)))
        cpu_ns = time.process_time_ns() - cpu_began
        return {
            "latency_s": summarize(list(latencies)),
            "calls": calls,
            "cpu_s": round(cpu_ns / 1e9, 3),
            "cpu_ms_per_call": round(cpu_ns / 1e6 / calls, 3),
        }
    finally:
        await hearth.aclose()


def _tag(text: str) -> str:
    """The loopback model echoes the question, so an answer carries its `[n]` tag."""
    found = TAG_RE.search(text)
    return found.group(1) if found else "?"


def run(coro: Awaitable[Any]) -> Any:
    """Run one measurement on a fresh event loop."""
    return asyncio.run(coro)  # type: ignore[arg-type]
