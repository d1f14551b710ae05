"""`hearth bench`: its parts (Telegram's limits, latency attribution, the loopback model, the
child environment, the table) and one `--quick --json` run at a tiny scale (no timing is
asserted: speed is what the bench reports, not what its tests check)."""

from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest
from telegram import Bot
from telegram.error import RetryAfter

from bot.bench import procs
from bot.bench.model import BenchModel, ModelTimes, new_tag, tagged, tags_in
from bot.bench.report import TARGETS, judge, table
from bot.bench.stats import percentile, summarize
from bot.bench.sustained import Push, added_latencies
from bot.bench.synthetic import Scale, build_core
from bot.bench.telegram_limits import TelegramLimits
from tests.servers import openai_server
from tests.servers.telegram_api import TOKEN, ApiError


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == 99.0
    assert percentile(values, 50) == 50.0
    assert percentile([3.0], 99) == 3.0
    stats = summarize([1.0, 2.0, 3.0, 100.0])
    assert stats["p50"] == 2.5 and stats["max"] == 100.0 and stats["n"] == 4


def test_synthetic_world_is_consistent(tmp_path: Path) -> None:
    db_path = tmp_path / "w.db"
    stats = build_core(db_path, Scale(families=12, messages=3_000, entries=0))
    conn = sqlite3.connect(db_path)
    try:

        def one(sql: str) -> int:
            return int(conn.execute(sql).fetchone()[0])

        assert one("SELECT count(*) FROM messages") == stats.messages == 3_000
        assert one("SELECT count(*) FROM answers") == stats.answers > 0
        # every answer belongs to a user message of its own family, by a member of it
        assert (
            one(
                "SELECT count(*) FROM answers a JOIN messages m ON m.id = a.message_id"
                " AND m.family_id = a.family_id AND m.role = 'user'"
                " JOIN members mem ON mem.id = a.member_id AND mem.family_id = a.family_id"
            )
            == stats.answers
        )
        assert one("SELECT count(*) FROM messages WHERE role = 'assistant'") == stats.answers
        assert (
            one(
                "SELECT count(*) FROM messages m JOIN members mem ON mem.id = m.member_id"
                " WHERE mem.family_id != m.family_id"
            )
            == 0
        )
        assert one("SELECT count(*) FROM families WHERE greeted = 1") == 12
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def test_telegram_limits_are_buckets_per_bot_chat_and_group() -> None:
    clock = Clock()
    limits = TelegramLimits(clock)
    # about 30 requests a second for the whole bot, typing indicators included
    for chat in range(30):
        assert limits.admit("sendChatAction", {"chat_id": 1000 + chat}) == 0
    assert limits.admit("sendMessage", {"chat_id": 5}) > 0
    assert limits.admit("getUpdates", {}) == 0  # no chat: never limited
    clock.now += 1.0
    # one chat: a short burst, then about one message a second; its typing is not a message
    assert [limits.admit("sendMessage", {"chat_id": 7}) for _ in range(4)][-1] > 0
    assert limits.admit("sendChatAction", {"chat_id": 7}) == 0
    clock.now += 1.0
    assert limits.admit("editMessageText", {"chat_id": 7}) == 0
    clock.now += 1.0
    # a group: 20 messages a minute, in a burst if need be
    for _ in range(20):
        assert limits.admit("sendMessage", {"chat_id": -100}) == 0
        clock.now += 0.05
    assert limits.admit("sendMessage", {"chat_id": -100}) > 0
    assert limits.status_429 == {"sendMessage": 3}
    assert limits.total_429 == 3


