"""Per-family memory: facts, history within a budget, folding into a rolling summary."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from bot.app import Hearth, build
from bot.core.errors import UsageError
from handlers.chat import SUMMARY_PROMPT
from knowledge.memory import extractive_summary
from knowledge.types import Turn
from tests.conftest import model_settings
from tests.servers.openai_server import OpenAIServer, delay, reply
from tests.support import RecordingOutbox, msg


async def test_history_overflow_folds_into_summary(hearth: Hearth) -> None:
    out = RecordingOutbox()
    for i in range(40):
        await hearth.pipeline.handle(msg(f"Câu hỏi số {i}: nấu món gì cho bữa tối thứ {i}?"), out)
    await hearth.services.answers.drain()
    fam = await hearth.services.families.ensure("console", "fam1", "private")
    summary = await hearth.services.memory.summary(fam.id)
    assert summary is not None and "Câu hỏi số" in summary
    text, recent = await hearth.services.memory.recent(fam.id, hearth.settings.history_tokens)
    assert text == summary
    assert recent, "the newest turns are still there"
    numbers = re.compile(r"Câu hỏi số (\d+)")
    in_summary = {int(n) for n in numbers.findall(summary)}
    in_recent = {int(n) for t in recent for n in numbers.findall(t.text)}
    assert in_summary and in_recent
    assert max(in_summary) < min(in_recent)  # folded turns left the window, in order
    assert 39 in in_recent


async def test_recent_respects_budget(hearth: Hearth) -> None:
    out = RecordingOutbox()
    for i in range(6):
        await hearth.pipeline.handle(msg(f"tin nhắn {i} " + "x" * 200), out)
    fam = await hearth.services.families.ensure("console", "fam1", "private")
    _, small = await hearth.services.memory.recent(fam.id, 150)
    _, large = await hearth.services.memory.recent(fam.id, 100_000)
    assert 0 < len(small) < len(large)
    assert large[-1].role == "assistant"


async def test_facts_validation(hearth: Hearth) -> None:
    fam = await hearth.services.families.ensure("console", "f", "private")
    memory = hearth.services.memory
    with pytest.raises(UsageError):
        await memory.remember(fam.id, None, "   ")
    with pytest.raises(UsageError):
        await memory.remember(fam.id, None, "x" * 501)
    a = await memory.remember(fam.id, None, "Không có lò nướng")
    b = await memory.remember(fam.id, None, "không có lò nướng")
    assert a.id == b.id
    with pytest.raises(UsageError):
        await memory.forget(fam.id, "7")
    with pytest.raises(UsageError):
        await memory.forget(fam.id, "abc")
    assert [f.text for f in await memory.forget(fam.id, "1")] == ["Không có lò nướng"]


def test_extractive_summary_keeps_first_sentences() -> None:
    text = extractive_summary("", [Turn("user", "Nhà mình ở Huế. Thích ăn cay.", "Mẹ")])
    assert text == "- Mẹ: Nhà mình ở Huế."
    long = extractive_summary("x" * 3000, [Turn("user", "mới", "Bố")])
    assert len(long) <= 1500 and long.endswith("- Bố: mới")


async def test_summaries_wait_while_a_question_is_being_answered(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    """A fold that falls due during a burst runs after it: answers never share the model
    and the event loop with background summaries while someone is waiting."""
    settings = model_settings(tmp_path, openai_server)
    app = await build(settings)

    def summaries() -> int:
        return sum(
            1
            for r in openai_server.requests()
            if SUMMARY_PROMPT in json.dumps(r.body, ensure_ascii=False)
        )

    def asked(text: str) -> bool:
        return any(text in json.dumps(r.body, ensure_ascii=False) for r in openai_server.requests())

    try:
        out = RecordingOutbox()
        for i in range(40):
            await app.pipeline.handle(msg(f"Câu hỏi số {i}: tối nay nấu món gì?", chat="a"), out)
        await app.services.answers.drain()
        before = summaries()
        assert before >= 1, "with nothing else going on, folds ran at once"
        openai_server.script(delay(1.5))
        slow = asyncio.create_task(
            app.pipeline.handle(msg("Câu hỏi chậm về canh chua", chat="b"), RecordingOutbox())
        )
        for _ in range(500):
            if asked("Câu hỏi chậm"):
                break
            await asyncio.sleep(0.01)
        for i in range(40, 56):
            await app.pipeline.handle(msg(f"Câu hỏi số {i}: tối nay nấu món gì?", chat="a"), out)
        assert asked("Câu hỏi số 55") and not slow.done()
        assert summaries() == before, "a summary was made while a question was waiting"
        await slow
        await app.services.answers.drain()
        assert summaries() > before, "the fold that fell due ran once the burst was over"
    finally:
        await app.aclose()


async def test_shutdown_does_not_wait_for_a_slow_summary(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    """A summary stuck on a slow model is dropped after the drain timeout, not awaited:
    nothing is written for it, and the next turn of the family asks for it again."""
    settings = model_settings(tmp_path, openai_server, HEARTH_HISTORY_TOKENS="40")
    app = await build(settings)
    try:
        out = RecordingOutbox()
        for i in range(6):
            await app.pipeline.handle(msg(f"Câu hỏi số {i}: tối nay nấu món gì?"), out)
        await app.services.answers.drain()
        fam = await app.services.families.ensure("console", "fam1", "private")
        before = await app.services.db.fetchone(
            "SELECT text, upto_message_id FROM summaries WHERE family_id = ?", (fam.id,)
        )
        assert before is not None, "a 40-token history budget folds at once"
        openai_server.script(reply("Nấu canh chua nhé."), delay(5.0))  # answer, then summary
        await app.pipeline.handle(msg("Câu hỏi số 6: còn ngày mai?"), out)
        began = asyncio.get_running_loop().time()
        await app.services.answers.drain(grace_s=0.3)
        assert asyncio.get_running_loop().time() - began < 2.0
        after = await app.services.db.fetchone(
            "SELECT text, upto_message_id FROM summaries WHERE family_id = ?", (fam.id,)
        )
        assert after is not None
        assert tuple(after) == tuple(before), "the dropped summary wrote nothing"
    finally:
        await app.aclose()
