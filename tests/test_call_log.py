"""The model-call log rides in the answer's transaction; other calls follow within a second."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import build
from bot.llm import CallRecord
from bot.store import call_log
from bot.store.db import Database
from tests.conftest import model_settings
from tests.servers.openai_server import OpenAIServer
from tests.support import RecordingOutbox, msg


def a_call(purpose: str, family_id: int | None = None) -> CallRecord:
    return CallRecord("e", "m", purpose, True, None, 3, 5, 7, family_id)


async def test_an_answer_costs_three_write_transactions_with_its_call_row(
    tmp_path: Path, openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(call_log, "FLUSH_S", 60.0)  # no timed flush inside the counted turn
    hearth = await build(model_settings(tmp_path, openai_server))
    try:
        out = RecordingOutbox()
        await hearth.pipeline.handle(msg("Nấu canh chua thế nào?", message_id="1"), out)
        commits: list[str] = []
        writers = hearth.services.db.connections[:2]  # transaction()'s and write()'s
        for writer in writers:
            await writer.set_trace_callback(
                lambda sql: commits.append(sql) if sql == "COMMIT" else None
            )
        await hearth.pipeline.handle(msg("Còn cá kho thì sao?", message_id="2"), out)
        for writer in writers:
            # aiosqlite annotates the handler as Callable, but None (as in sqlite3) clears it
            await writer.set_trace_callback(None)  # type: ignore[arg-type]
        chat_calls = await hearth.services.db.scalar(
            "SELECT count(*) FROM llm_calls WHERE purpose = 'chat' AND ok = 1"
        )
    finally:
        await hearth.aclose()
    # the message, the answer with its model call, the reply's delivery (was four)
    assert len(commits) == 3
    assert chat_calls == 2  # already written when the answer was: no wait for a flush


async def test_calls_without_an_answer_are_written_soon_and_at_shutdown(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    settings = model_settings(tmp_path, openai_server)
    hearth = await build(settings)
    try:
        calls = hearth.services.answers.calls
        record = a_call("embed")
        await calls.note(record)
        await asyncio.sleep(call_log.FLUSH_S + 0.5)
        soon = await hearth.services.db.scalar("SELECT count(*) FROM llm_calls")
        await calls.note(record)  # pending when the bot stops
    finally:
        await hearth.aclose()
    db = await Database.open(settings.db_path)
    try:
        at_exit = await db.scalar("SELECT count(*) FROM llm_calls WHERE purpose = 'embed'")
    finally:
        await db.close()
    assert (soon, at_exit) == (1, 2)


async def test_a_call_of_a_family_erased_meanwhile_is_kept_anonymous(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    hearth = await build(model_settings(tmp_path, openai_server))
    try:
        fam = await hearth.services.families.ensure("console", "gone", "private")
        record = a_call("summary", fam.id)
        await hearth.services.answers.calls.note(record)
        await hearth.services.db.execute("DELETE FROM families WHERE id = ?", (fam.id,))
        await hearth.services.answers.calls.flush()
        row = await hearth.services.db.fetchone("SELECT family_id, purpose FROM llm_calls")
    finally:
        await hearth.aclose()
    assert row is not None and (row["family_id"], row["purpose"]) == (None, "summary")
