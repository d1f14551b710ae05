"""The composition root: build every live object once and hand them to whoever needs them."""

from __future__ import annotations

import gc
import logging
import sys
from dataclasses import dataclass
from typing import Any

from bot.calendar.service import Calendar
from bot.core.config import Settings
from bot.pipeline import Pipeline
from bot.report.usage import UsageLog
from bot.store.answers import AnswerLog
from bot.store.call_log import CallLog
from bot.store.db import Database
from bot.store.families import FamilyStore
from handlers.base import Services
from handlers.chat import Answerer
from handlers.setup import build_registry
from knowledge.memory import Memory
from knowledge.store import KnowledgeBase
from knowledge.tokens import estimate_tokens

log = logging.getLogger(__name__)
DRAIN_S = 5.0  # at shutdown, background summaries get this long before they are dropped


@dataclass(slots=True)
class Hearth:
    """Everything a running Hearth needs; close it with `aclose()`."""

    settings: Settings
    services: Services
    pipeline: Pipeline

    async def aclose(self) -> None:
        """Close the model clients, then the database."""
        await self.services.answers.drain(grace_s=DRAIN_S)
        llm: Any = self.services.llm
        if llm is not None:
            await llm.aclose()
        await self.services.answers.calls.aclose()
        await self.services.db.close()


def build_llm(settings: Settings, calls: CallLog) -> Any:
    """One client over all configured endpoints, or None for knowledge-base-only answers."""
    if not settings.endpoints:
        return None
    from bot.llm import LLMClient

    return LLMClient(
        settings.endpoints,
        settings.llm_timeout_s,
        settings.llm_max_total_s,
        on_call=calls.note,
        max_answer_chars=settings.llm_max_answer_chars,
    )


# How long the event loop's thread may hold the GIL while a database thread waits for it
# (CPython's default is 5 ms). The reader and writer threads run SQLite without the GIL but
# take it back for every row; under a burst the loop is always busy, so each row waited.
# 1,000 chats at once, four same-hour pairs: p99 11.4/10.3/10.5/9.4 s against
# 13.8/11.5/11.6/9.8 s with the default.
SWITCH_INTERVAL_S = 0.0005


def settle() -> None:
    """Once a long-running process is built: move everything start-up made (modules, SDK
    types, the app) out of the garbage collector's sight, so a full collection in the middle
    of an answer scans only what answers create (a gen-2 pass was the 50–70 ms tail); and
    let the database threads have the GIL sooner (SWITCH_INTERVAL_S)."""
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL_S)


async def build(settings: Settings, *, load_pack: bool = False) -> Hearth:
    """Open the database (migrating it), create the clients and the pipeline."""
    db = await Database.open(settings.db_path)
    try:
        calls = CallLog(db)
        llm = build_llm(settings, calls)
        registry = build_registry()
        answers = Answerer(
            AnswerLog(db), settings.member_rate_per_min, settings.family_concurrency, calls
        )
        services = Services(
            settings=settings,
            db=db,
            families=FamilyStore(db),
            memory=Memory(db, estimate_tokens),
            kb=KnowledgeBase(db, embedder=llm.embed if llm is not None else None),
            llm=llm,
            usage=UsageLog(db),
            answers=answers,
            registry=registry,
            calendar=Calendar(db),
        )
        if load_pack:
            loaded = await services.kb.load_starter_pack()
            if loaded:
                log.info("loaded the starter knowledge pack: %d entries", loaded)
        return Hearth(settings, services, Pipeline(services, registry))
    except BaseException:
        await db.close()
        raise