async def test_a_bot_over_a_limit_gets_telegrams_429(
    telegram_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as Hearth's Application sets it
    fake, base, _ = telegram_api
    limits = TelegramLimits()
    limits.install(fake, ApiError)
    async with Bot(TOKEN, base_url=base) as bot:
        for n in range(3):
            await bot.send_message(42, f"tin {n}")
        with pytest.raises(RetryAfter):
            await bot.send_message(42, "một tin quá nhiều")
    assert limits.status_429 == {"sendMessage": 1}
    assert len(fake.sent("sendMessage")) == 3  # the refused one never reached the chat


def test_added_latency_is_reply_time_minus_the_models_time() -> None:
    pushes = [Push(1, 10.0, False), Push(2, 20.0, True), Push(3, 30.0, True), Push(4, 40.0, True)]
    answered_at = {1: 10.5, 2: 20.45, 3: 30.2}  # 4 is lost
    replies, added = added_latencies(pushes, answered_at, {2: 0.3, 3: 0.1})
    assert [round(r) for r in replies] == [450, 200]
    assert [round(a) for a in added] == [150, 100]


def test_the_loopback_model_repeats_the_tag_and_times_only_answer_requests() -> None:
    model = BenchModel(openai_server)
    try:
        model.times = ModelTimes(stream_s=0.3, plain_s=0.1)
        since = model.mark()
        n = new_tag()
        client = openai.OpenAI(base_url=model.base_url, api_key="k", max_retries=0)
        question: Any = [{"role": "user", "content": tagged("Nấu phở thế nào?", n)}]
        text = "".join(
            chunk.choices[0].delta.content or ""
            for chunk in client.chat.completions.create(model="m", messages=question, stream=True)
            if chunk.choices
        )
        assert tags_in(text) == [n]
        summary: Any = [{"role": "user", "content": "Bench: " + tagged("hỏi", n) + "\nHearth: đáp"}]
        client.chat.completions.create(model="m", messages=summary)
        client.close()
        assert model.seconds_by_tag(since) == {n: 0.3}
        assert model.chat_requests(since) == {
            "answers_streamed": 1,
            "answers_plain": 0,
            "other": 1,
        }
    finally:
        model.stop()


def test_children_keep_the_transport_choice_but_no_real_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HEARTH_HTTP_TRANSPORT", "httpx")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "999:real-token")
    monkeypatch.setenv("LLM_API_KEY", "sk-real")
    monkeypatch.setenv("HEARTH_DB", "/home/family/hearth.db")
    env = procs.clean_env(HEARTH_DB="bench.db")
    assert env["HEARTH_HTTP_TRANSPORT"] == "httpx"
    assert env["HEARTH_DB"] == "bench.db"
    assert "TELEGRAM_BOT_TOKEN" not in env and "LLM_API_KEY" not in env


def _result(quick: bool, added_p99: float) -> dict[str, Any]:
    result: dict[str, Any] = {
        "quick": quick,
        "machine": {"cores": 2, "cpu_model": "CPU", "python": "3.11", "load_average_before": []},
        "model_ms": {"stream": 300.0},
        "sustained": {
            "rate_msg_s": 30.0,
            "chats": 200,
            "seconds": 60.0,
            "messages": 1800,
            "warmup_messages": 200,
            "lost": 0,
            "status_429": 0,
            "bot_api_requests": 2100,
            "added_p50_ms": 40.0,
            "added_p99_ms": added_p99,
            "cpu_pct": 35.0,
        },
        "rss_mb": 120.0,
        "startup_s": 1.1,
        "kb_search_ms_p99": 2.5,
        "kb_entries": 100_000,
        "ratio_to_echo": 0.5,
        "null_reasons": {},
        "details": {},
    }
    result["targets"] = judge(result)
    return result


def test_a_full_run_is_judged_and_a_quick_one_is_not() -> None:
    full = _result(quick=False, added_p99=250.0)
    assert full["targets"]["sustained.added_p99_ms"]["met"] is False
    assert full["targets"]["sustained.cpu_pct"]["met"] is True
    assert full["targets"]["ratio_to_echo"]["met"] is None  # information only
    assert "| `sustained.added_p99_ms` | 250 ms (p50 40 ms) | ≤ 200 ms | no |" in table(full)
    quick = _result(quick=True, added_p99=250.0)
    text = table(quick)
    assert all(v["met"] is None for v in quick["targets"].values())
    assert "quick: not judged" in text and "MISSED" not in text
    assert len(text.splitlines()) < 25


def test_quick_bench_prints_one_json_document_with_the_contract_fields(tmp_path: Path) -> None:
    tiny = ["--families", "10", "--messages", "2000", "--entries", "200", "--chats", "10"]
    tiny += ["--seconds", "2", "--load-messages", "30"]
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "--quick", "--json", *tiny],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env=procs.clean_env(),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)  # the whole of stdout is one document
    assert result["failed_phases"] == [] and result["null_reasons"] == {}, result["null_reasons"]
    sustained = result["sustained"]
    for key in ("rate_msg_s", "chats", "seconds", "added_p99_ms", "cpu_pct", "lost"):
        assert isinstance(sustained[key], int | float) and math.isfinite(sustained[key]), key
    assert (sustained["rate_msg_s"], sustained["chats"], sustained["seconds"]) == (30.0, 10, 2.0)
    assert sustained["lost"] == 0, sustained
    assert sustained["status_429"] >= 0
    for key in ("kb_search_ms_p99", "rss_mb", "startup_s", "ratio_to_echo"):
        assert result[key] > 0, key
    assert result["kb_entries"] == 200
    machine = result["machine"]
    assert machine["cores"] >= 1 and machine["cpu_model"] and machine["python"]
    assert "load_average_before" in machine and "load_average_after" in machine
    assert all(v["met"] is None for v in result["targets"].values())
    assert {t.field for t in TARGETS} == set(result["targets"])
    assert "Plan(" not in proc.stderr and "MISSED" not in table(result)
