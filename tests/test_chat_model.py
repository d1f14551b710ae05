"""Answers through the real openai client and the loopback model server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Hearth, build
from tests.conftest import make_settings
from tests.servers.openai_server import OpenAIServer, dead_base_url, status
from tests.support import RecordingOutbox, msg


@pytest.fixture
async def model_hearth(tmp_path: Path, openai_server: OpenAIServer) -> AsyncIterator[Hearth]:
    settings = make_settings(tmp_path, LLM_BASE_URL=openai_server.base_url, LLM_MODEL="m1")
    app = await build(settings)
    try:
        yield app
    finally:
        await app.aclose()


async def test_answer_comes_from_model_and_is_logged(
    model_hearth: Hearth, openai_server: OpenAIServer
) -> None:
    out = RecordingOutbox()
    await model_hearth.pipeline.handle(msg("/remember Bà nội không ăn cay"), out)
    await model_hearth.pipeline.handle(msg("Tối nay nấu món gì cho bà?"), out)
    sent = openai_server.requests()[-1].body["messages"]
    assert sent[-1] == {"role": "user", "content": "Tối nay nấu món gì cho bà?"}
    assert "Bà nội không ăn cay" in json.dumps(sent, ensure_ascii=False)
    reply = out.last
    assert reply.answer_id is not None and reply.text
    rows = await model_hearth.services.answers.log.recent_log(None, 5)
    assert rows[0]["prompt"] == sent  # the log shows exactly what the model was sent
    assert rows[0]["model"] == "m1"
    assert rows[0]["endpoint"]
    calls = await model_hearth.services.db.fetchall(
        "SELECT ok, purpose FROM llm_calls WHERE purpose = 'chat'"
    )
    assert [(c["ok"], c["purpose"]) for c in calls] == [(1, "chat")]


async def test_streaming_outbox_gets_previews_and_full_text(
    model_hearth: Hearth, openai_server: OpenAIServer
) -> None:
    openai_server.reply_fn = lambda messages: "Cá kho cần nồi đất. " * 10
    out = RecordingOutbox(wants_preview=True)
    await model_hearth.pipeline.handle(msg("Làm cá kho thế nào?"), out)
    assert out.previews, "a streaming adapter sees partial text"
    assert out.last.text.startswith(("Cá kho cần nồi đất. " * 10).strip())
    assert openai_server.requests()[-1].body.get("stream") is True


async def test_model_down_falls_back_to_knowledge_with_a_note(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, LLM_BASE_URL=dead_base_url(), LLM_MAX_TOTAL_S="2")
    app = await build(settings)
    try:
        out = RecordingOutbox()
        await app.pipeline.handle(msg("Làm cá kho thế nào?"), out)
        assert "tạm thời không trả lời được" in out.last.text
        status_ = await app.services.db.scalar("SELECT status FROM messages WHERE role='user'")
        assert status_ == "answered"
        failures = await app.services.db.scalar("SELECT count(*) FROM llm_calls WHERE ok = 0")
        assert failures >= 1
    finally:
        await app.aclose()


async def test_rate_limit_is_friendly(tmp_path: Path, openai_server: OpenAIServer) -> None:
    settings = make_settings(
        tmp_path, LLM_BASE_URL=openai_server.base_url, HEARTH_MEMBER_RATE_PER_MIN="2"
    )
    app = await build(settings)
    try:
        out = RecordingOutbox()
        for i in range(3):
            await app.pipeline.handle(msg(f"câu hỏi về nấu ăn số {i}"), out)
        assert "hơi nhanh" in out.last.text
        assert len(openai_server.requests()) == 2
    finally:
        await app.aclose()


async def test_unauthorised_endpoint_is_not_retried_and_next_is_used(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    endpoints = [
        {"base_url": openai_server.base_url, "model": "first", "api_key": "sk-bad"},
        {"base_url": openai_server.base_url, "model": "second"},
    ]
    openai_server.script(status(401, "invalid api key"))
    settings = make_settings(tmp_path, LLM_ENDPOINTS=json.dumps(endpoints))
    app = await build(settings)
    try:
        out = RecordingOutbox()
        await app.pipeline.handle(msg("Canh chua nấu thế nào?"), out)
        models = [r.body["model"] for r in openai_server.requests()]
        assert models == ["first", "second"]
        rows = await app.services.answers.log.recent_log(None, 1)
        assert rows[0]["model"] == "second"
    finally:
        await app.aclose()
