"""End to end: the real `hearth run` process against the loopback Zalo Bot API.

One process per module (a chat per test keeps them apart): ZALO_BOT_TOKEN and
ZALO_API_BASE_URL point at tests/servers/zalo_api.py, HEARTH_DB lives in a temporary
directory, and LLM_BASE_URL at the loopback OpenAI-compatible server.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers.openai_server import OpenAIServer, running_openai_server
from tests.servers.telegram_api import TOKEN, running_telegram
from tests.servers.zalo_api import ZaloApiServer, running_zalo_api

ROOT = Path(__file__).resolve().parents[1]

FOOTER = re.compile(r"👍 /hay_(\d+) · 👎 /chuahay_\1 · 📌 /luu_\1$")
LONG_MARK = "DÀI_4500"
PARAGRAPH = (
    "Rửa sạch cá lóc, cắt khúc vừa ăn rồi ướp với nước mắm, tiêu, hành tím băm trong hai mươi "
    "phút. Phi thơm tỏi, cho cá vào kho lửa nhỏ, thêm nước dừa tươi cho ngọt nước."
)


def long_answer() -> str:
    """About 4500 characters in paragraphs, as a chatty model would write."""
    parts: list[str] = []
    n = 1
    while sum(len(p) + 2 for p in parts) < 4500:
        parts.append(f"Bước {n}. {PARAGRAPH}")
        n += 1
    return "\n\n".join(parts)[:4500].rstrip(" ,.") + "."


def model_reply(messages: list[dict[str, Any]]) -> str:
    """The loopback model: a long answer on request, else one that shows what it was told."""
    last = str(messages[-1].get("content", "")) if messages else ""
    if LONG_MARK in last:
        return long_answer()
    return f"Gợi ý cho cả nhà: {last[:80]}"


def clean_env(**extra: str) -> dict[str, str]:
    """This machine's environment without any Hearth, messenger or model settings."""
    prefixes = ("HEARTH_", "TELEGRAM_", "ZALO_", "LLM_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@dataclass
class Bot:
    api: ZaloApiServer
    proc: subprocess.Popen[bytes]
    db: Path
    workdir: Path
    model: OpenAIServer

    def ask(self, chat_id: str, text: str, count: int, timeout_s: float = 20) -> list[str]:
        """Push a message and wait until the chat holds `count` messages in all."""
        self.api.push_text(text, chat_id=chat_id)
        return [m["text"] for m in self.api.wait_for_sent(chat_id, count, timeout_s)]

    def hearth(self, *args: str) -> Any:
        """Run another `hearth` command on the same database and parse its JSON."""
        out = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=self.workdir,
            env=clean_env(HEARTH_DB=str(self.db)),
            capture_output=True,
            timeout=60,
            check=True,
        )
        return json.loads(out.stdout)


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    workdir = tmp_path_factory.mktemp("zalo-e2e")
    db = workdir / "hearth.db"
    stderr_path = workdir / "stderr.log"
    with (
        running_zalo_api(long_poll_cap_s=0.5) as api,
        running_openai_server(reply_fn=model_reply) as model,
    ):
        env = clean_env(
            HEARTH_DB=str(db),
            ZALO_BOT_TOKEN=api.token,
            ZALO_API_BASE_URL=api.base_url,
            LLM_BASE_URL=model.base_url,
            LLM_MODEL="loopback",
            HEARTH_LOG_LEVEL="INFO",
        )
        with stderr_path.open("wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=workdir,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        try:
            try:
                api.wait_for_call("getUpdates", 1, timeout_s=30)
            except TimeoutError:
                proc.kill()
                pytest.fail("hearth run never polled Zalo:\n" + stderr_path.read_text())
            yield Bot(api, proc, db, workdir, model)
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=15)
            log = stderr_path.read_text()
            assert code == 0, log
            assert api.token.split(":", 1)[1] not in log  # the token never reaches the logs
            assert "Traceback" not in log, log
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_question_is_answered_with_feedback_commands(bot: Bot) -> None:
    greeting, answer = bot.ask("e1", "Tối nay nấu gì cho cả nhà?", 2)
    assert "Hearth" in greeting
    assert FOOTER.search(answer), answer
    assert all(len(t) <= 2000 for t in (greeting, answer))


def test_feedback_command_is_logged_as_a_return(bot: Bot) -> None:
    texts = bot.ask("e2", "Cuối tuần làm bánh gì?", 2)
    match = FOOTER.search(texts[-1])
    assert match, texts
    answer_id = match.group(1)
    thanks = bot.ask("e2", f"/hay_{answer_id}", 3)[-1]
    assert "👍" in thanks
    (entry,) = bot.hearth("logs", "--family", "zalo:e2", "--json")
    assert entry["answer_id"] == int(answer_id)
    assert entry["returns"] == 1


