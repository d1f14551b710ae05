"""End to end: profile and facts → rewriter → the request the loopback model server receives.

The real pipeline, the real openai client, the real knowledge base with the starter pack.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Hearth, build
from knowledge.packs import load_starter_pack
from knowledge.store import KnowledgeBase
from tests.conftest import make_settings
from tests.servers.openai_server import OpenAIServer
from tests.support import RecordingOutbox, msg

QUESTION = "Làm cá kho thế nào?"


async def _with_pack(app: Hearth) -> Hearth:
    if app.services.kb is None:  # until the composition root builds the knowledge base
        app.services.kb = KnowledgeBase(app.services.db)
    await load_starter_pack(app.services.kb)
    return app


@pytest.fixture
async def model_app(tmp_path: Path, openai_server: OpenAIServer) -> AsyncIterator[Hearth]:
    settings = make_settings(tmp_path, LLM_BASE_URL=openai_server.base_url, LLM_MODEL="m1")
    app = await build(settings)
    try:
        yield await _with_pack(app)
    finally:
        await app.aclose()


@pytest.fixture
async def kb_app(tmp_path: Path) -> AsyncIterator[Hearth]:
    app = await build(make_settings(tmp_path))
    try:
        yield await _with_pack(app)
    finally:
        await app.aclose()


async def _say(app: Hearth, text: str, chat: str) -> RecordingOutbox:
    out = RecordingOutbox()
    await app.pipeline.handle(msg(text, chat=chat, user=f"{chat}-admin"), out)
    return out


async def _set_up_family_a(app: Hearth) -> None:
    await _say(app, "/family set kitchen bếp gas, nồi đất, không có lò nướng", "nha-a")
    await _say(app, "/family set region Nam", "nha-a")
    await _say(app, "/remember Bà nội không ăn ớt", "nha-a")


async def test_the_model_receives_source_constraint_and_language(
    model_app: Hearth, openai_server: OpenAIServer
) -> None:
    await _set_up_family_a(model_app)
    out = await _say(model_app, QUESTION, "nha-a")
    sent = openai_server.requests()[-1].body["messages"]
    system = sent[0]["content"]
    assert sent[-1] == {"role": "user", "content": QUESTION}
    assert "⟦source 1: Cá kho tộ (the South)⟧" in system
    assert "Phi thơm hành tỏi trong nồi đất (tộ)" in system
    assert "Kitchen: ⟦bếp gas, nồi đất, không có lò nướng⟧" in system
    assert "There is NO oven" in system
    assert "Bà nội không ăn ớt" in system
    assert system.endswith(
        "BEFORE YOU ANSWER: reply in Vietnamese (tiếng Việt)."
        " Respect: ⟦Bà nội không ăn ớt⟧: source 1 uses ⟦ớt⟧."
    )
    assert "cá kho = braised fish in a clay pot" in system
    assert "Nguồn: [1] Cá kho tộ" in out.last.text

    await _say(model_app, QUESTION, "nha-b")
    other = json.dumps(openai_server.requests()[-1].body["messages"], ensure_ascii=False)
    assert "⟦source 1: Cá kho tộ" in other  # global knowledge is shared
    for private in ("không có lò nướng", "Bà nội không ăn ớt", "NO oven", "the South (miền Nam)"):
        assert private not in other


async def test_english_question_gets_an_english_prompt(
    model_app: Hearth, openai_server: OpenAIServer
) -> None:
    await _say(model_app, "How do I make braised fish in a clay pot?", "en-family")
    system = openai_server.requests()[-1].body["messages"][0]["content"]
    assert system.endswith("BEFORE YOU ANSWER: reply in English.")
    assert "⟦source 1: Cá kho tộ" in system


async def test_without_a_model_the_kb_answer_respects_the_family(kb_app: Hearth) -> None:
    await _set_up_family_a(kb_app)
    answer = (await _say(kb_app, QUESTION, "nha-a")).last.text
    assert answer.startswith("📖 Từ kho kiến thức: «Cá kho tộ»")
    assert "⚠️ Bà nội không ăn ớt, mà mục này có «ớt»" in answer
    assert "lò nướng, mà bếp" not in answer  # the entry itself says no oven is needed
    why = (await _say(kb_app, "/taisao", "nha-a")).last.text
    assert "• Nguồn [1] Cá kho tộ" in why
    assert "• Thuật ngữ: cá kho → braised fish" in why
