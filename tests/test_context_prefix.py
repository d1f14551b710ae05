"""The prompt runs from stable to changing, so a local server reuses its cached prefix.

Rules, the family's constraints and facts, the summary and the recent conversation come
first and stay byte for byte the same from one turn to the next (the conversation only
grows at its end); this turn's sources and the question come last. Bot commands are not
conversation. Driven through the real pipeline against the loopback model server.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Hearth, build
from knowledge.packs import load_starter_pack
from tests.conftest import model_settings
from tests.servers.openai_server import OpenAIServer
from tests.support import RecordingOutbox, msg

TAIL_HEADERS = (
    "TODAY AND THE COMING DAYS (",
    "GLOSSARY (",
    "REMEMBERED FAMILY FACTS (",
    "SOURCES (",
    "BEFORE YOU ANSWER:",
)
QUESTIONS = [
    "Làm cá kho thế nào?",
    "How do I make braised pork with eggs?",
    "Canh chua nấu với cá gì?",
    "hôm nay trời đẹp quá",
    "Cúng ông Công ông Táo cần gì?",
    "bánh chưng luộc bao lâu",
    "Con bị ho thì uống gì?",
]


@pytest.fixture
async def app(tmp_path: Path, openai_server: OpenAIServer) -> AsyncIterator[Hearth]:
    hearth = await build(model_settings(tmp_path, openai_server))
    await load_starter_pack(hearth.services.kb)
    try:
        yield hearth
    finally:
        await hearth.aclose()


async def _say(app: Hearth, text: str) -> RecordingOutbox:
    out = RecordingOutbox()
    await app.pipeline.handle(msg(text, chat="nha", user="lan", user_name="Lan"), out)
    return out


def _stable_part(system: str) -> str:
    """The system message up to this turn's part (glossary, facts, sources, reminder)."""
    cut = min(system.find("\n\n" + h) for h in TAIL_HEADERS if "\n\n" + h in system)
    return system[:cut]


async def test_consecutive_turns_share_the_prefix_up_to_the_sources(
    app: Hearth, openai_server: OpenAIServer
) -> None:
    await _say(app, "/family set kitchen bếp gas, nồi đất, không có lò nướng")
    await _say(app, "/remember Bà nội không ăn ớt")
    await _say(app, "/kb add Cá kho riềng | Cá trắm kho với riềng và nước màu, lửa nhỏ 2 tiếng.")
    systems = []
    for question in QUESTIONS:
        await _say(app, question)
        systems.append(openai_server.requests()[-1].body["messages"][0]["content"])
    for before, after in itertools.pairwise(systems):
        assert after.startswith(_stable_part(before))
    last = systems[-1]
    stable = _stable_part(last)
    # the conversation is in the cached part: before the sources, and growing at its end
    assert "RECENT MESSAGES (oldest first):" in stable
    assert last.index("RECENT MESSAGES") < last.index("SOURCES (")
    assert QUESTIONS[-2] in stable and "Fake answer about: " + QUESTIONS[-2] in stable
    assert "FAMILY CONSTRAINTS" in stable and "Bà nội không ăn ớt" in stable
    # the reply language is named at the end, not in the rules
    assert "reply in English" in systems[1].rsplit("\n\n", 1)[-1]
    assert "English" not in _stable_part(systems[1]).split("FAMILY CONSTRAINTS")[0]


async def test_bot_commands_are_not_conversation(app: Hearth, openai_server: OpenAIServer) -> None:
    await _say(app, "/family set region Nam")
    await _say(app, "/kb add Gà kho gừng | Gà ta kho với gừng và nước mắm.")
    await _say(app, "/remember Bé thích ăn cá")
    await _say(app, "Làm cá kho thế nào?")
    await _say(app, "/kb list")
    await _say(app, "Còn thịt kho trứng thì sao?")
    system = openai_server.requests()[-1].body["messages"][0]["content"]
    for command in ("/family set", "/kb add", "/remember", "/kb list"):
        assert command not in system
    assert "Làm cá kho thế nào?" in system  # the conversation itself is there
    why = (await _say(app, "/why")).last.text
    assert "lệnh bot không gửi kèm" in why


async def test_the_summary_skips_bot_commands(app: Hearth) -> None:
    fam = await app.services.families.ensure("console", "nha", "private")
    for n in range(30):
        await _say(app, f"/remember điều số {n}")
        await _say(app, f"Hôm nay nấu món số {n} nhé, nhiều rau và canh chua")
    assert await app.services.memory.fold(fam.id, 60)
    summary = await app.services.memory.summary(fam.id) or ""
    assert "nấu món số" in summary
    assert "/remember" not in summary
