"""An answer that repeats the system prompt is trimmed, or replaced by the KB answer, and logged.

Small local models echo their prompt; the rules and the family's constraint block must not
reach the chat verbatim. Checked on its own and through the real pipeline, with the
loopback model scripted to echo what it was sent (streamed into previews, too).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.app import build
from knowledge.context import rewrite
from knowledge.output_guard import check_answer
from knowledge.packs import load_starter_pack
from tests.conftest import model_settings
from tests.context_cases import family_input
from tests.servers.openai_server import OpenAIServer, reply
from tests.support import RecordingOutbox, msg

REAL = "Cá kho ngon nhất khi kho lửa thật nhỏ trong nồi đất, rưới nước màu đều tay [1]."


def _guarded() -> tuple[str, str]:
    result = rewrite(family_input("Làm cá kho thế nào?"))
    return result.messages[0]["content"], result.guarded


def test_an_answer_that_is_the_prompt_is_replaced() -> None:
    system, guarded = _guarded()
    assert check_answer(system, guarded, system).action == "replaced"
    rules_only = guarded.split("\n\n")[0]
    assert check_answer(rules_only, guarded, system).action == "replaced"


def test_an_answer_with_the_constraint_block_in_it_is_trimmed_to_the_answer() -> None:
    _, guarded = _guarded()
    block = guarded.split("\n\n")[1]
    assert block.startswith("FAMILY CONSTRAINTS")
    answer = REAL + "\n\n" + block + "\nChúc cả nhà ngon miệng nhé!"
    checked = check_answer(answer, guarded, _guarded()[0])
    assert checked.action == "trimmed"
    assert checked.text.startswith(REAL) and checked.text.endswith("ngon miệng nhé!")
    assert "Kitchen:" not in checked.text and "⟦" not in checked.text


@pytest.mark.parametrize(
    "answer",
    [
        REAL,
        "Vì bà nội không ăn ớt nên mình để ớt riêng cho cả nhà tự thêm nhé.",
        "Xếp cá vào nồi đất, đổ nước dừa xấp mặt, kho lửa nhỏ trên bếp gas 40 phút [1].",
    ],
)
def test_a_real_answer_is_kept_even_when_it_quotes_a_source_or_a_constraint(answer: str) -> None:
    system, guarded = _guarded()
    assert check_answer(answer, guarded, system).action == "kept"


@pytest.mark.parametrize("preview", [False, True])
async def test_an_echoing_model_never_shows_the_prompt_in_the_chat(
    tmp_path: Path,
    openai_server: OpenAIServer,
    caplog: pytest.LogCaptureFixture,
    preview: bool,
) -> None:
    app = await build(model_settings(tmp_path, openai_server))
    try:
        await load_starter_pack(app.services.kb)

        async def say(text: str) -> RecordingOutbox:
            out = RecordingOutbox(wants_preview=preview)
            await app.pipeline.handle(msg(text, chat="echo", user="lan"), out)
            return out

        await say("/family set kitchen bếp gas, nồi đất, không có lò nướng")
        await say("/remember Bà nội không ăn ớt")
        await say("Làm cá kho thế nào?")
        sent = openai_server.requests()[-1].body["messages"][0]["content"]
        openai_server.script(reply(sent))  # the next answer is the prompt, word for word
        with caplog.at_level(logging.WARNING, logger="handlers.chat"):
            out = await say("Làm cá kho thế nào?")
        answer = out.last.text
        for secret in ("You are Hearth", "FAMILY CONSTRAINTS", "Remembered: ⟦", "BEFORE YOU"):
            assert secret not in answer
            assert all(secret not in p for p in out.previews)
        assert answer.startswith("📖 Từ kho kiến thức: «Cá kho tộ»")  # the KB answer instead
        assert any("repeated its prompt" in r.getMessage() for r in caplog.records)
        row = await app.services.db.fetchone(
            "SELECT context_json FROM answers ORDER BY id DESC LIMIT 1"
        )
        assert row is not None
        guard = json.loads(row["context_json"])["output_guard"]
        assert guard["action"] == "replaced" and guard["echo_lines"] > 3
    finally:
        await app.aclose()
