"""Model faults through the whole app: the real openai client against the loopback server.

For each fault the user's message is stored and answered (by the model after a retry or
a fallback, or from the knowledge base with a note in the user's language), exactly once.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Hearth, build
from bot.core.types import Incoming
from tests import faults
from tests.conftest import make_settings
from tests.servers.openai_server import (
    OpenAIServer,
    cut_stream,
    dead_base_url,
    delay,
    malformed,
    rate_limited,
    running_openai_server,
    status,
)
from tests.support import RecordingOutbox, msg

VI_Q = "Làm cá kho thế nào?"
EN_Q = "How do I cook fish in a clay pot?"
KB_NOTE = {"vi": "Mô hình AI tạm thời không trả lời được", "en": "The AI model is unavailable"}
FAST = {"LLM_TIMEOUT_S": "0.5", "LLM_MAX_TOTAL_S": "6"}


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with running_openai_server() as srv:
        yield srv


async def _app(tmp_path: Path, endpoints: list[str], **env: str) -> Hearth:
    spec = [{"base_url": url, "model": f"m{i}"} for i, url in enumerate(endpoints)]
    return await build(make_settings(tmp_path, LLM_ENDPOINTS=json.dumps(spec), **{**FAST, **env}))


@pytest.fixture
async def app(tmp_path: Path, server: OpenAIServer) -> AsyncIterator[Hearth]:
    hearth = await _app(tmp_path, [server.base_url])
    try:
        yield hearth
    finally:
        await hearth.aclose()


def ask(text: str, lang: str, **extra: Any) -> Incoming:
    return msg(text, chat=f"fault-{lang}", language_code=lang, **extra)


async def answered_once(hearth: Hearth, incoming: Incoming) -> None:
    """Stored, marked answered, exactly one answer row for it, nothing left pending."""
    db = hearth.services.db
    row = await db.fetchone(
        "SELECT id, status FROM messages WHERE platform_message_id = ?", (incoming.message_id,)
    )
    assert row is not None and row["status"] == "answered"
    assert await db.scalar("SELECT count(*) FROM answers WHERE message_id = ?", (row["id"],)) == 1
    assert await db.scalar("SELECT count(*) FROM messages WHERE status = 'pending'") == 0


async def model_answer(
    hearth: Hearth, incoming: Incoming, *, preview: bool = False, out: RecordingOutbox | None = None
) -> str:
    out = out or RecordingOutbox(wants_preview=preview)
    await hearth.pipeline.handle(incoming, out)
    await answered_once(hearth, incoming)
    return out.last.text


async def test_429_with_retry_after_is_waited_out(
    app: Hearth, server: OpenAIServer, request: pytest.FixtureRequest
) -> None:
    server.script(rate_limited(1))
    incoming = ask(VI_Q, "vi")
    text = await model_answer(app, incoming)
    assert "Fake answer about:" in text
    calls = server.requests()
    assert len(calls) == 2
    assert calls[1].at - calls[0].at >= 0.9, "Retry-After was not honoured"
    faults.record(
        request,
        "model 429 with Retry-After",
        "the model's answer, after the wait the server asked for",
        "stored, answered",
        "nothing left to do",
    )


async def test_500_is_retried(
    app: Hearth, server: OpenAIServer, request: pytest.FixtureRequest
) -> None:
    server.script(status(500), status(503))
    text = await model_answer(app, ask(VI_Q, "vi"))
    assert "Fake answer about:" in text
    assert len(server.requests()) == 3
    faults.record(
        request,
        "model 500",
        "the model's answer after a back-off retry",
        "stored, answered",
        "nothing left to do",
    )


async def test_connection_refused_falls_back_to_the_next_endpoint(
    tmp_path: Path, server: OpenAIServer, request: pytest.FixtureRequest
) -> None:
    hearth = await _app(tmp_path, [dead_base_url(), server.base_url])
    try:
        text = await model_answer(hearth, ask(EN_Q, "en"))
    finally:
        await hearth.aclose()
    assert "Fake answer about:" in text
    assert server.requests()[0].body["model"] == "m1"
    faults.record(
        request,
        "model connection refused",
        "the answer of the next endpoint in LLM_ENDPOINTS",
        "stored, answered",
        "nothing left to do",
    )


async def test_timeout_is_retried(
    app: Hearth, server: OpenAIServer, request: pytest.FixtureRequest
) -> None:
    server.script(delay(3))
    started = time.monotonic()
    text = await model_answer(app, ask(VI_Q, "vi"))
    assert "Fake answer about:" in text
    assert time.monotonic() - started < 3, "the client waited for the slow server"
    faults.record(
        request,
        "model timeout",
        "the model's answer from a retry after LLM_TIMEOUT_S",
        "stored, answered",
        "nothing left to do",
    )


async def test_stream_cut_in_the_middle_gives_one_whole_answer(
    app: Hearth, server: OpenAIServer, request: pytest.FixtureRequest
) -> None:
    server.script(cut_stream(after_chunks=6))
    incoming = ask("Kể chi tiết cách làm cá kho tộ với nước màu và nồi đất nhé", "vi")
    out = RecordingOutbox(wants_preview=True)
    text = await model_answer(app, incoming, out=out)
    assert out.previews, "nothing was streamed before the cut"
    assert all(len(p) < len(text) for p in out.previews)
    expected = "Fake answer about: Kể chi tiết cách làm cá kho tộ với nước màu và nồi đất nhé"
    assert text.count("Fake answer about:") == 1
    assert expected in text
    faults.record(
        request,
        "model stream cut in the middle",
        "the partial preview, then one whole answer (re-asked without streaming)",
        "stored, answered",
        "nothing left to do",
    )


async def test_malformed_body_is_retried(
    app: Hearth, server: OpenAIServer, request: pytest.FixtureRequest
) -> None:
    server.script(malformed())
    text = await model_answer(app, ask(EN_Q, "en"))
    assert "Fake answer about:" in text
    faults.record(
        request,
        "model malformed body",
        "the model's answer from a retry",
        "stored, answered",
        "nothing left to do",
    )


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_all_endpoints_down_answers_from_the_knowledge_base(
    tmp_path: Path, lang: str, request: pytest.FixtureRequest
) -> None:
    hearth = await _app(tmp_path, [dead_base_url(), dead_base_url()])
    try:
        text = await model_answer(hearth, ask(VI_Q if lang == "vi" else EN_Q, lang))
        other = "en" if lang == "vi" else "vi"
        assert KB_NOTE[lang] in text
        assert KB_NOTE[other] not in text
        calls = await hearth.services.db.fetchall("SELECT endpoint, ok FROM llm_calls")
        assert len({c["endpoint"] for c in calls}) == 2 and not any(c["ok"] for c in calls)
    finally:
        await hearth.aclose()
    faults.record(
        request,
        "all model endpoints down",
        "an answer from the knowledge base with a note that the AI is unavailable, "
        "in their language",
        "stored, answered (the answer log keeps the model error)",
        "nothing left to do",
    )
