"""Messenger faults on the Zalo adapter, and SIGKILL of `hearth run` while it answers.

The messenger side is the loopback Zalo Bot API (tests/servers/zalo_api.py); the model is
the loopback OpenAI server. Zalo's loopback API is the simplest adapter that resumes
pending messages on start (`pipeline.resume_pending`), so the restart proof runs on it.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import Hearth, build
from tests import faults
from tests.servers.openai_server import OpenAIServer, last_user_text, running_openai_server
from tests.servers.zalo_api import ZaloApiServer, running_zalo_api
from tests.support.zalo import serve_zalo, zalo_settings
from tests.test_hostile_cli import hearth_env

ANSWER = "Fake answer about:"


class FlakyTransport(httpx.AsyncBaseTransport):
    """The network between Hearth and Zalo drops the first `failures` sendMessage calls."""

    def __init__(self, failures: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.failures = failures

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/sendMessage") and self.failures > 0:
            self.failures -= 1
            raise httpx.ConnectError("network is unreachable", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _app(tmp_path: Path, api: ZaloApiServer, model: OpenAIServer) -> Hearth:
    return await build(zalo_settings(tmp_path, api, LLM_BASE_URL=model.base_url, LLM_MODEL="m"))


@pytest.fixture
async def app(
    tmp_path: Path, zalo_api: ZaloApiServer, openai_server: OpenAIServer
) -> AsyncIterator[Hearth]:
    hearth = await _app(tmp_path, zalo_api, openai_server)
    yield hearth
    await hearth.aclose()


async def test_zalo_429_retry_after_on_send(
    app: Hearth, zalo_api: ZaloApiServer, request: pytest.FixtureRequest
) -> None:
    zalo_api.fail_next("sendMessage", 429, times=1, retry_after=1)
    run = serve_zalo(app, zalo_api)
    try:
        zalo_api.push_text("Làm cá kho thế nào?", chat_id="z429")
        texts = await run.sent("z429", 2)
        await run.statuses_become("z429", ["answered"])
    finally:
        await run.close()
    assert sum(ANSWER in t for t in texts) == 1
    faults.record(
        request,
        "messenger 429 RetryAfter / flood wait (Zalo)",
        "the answer, after the wait Zalo asked for",
        "stored, answered",
        "nothing left to do",
    )


async def test_zalo_5xx_on_send_is_retried(
    app: Hearth, zalo_api: ZaloApiServer, request: pytest.FixtureRequest
) -> None:
    zalo_api.fail_next("sendMessage", 502, times=2, description="Bad Gateway")
    run = serve_zalo(app, zalo_api)
    try:
        zalo_api.push_text("How do I cook rice?", chat_id="z5xx")
        texts = await run.sent("z5xx", 2)
        await run.statuses_become("z5xx", ["answered"])
    finally:
        await run.close()
    assert sum(ANSWER in t for t in texts) == 1
    faults.record(
        request,
        "messenger 5xx on send (Zalo)",
        "the answer after a back-off retry",
        "stored, answered",
        "nothing left to do",
    )


async def test_network_error_on_send_then_restart_answers_once(
    app: Hearth, zalo_api: ZaloApiServer, request: pytest.FixtureRequest
) -> None:
    """The network is down for longer than the client's retries: the reply waits for a restart."""
    flaky = FlakyTransport(failures=1_000)
    run = serve_zalo(app, zalo_api, http=httpx.AsyncClient(transport=flaky, timeout=5))
    try:
        zalo_api.push_text("Làm canh chua thế nào?", chat_id="znet")
        deadline = time.monotonic() + 10
        while await run.statuses("znet") != ["pending"] or flaky.failures > 1_000 - 10:
            assert time.monotonic() < deadline, (await run.statuses("znet"), flaky.failures)
            await asyncio.sleep(0.05)
    finally:
        await run.close()
    assert zalo_api.sent_to("znet") == []
    # restart with a working network: resume_pending answers it, once
    run = serve_zalo(app, zalo_api)
    try:
        texts = await run.sent("znet", 2)
        await run.statuses_become("znet", ["answered"])
        await asyncio.sleep(0.5)
    finally:
        await run.close()
    answers = [t for t in zalo_api.sent_to("znet") if ANSWER in t["text"]]
    assert len(answers) == 1, texts
    faults.record(
        request,
        "messenger network error on send (Zalo)",
        "nothing while the network is down (the client retries 5 times)",
        "stored, stays pending",
        "answered exactly once when the adapter starts again",
    )


def _wait(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _status(db: Path, text: str) -> str | None:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT status FROM messages WHERE text = ?", (text,)).fetchone()
        return None if row is None else row[0]
    finally:
        conn.close()


def test_sigkill_while_answering_then_restart_answers_exactly_once(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    question = "Bà hỏi: làm bánh chưng thế nào?"
    follow_up = "Bà hỏi thêm: cần bao nhiêu lá dong?"
    release = threading.Event()

    def slow(messages: list[dict[str, Any]]) -> str:
        if "bánh chưng" in last_user_text(messages):
            release.wait(30)  # held until the first process is dead
        return f"{ANSWER} {last_user_text(messages)}"

    with running_zalo_api(long_poll_cap_s=0.2) as api, running_openai_server(reply_fn=slow) as llm:
        env = hearth_env(
            tmp_path,
            ZALO_BOT_TOKEN=api.token,
            ZALO_API_BASE_URL=api.base_url,
            LLM_BASE_URL=llm.base_url,
            LLM_MODEL="m",
            LLM_TIMEOUT_S="30",
        )
        db = tmp_path / "hearth.db"

        def start() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

        first = start()
        try:
            _wait(lambda: api.calls_of("getUpdates"), 20, "the first process to poll")
            api.push_text(question, chat_id="kill")
            _wait(
                lambda: any("bánh chưng" in json_text(r.body) for r in llm.requests()),
                20,
                "the question to reach the model",
            )
            # grandma adds a line while the first answer is still being written
            api.push_text(follow_up, chat_id="kill")
            _wait(lambda: not api.state.updates, 20, "the follow-up to be fetched")
            time.sleep(0.3)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        assert first.returncode == -signal.SIGKILL
        assert _status(db, question) == "pending"
        assert _status(db, follow_up) == "pending", "the follow-up was lost with the process"
        assert not any(ANSWER in m["text"] for m in api.sent_to("kill"))

        release.set()
        second = start()
        try:
            _wait(
                lambda: sum(ANSWER in m["text"] for m in api.sent_to("kill")) >= 2,
                30,
                "the restarted process to answer",
            )
            time.sleep(1.0)  # would a duplicate follow?
            second.send_signal(signal.SIGTERM)
            second.wait(15)
        finally:
            if second.poll() is None:
                second.kill()
        answers = [m["text"] for m in api.sent_to("kill") if ANSWER in m["text"]]
    assert len(answers) == 2, answers
    assert question in answers[0] and follow_up in answers[1]
    assert _status(db, question) == _status(db, follow_up) == "answered"
    assert second.returncode == 0
    faults.record(
        request,
        "bot killed (SIGKILL) while answering",
        "nothing from the dead process; the answer once the bot is back",
        "stored (pending) on arrival, also a second message queued behind the first",
        "answered exactly once by resume_pending on start (Zalo and Telegram adapters; "
        "the console has no restart: a killed `hearth chat` loses only its terminal)",
    )


def json_text(body: Any) -> str:
    """Request body as text, for substring checks."""
    return json.dumps(body, ensure_ascii=False)
