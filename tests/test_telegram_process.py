"""End to end: `hearth run` as a real process against the loopback Bot API and model server."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers.openai_server import (
    OpenAIServer,
    last_user_text,
    reply,
    running_openai_server,
)
from tests.servers.telegram_api import (
    BOT_USERNAME,
    TOKEN,
    FakeTelegram,
    parse_html,
    running_telegram,
)
from tests.support.processes import measured

GROUP = -100555
KB_GROUP = -100556
ADMIN = 3001
MEMBER = 3002


@dataclass
class BotProcess:
    fake: FakeTelegram
    model: OpenAIServer
    proc: subprocess.Popen[bytes]
    db: Path
    env: dict[str, str]
    log: Path

    def texts(self, chat_id: int, count: int, seconds: float = 15.0) -> list[str]:
        """Wait for the bot's `count` messages in a chat; their visible text."""
        try:
            self.fake.wait_for(lambda: len(self.fake.bot_messages(chat_id)) >= count, seconds)
        except AssertionError:
            raise AssertionError(self.log.read_text()[-3000:]) from None
        return [_visible(m.text, m.parse_mode) for m in self.fake.bot_messages(chat_id)]

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql, params).fetchall()

    def hearth(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=self.env,
            cwd=self.db.parent,
            capture_output=True,
            text=True,
            timeout=60,
        )


def _visible(text: str, parse_mode: str | None) -> str:
    return parse_html(text) if parse_mode == "HTML" else text


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    """One `hearth run` for the module (each test uses its own chats); stopped with SIGTERM."""
    tmp_path = tmp_path_factory.mktemp("telegram-process")
    with running_telegram() as (fake, base, file_base), running_openai_server() as model:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "HEARTH_DB": str(tmp_path / "hearth.db"),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": base,
            "TELEGRAM_API_BASE_FILE_URL": file_base,
            "LLM_BASE_URL": model.base_url,
            "LLM_MODEL": "fake-model",
            "HEARTH_LOG_LEVEL": "INFO",
        }
        env = measured(env)  # a clean environment, still counted by `make coverage`
        log = tmp_path / "hearth.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                env=env,
                cwd=tmp_path,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
            running = BotProcess(fake, model, proc, tmp_path / "hearth.db", env, log)
            try:
                fake.wait_for(lambda: bool(fake.sent("getUpdates")) or proc.poll() is not None, 30)
                assert proc.poll() is None, log.read_text()
                yield running
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=30)
        output = log.read_text()
        assert code == 0, output[-3000:]
        assert "Traceback" not in output, output[-3000:]
        assert TOKEN not in output


@pytest.fixture
def bot(shared: BotProcess) -> BotProcess:
    assert shared.proc.poll() is None, shared.log.read_text()[-3000:]
    shared.model.chunk_delay_s = 0.0
    return shared


def test_private_chat_asks_about_ca_kho(bot: BotProcess) -> None:
    bot.fake.push_message(701, "Làm cá kho thế nào?")
    greeting, answer = bot.texts(701, 2)
    assert "Hearth" in greeting
    assert "Fake answer about" in answer and "cá kho" in answer
    asked = [last_user_text(r.body["messages"]) for r in bot.model.requests()]
    assert any("Làm cá kho thế nào?" in q for q in asked)
    last = bot.fake.bot_messages(701)[-1]
    assert [b["callback_data"].split(":")[1] for b in last.reply_markup["inline_keyboard"][0]] == [
        "up",
        "down",
        "save",
    ]


def test_group_ignores_unmentioned_and_answers_a_mention(bot: BotProcess) -> None:
    bot.fake.push_message(GROUP, "Cả nhà ơi tối nay ăn gì?", user_id=MEMBER)
    bot.fake.push_message(GROUP, f"@{BOT_USERNAME} nấu canh chua sao?", user_id=MEMBER)
    texts = bot.texts(GROUP, 2)
    time.sleep(0.5)
    assert len(bot.fake.bot_messages(GROUP)) == 2
    assert "canh chua" in texts[1] and "tối nay" not in texts[1]
    asked = [last_user_text(r.body["messages"]) for r in bot.model.requests()]
    assert any("canh chua" in q for q in asked)
    assert not any("tối nay ăn gì" in q for q in asked)


