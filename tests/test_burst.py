"""A burst of questions from many chats: served in arrival order, with bounded work in hand."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bot.app import build
from handlers.chat import PREPARE_CONCURRENCY
from tests.conftest import model_settings
from tests.servers.openai_server import OpenAIServer, delay
from tests.support import RecordingOutbox, msg

CHATS = 4 * PREPARE_CONCURRENCY
MODEL_S = 0.4


async def test_a_burst_prepares_a_bounded_number_of_prompts_in_arrival_order(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    openai_server.script(*(delay(MODEL_S) for _ in range(CHATS)))
    hearth = await build(model_settings(tmp_path, openai_server))
    try:
        kb: Any = hearth.services.kb
        search = kb.search
        searching = most = 0

        async def watched(*args: Any, **kwargs: Any) -> Any:
            nonlocal searching, most
            searching += 1
            most = max(most, searching)
            try:
                return await search(*args, **kwargs)
            finally:
                searching -= 1

        kb.search = watched
        outs = [RecordingOutbox() for _ in range(CHATS)]
        answered_at: dict[int, float] = {}

        async def ask(i: int) -> None:
            await hearth.pipeline.handle(
                msg(f"Nấu cá kho thế nào, câu số {i}?", chat=f"b{i}"), outs[i]
            )
            answered_at[i] = time.perf_counter()

        await asyncio.gather(*(ask(i) for i in range(CHATS)))
    finally:
        await hearth.aclose()

    assert all(out.last.answer_id is not None for out in outs)
    # never more prompts in preparation than the gate lets through (ungated: all of them)
    assert 1 <= most <= PREPARE_CONCURRENCY
    # first come, first served: the first wave is answered before the last wave's model call
    # could even have ended
    first_wave = max(answered_at[i] for i in range(PREPARE_CONCURRENCY))
    last_wave = min(answered_at[i] for i in range(CHATS - PREPARE_CONCURRENCY, CHATS))
    assert first_wave < last_wave
