"""Abuse: per-member rate limit of model calls and a cap on concurrent calls per family."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

from bot.app import build
from tests.conftest import make_settings
from tests.servers.openai_server import last_user_text, running_openai_server
from tests.support import RecordingOutbox, msg

SLOW_S = 0.3


async def test_member_rate_limit_is_friendly_and_per_member(tmp_path: Path) -> None:
    with running_openai_server() as server:
        settings = make_settings(
            tmp_path,
            LLM_BASE_URL=server.base_url,
            HEARTH_MEMBER_RATE_PER_MIN="2",
        )
        hearth = await build(settings)
        try:
            out = RecordingOutbox()
            for i in range(3):
                await hearth.pipeline.handle(
                    msg(f"Câu hỏi số {i} về cá kho?", chat="rl", user="kid", kind="group"), out
                )
            assert len(server.requests()) == 2
            assert "hỏi hơi nhanh" in out.last.text
            english = RecordingOutbox()
            await hearth.pipeline.handle(
                msg(
                    "One more question about rice?",
                    chat="rl",
                    user="kid",
                    kind="group",
                    language_code="en",
                ),
                english,
            )
            assert "a little fast" in english.last.text
            await hearth.pipeline.handle(
                msg("Bà hỏi: nấu cơm thế nào?", chat="rl", user="grandma", kind="group"), out
            )
            assert len(server.requests()) == 3, "another member was limited too"
            status = await hearth.services.db.scalar(
                "SELECT count(*) FROM messages WHERE role = 'user' AND status != 'answered'"
            )
            assert status == 0, "a rate-limited message was left unanswered"
        finally:
            await hearth.aclose()


async def test_concurrent_model_calls_are_capped_per_family(tmp_path: Path) -> None:
    active: dict[str, int] = {}
    peak: dict[str, int] = {}
    peak_total = [0]
    lock = threading.Lock()

    def slow_reply(messages: list[dict[str, Any]]) -> str:
        family = last_user_text(messages).split("]")[0].strip("[")
        with lock:
            active[family] = active.get(family, 0) + 1
            peak[family] = max(peak.get(family, 0), active[family])
            peak_total[0] = max(peak_total[0], sum(active.values()))
        time.sleep(SLOW_S)
        with lock:
            active[family] -= 1
        return f"answer for {family}"

    with running_openai_server(reply_fn=slow_reply) as server:
        spec = json.dumps([{"base_url": server.base_url, "model": "m"}])
        settings = make_settings(tmp_path, LLM_ENDPOINTS=spec, HEARTH_FAMILY_CONCURRENCY="1")
        hearth = await build(settings)
        try:
            jobs = []
            for fam in ("A", "B", "C"):
                for i in range(3):
                    jobs.append(
                        hearth.pipeline.handle(
                            msg(f"[{fam}] câu hỏi {i}?", chat=fam, user=f"u{i}", kind="group"),
                            RecordingOutbox(),
                        )
                    )
            started = time.monotonic()
            await asyncio.gather(*jobs)
            elapsed = time.monotonic() - started
        finally:
            await hearth.aclose()
    assert peak == {"A": 1, "B": 1, "C": 1}
    assert peak_total[0] >= 2, "families should not wait for each other"
    assert elapsed < 9 * SLOW_S, "families were serialised globally"