def test_kb_add_refused_for_members_and_accepted_for_admins(bot: BotProcess) -> None:
    bot.fake.set_admins(KB_GROUP, [ADMIN])
    command = f"/kb@{BOT_USERNAME} add Cá kho bà nội | Kho cá với nước dừa, lửa nhỏ hai tiếng."
    bot.fake.push_message(KB_GROUP, command, user_id=MEMBER)
    refused = bot.texts(KB_GROUP, 2)[-1]
    assert "/suggest" in refused
    bot.fake.push_message(KB_GROUP, command, user_id=ADMIN)
    accepted = bot.texts(KB_GROUP, 3)[-1]
    assert "/suggest" not in accepted
    titles = bot.query("SELECT title FROM entries")
    assert ("Cá kho bà nội",) in titles


def test_button_press_and_reply_to_an_answer_are_returns(bot: BotProcess) -> None:
    bot.fake.push_message(702, "Kho cá bao lâu?")
    bot.texts(702, 2)
    answer = bot.fake.bot_messages(702)[-1]
    save = answer.reply_markup["inline_keyboard"][0][2]["callback_data"]
    query = bot.fake.push_callback(702, answer.message_id, save)
    bot.fake.wait_for(lambda: bot.fake.answered(query))
    assert bot.fake.sent("answerCallbackQuery")[-1].params.get("text")
    bot.fake.push_message(702, "Cảm ơn nhé, ngon lắm", reply_to=answer.message_id)
    bot.texts(702, 3)
    bot.fake.wait_for(lambda: len(bot.query("SELECT kind FROM returns")) >= 2)
    logs = bot.hearth("logs", "--json", "--family", "telegram:702")
    assert logs.returncode == 0, logs.stderr
    [logged] = [a for a in json.loads(logs.stdout) if a["question"] == "Kho cá bao lâu?"]
    assert logged["returns"]
    kinds = sorted(k for (k,) in bot.query("SELECT kind FROM returns"))
    assert kinds == ["reply", "save"]


def test_a_6000_character_answer_arrives_whole_in_two_messages(bot: BotProcess) -> None:
    bot.model.chunk_delay_s = 0.0
    sentence = "Kho cá với nước dừa tươi cho đến khi nước sánh lại và cá thấm màu. "
    long_text = ""
    while len(long_text) < 6000:
        long_text += sentence * 5 + "\n\n"
    long_text = long_text[:6000].rsplit(" ", 1)[0]
    bot.model.script(reply(long_text))
    bot.fake.push_message(703, "Kể thật chi tiết cách kho cá")
    texts = bot.texts(703, 3, seconds=30)
    answer = texts[1:]
    assert len(answer) == 2 and all(len(t) <= 4096 for t in answer)
    assert " ".join(answer).split()[: len(long_text.split())] == long_text.split()


def test_a_429_on_edit_message_text_is_waited_out(bot: BotProcess) -> None:
    long_text = " ".join(f"từ{i}" for i in range(250))
    bot.model.chunk_delay_s = 0.01
    bot.model.script(reply(long_text))
    bot.fake.fail_next("editMessageText", code=429, retry_after=2, times=1)
    bot.fake.push_message(704, "Trả lời dài giúp mình")
    bot.fake.wait_for(lambda: any("từ249" in m.text for m in bot.fake.bot_messages(704)), 30)
    edits = bot.fake.sent("editMessageText", 704)
    assert len(edits) >= 2, "the answer was streamed by editing a preview"
    typing = bot.fake.sent("sendChatAction", 704)  # a slow answer: typing… until the preview
    assert typing and typing[0].at < bot.fake.sent("sendMessage", 704)[-1].at
    # The first edit met flood control (retry_after=2); later edits waited it out.
    assert edits[1].at - edits[0].at >= 1.9
    final = bot.fake.bot_messages(704)[-1]
    assert final.reply_markup is not None and "từ0 " in final.text


def test_kb_import_document(bot: BotProcess) -> None:
    data = (
        "title,body,tags\nThịt kho trứng,Kho thịt ba chỉ với nước dừa và trứng vịt,tết\n"
        "Canh chua cá lóc,Nấu với me và bạc hà,canh\n"
    ).encode()
    bot.fake.push_message(705, "/kb import", document=("mon-an.csv", data, "text/csv"))
    texts = bot.texts(705, 2)
    assert "2" in texts[-1]
    assert bot.fake.sent("getFile")
    titles = {t for (t,) in bot.query("SELECT title FROM entries")}
    assert {"Thịt kho trứng", "Canh chua cá lóc"} <= titles


def test_voice_note_is_transcribed_and_answered(bot: BotProcess) -> None:
    bot.fake.push_message(706, "", voice=b"OggS\x00fake-opus-bytes")
    texts = bot.texts(706, 2)
    assert "xin chào cả nhà" in texts[-1]
    assert bot.model.requests("/v1/audio/transcriptions")