def test_duplicate_update_is_answered_once(bot: Bot) -> None:
    update = bot.api.make_update("Hỏi đúng một lần", chat_id="e3")
    bot.api.push(update)
    bot.api.push(json.loads(json.dumps(update)))
    bot.api.wait_for_sent("e3", 2, 20)
    bot.ask("e3", "Câu thứ hai", 3)
    time.sleep(0.5)
    assert len(bot.api.sent_to("e3")) == 3
    assert len(bot.hearth("logs", "--family", "zalo:e3", "--json")) == 2


def test_429_is_waited_out(bot: Bot) -> None:
    bot.api.fail_next("getUpdates", 429, retry_after=1)
    bot.api.fail_next("sendMessage", 429, times=2, retry_after=1)
    started = time.monotonic()
    texts = bot.ask("e4", "Có ai không?", 2, timeout_s=30)
    assert time.monotonic() - started >= 1.0
    assert FOOTER.search(texts[-1])
    assert len(bot.api.sent_to("e4")) == 2


def test_question_is_answered_with_the_familys_context(bot: Bot) -> None:
    bot.ask("e5", "/remember Bà nội không ăn được cay", 2)
    texts = bot.ask("e5", "Tối nay nấu món gì?", 3)
    assert texts[-1].startswith("Gợi ý cho cả nhà")
    assert FOOTER.search(texts[-1])
    prompts = [json.dumps(r.body, ensure_ascii=False) for r in bot.model.requests()]
    asked = [p for p in prompts if "Tối nay nấu món gì?" in p]
    assert asked and "Bà nội không ăn được cay" in asked[-1]


def test_4500_character_answer_arrives_whole_in_three_messages(bot: Bot) -> None:
    bot.ask("e6", "Cá kho cần những gì?", 2)  # first contact: greeting + answer
    texts = bot.ask("e6", f"Kể chi tiết cách kho cá {LONG_MARK}", 5, timeout_s=30)
    time.sleep(0.5)
    parts = [m["text"] for m in bot.api.sent_to("e6")][2:]
    assert len(parts) == 3, texts
    assert all(len(p) <= 2000 for p in parts)
    assert FOOTER.search(parts[-1])
    words = FOOTER.sub("", "\n\n".join(parts)).split()
    expected = long_answer().split()
    assert words[: len(expected)] == expected  # whole and in order (sources may follow)


def test_kb_add_is_searchable_and_used_in_answers(bot: Bot) -> None:
    texts = bot.ask(
        "e7", "/kb add Canh chua cá lóc | Me chua, cà chua, thơm, giá, rau om. #canh", 2
    )
    assert "Canh chua cá lóc" in texts[-1]
    found = bot.hearth("kb", "search", "canh chua", "--family", "zalo:e7", "--json")
    assert any(hit["title"] == "Canh chua cá lóc" for hit in found)
    answer = bot.ask("e7", "Nấu canh chua cá lóc thế nào?", 3)[-1]
    assert FOOTER.search(answer)
    prompts = [json.dumps(r.body, ensure_ascii=False) for r in bot.model.requests()]
    asked = [p for p in prompts if "Nấu canh chua cá lóc thế nào?" in p]
    assert asked and "Me chua, cà chua, thơm, giá, rau om" in asked[-1]


def test_telegram_and_zalo_in_one_process_with_one_database(tmp_path: Path) -> None:
    db = tmp_path / "hearth.db"
    with (
        running_zalo_api(long_poll_cap_s=0.5) as api,
        running_telegram() as (telegram, tg_base, tg_file),
    ):
        env = clean_env(
            HEARTH_DB=str(db),
            ZALO_BOT_TOKEN=api.token,
            ZALO_API_BASE_URL=api.base_url,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=tg_base,
            TELEGRAM_API_BASE_FILE_URL=tg_file,
            TELEGRAM_RATE_LIMIT="off",
        )
        with (tmp_path / "stderr.log").open("wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        try:
            api.push_text("Zalo hỏi: nấu gì?", chat_id="z1")
            telegram.push_message(777, "Telegram hỏi: nấu gì?", user_id=777)
            assert FOOTER.search(api.wait_for_sent("z1", 2, 30)[-1]["text"])
            telegram.wait_for(lambda: len(telegram.bot_messages(777)) >= 2, timeout=30)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=15) == 0, (tmp_path / "stderr.log").read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    out = subprocess.run(
        [sys.executable, "-m", "bot", "logs", "--json"],
        cwd=tmp_path,
        env=clean_env(HEARTH_DB=str(db)),
        capture_output=True,
        timeout=60,
        check=True,
    )
    families = {entry["family"] for entry in json.loads(out.stdout)}
    assert families == {"zalo:z1", "telegram:777"}
