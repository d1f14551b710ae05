"""Faults below the model: a busy database, an undeliverable reply, a duplicate update."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.app import Hearth
from bot.core.types import Reply
from tests import faults
from tests.support import RecordingOutbox, msg


@contextmanager
def write_lock(db_path: Path, seconds: float) -> Iterator[None]:
    """Another process-like connection holds the write lock for `seconds`, then commits."""
    conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO meta (key, value) VALUES ('lock-holder', 'x')")
    timer = threading.Timer(seconds, lambda: conn.execute("COMMIT"))
    timer.start()
    try:
        yield
    finally:
        timer.join()
        conn.close()


async def status_of(hearth: Hearth, message_id: str) -> str | None:
    return await hearth.services.db.scalar(
        "SELECT status FROM messages WHERE platform_message_id = ?", (message_id,)
    )


async def test_database_busy_for_a_moment_loses_nothing(
    hearth: Hearth, request: pytest.FixtureRequest
) -> None:
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg("/start", chat="busy"), out)
    started = time.monotonic()
    with write_lock(hearth.settings.db_path, 1.5):
        await hearth.pipeline.handle(
            msg("/remember Bà nội không ăn cay", chat="busy", message_id="b1"), out
        )
    waited = time.monotonic() - started
    assert waited >= 1.4, "the write did not wait for the lock"
    assert await status_of(hearth, "b1") == "answered"
    assert "Đã ghi nhớ" in out.last.text
    faults.record(
        request,
        "database busy (lock held 1.5 s)",
        f"the normal answer, {waited:.1f} s later (SQLite busy_timeout waits up to 10 s)",
        "stored, answered",
        "nothing left to do",
    )


async def test_database_busy_beyond_the_timeout_says_so_in_the_users_language(
    hearth: Hearth, request: pytest.FixtureRequest
) -> None:
    """The lock outlives busy_timeout (shortened here from 10 s to 0.2 s to keep CI fast)."""
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg("/start", chat="busy", user_name="Ann"), out)
    db = hearth.services.db
    for conn in db.connections:
        await conn.execute("PRAGMA busy_timeout=200")
    with write_lock(hearth.settings.db_path, 1.0):
        await hearth.pipeline.handle(
            msg("How do I cook fish in a clay pot?", chat="busy", message_id="b2"), out
        )
    assert "send it again" in out.last.text, out.last.text
    # once the lock is gone the same delivery (a messenger redelivers, or the user resends)
    # is stored and answered
    await asyncio.sleep(0)
    await hearth.pipeline.handle(
        msg("How do I cook fish in a clay pot?", chat="busy", message_id="b2"), out
    )
    assert await status_of(hearth, "b2") == "answered"
    faults.record(
        request,
        "database busy longer than busy_timeout",
        "“Sorry … I could not save your message. Please send it again.” (in their language)",
        "not stored (the database refused every write)",
        "the resent message is stored and answered once",
    )


class DownOutbox(RecordingOutbox):
    """A messenger whose every send fails with a network error."""

    async def send(self, reply: Reply) -> list[str]:
        raise ConnectionError("network is unreachable")


async def test_undeliverable_reply_is_answered_once_after_restart(
    hearth: Hearth, request: pytest.FixtureRequest
) -> None:
    await hearth.pipeline.handle(msg("/start", chat="down", platform="zalo"), RecordingOutbox())
    await hearth.pipeline.handle(
        msg("/remember Ông ngoại thích trà", chat="down", platform="zalo", message_id="d1"),
        DownOutbox(),
    )
    assert await status_of(hearth, "d1") == "pending"
    outs: dict[str, RecordingOutbox] = {}
    resumed = await hearth.pipeline.resume_pending(
        "zalo", lambda c: outs.setdefault(c, RecordingOutbox())
    )
    assert resumed == 1
    assert (
        await hearth.pipeline.resume_pending(
            "zalo", lambda c: outs.setdefault(c, RecordingOutbox())
        )
        == 0
    )
    assert [t for t in outs["down"].texts if "Đã ghi nhớ" in t] == [
        "Đã ghi nhớ: Ông ngoại thích trà"
    ]
    assert await status_of(hearth, "d1") == "answered"
    faults.record(
        request,
        "reply cannot be delivered (network error on send)",
        "nothing at first (even the apology cannot be sent)",
        "stored, stays pending",
        "answered exactly once by resume_pending",
    )


async def test_duplicate_update_is_answered_once(
    hearth: Hearth, request: pytest.FixtureRequest
) -> None:
    out = RecordingOutbox()
    first = msg("/remember Mẹ thích canh chua", chat="dup", message_id="u7")
    await asyncio.gather(hearth.pipeline.handle(first, out), hearth.pipeline.handle(first, out))
    assert len([t for t in out.texts if "Đã ghi nhớ" in t]) == 1
    assert (
        await hearth.services.db.scalar(
            "SELECT count(*) FROM messages WHERE platform_message_id = 'u7'"
        )
        == 1
    )
    faults.record(
        request,
        "same update delivered twice",
        "one answer",
        "stored once (unique per chat and message id)",
        "nothing left to do",
    )


async def test_a_message_waiting_for_its_turn_is_already_stored(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """While a chat's answer is being written, the next message is in the database already;
    if the process dies then, a restart answers both, each exactly once."""
    from bot.app import build
    from tests.conftest import make_settings
    from tests.servers.openai_server import last_user_text, running_openai_server

    release, asked = threading.Event(), threading.Event()

    def slow(messages: list[dict[str, object]]) -> str:
        text = last_user_text(messages)  # type: ignore[arg-type]
        if "bánh chưng" in text:
            asked.set()
            release.wait(20)
        return f"Fake answer about: {text}"

    with running_openai_server(reply_fn=slow) as model:
        settings = make_settings(tmp_path, LLM_BASE_URL=model.base_url, LLM_MODEL="m")
        first_app = await build(settings)
        out = RecordingOutbox()
        await first_app.pipeline.handle(msg("/start", chat="turn"), out)
        one = asyncio.create_task(
            first_app.pipeline.handle(msg("Làm bánh chưng thế nào?", chat="turn"), out)
        )
        assert await asyncio.to_thread(asked.wait, 10), "the question never reached the model"
        two = asyncio.create_task(
            first_app.pipeline.handle(msg("Cần bao nhiêu lá dong?", chat="turn"), out)
        )
        for _ in range(100):
            if await status_by_text(first_app, "Cần bao nhiêu lá dong?") == "pending":
                break
            await asyncio.sleep(0.02)
        assert await status_by_text(first_app, "Cần bao nhiêu lá dong?") == "pending"
        # the process "dies": its tasks stop where they are
        one.cancel()
        two.cancel()
        await asyncio.gather(one, two, return_exceptions=True)
        await first_app.aclose()
        release.set()

        second_app = await build(settings)
        try:
            outs: dict[str, RecordingOutbox] = {}

            def outbox_for(chat: str) -> RecordingOutbox:
                return outs.setdefault(chat, RecordingOutbox())

            assert await second_app.pipeline.resume_pending("console", outbox_for) == 2
            assert await second_app.pipeline.resume_pending("console", outbox_for) == 0
            answers = [t for t in outs["turn"].texts if "Fake answer about" in t]
            assert len(answers) == 2 and "bánh chưng" in answers[0] and "lá dong" in answers[1]
        finally:
            await second_app.aclose()
    faults.record(
        request,
        "crash while a second message waits for its chat's turn",
        "both answers once the bot is back, in order",
        "both stored (pending) on arrival",
        "each answered exactly once by resume_pending",
    )


async def test_resume_and_a_live_delivery_answer_once(hearth: Hearth) -> None:
    """resume_pending at start races the first live messages: still one answer each."""
    await hearth.pipeline.handle(msg("/start", chat="race"), RecordingOutbox())
    await hearth.pipeline.handle(msg("/memory", chat="race", message_id="r1"), DownOutbox())
    out = RecordingOutbox()
    live = [msg(f"/remember điều {i}", chat="race") for i in range(3)]
    resumed = asyncio.create_task(hearth.pipeline.resume_pending("console", lambda c: out))
    await asyncio.gather(*(hearth.pipeline.handle(m, out) for m in live))
    await resumed
    assert len([t for t in out.texts if "Đã ghi nhớ" in t]) == 3
    assert len([t for t in out.texts if "Những điều" in t or "Chưa có gì" in t]) == 1
    assert (
        await hearth.services.db.scalar("SELECT count(*) FROM messages WHERE status = 'pending'")
        == 0
    )


async def status_by_text(hearth: Hearth, text: str) -> str | None:
    return await hearth.services.db.scalar("SELECT status FROM messages WHERE text = ?", (text,))


async def test_database_locked_while_the_answer_is_written(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The message is stored, then the database stays locked while the answer is recorded."""
    from bot.app import build
    from tests.conftest import make_settings
    from tests.servers.openai_server import running_openai_server

    asked = threading.Event()
    locked = threading.Event()

    def slow(messages: list[dict[str, object]]) -> str:
        asked.set()
        locked.wait(10)  # answer only once someone else holds the write lock
        return "Fake answer about: cá kho"

    with running_openai_server(reply_fn=slow) as model:
        settings = make_settings(tmp_path, LLM_BASE_URL=model.base_url, LLM_MODEL="m")
        hearth = await build(settings)
        try:
            out = RecordingOutbox()
            await hearth.pipeline.handle(msg("/start", chat="lk"), out)
            db = hearth.services.db
            for conn in db.connections:
                await conn.execute("PRAGMA busy_timeout=200")
            task = asyncio.create_task(
                hearth.pipeline.handle(
                    msg("How do I cook fish in a clay pot?", chat="lk", message_id="lk1"), out
                )
            )
            assert await asyncio.to_thread(asked.wait, 10)
            with write_lock(settings.db_path, 1.5):
                locked.set()
                await asyncio.wait_for(task, 10)  # must not raise
            assert "answer it soon" in out.last.text, out.texts
            assert await status_of(hearth, "lk1") == "pending"
            outs: dict[str, RecordingOutbox] = {}
            resumed = await hearth.pipeline.resume_pending(
                "console", lambda c: outs.setdefault(c, RecordingOutbox())
            )
            assert resumed == 1
            assert sum("Fake answer about" in t for t in outs["lk"].texts) == 1
            assert await status_of(hearth, "lk1") == "answered"
        finally:
            await hearth.aclose()
    faults.record(
        request,
        "database locked while the answer is being recorded",
        "“Sorry, something went wrong. Your message is saved and I will answer it soon.” "
        "in their language",
        "stored, stays pending",
        "answered exactly once by resume_pending",
    )
