"""Faults below the model: a busy database, an undeliverable reply, a duplicate update."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.app import Hearth
from bot.core.types import Reply
from bot.store.families import Who
from bot.turns import ChatTurns, nothing
from tests import faults
from tests.support import DownOutbox, RecordingOutbox, msg


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


@dataclass
class GatedOutbox(RecordingOutbox):
    """A messenger whose sends wait until the test lets them through."""

    sending: asyncio.Event = field(default_factory=asyncio.Event)
    go: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, reply: Reply) -> list[str]:
        self.sending.set()
        await self.go.wait()
        return await super().send(reply)


def turn_asked_for(turns: ChatTurns, key: str, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Set when a task asks for chat `key`'s turn through `ChatTurns.lock`: in the pipeline
    only resume_pending does, once its scan found a pending row of that chat."""
    asked = asyncio.Event()
    real = turns.lock

    @asynccontextmanager
    async def lock(k: str) -> AsyncIterator[None]:
        if k == key:
            asked.set()
        async with real(k):
            yield

    monkeypatch.setattr(turns, "lock", lock)
    return asked


REMEMBERED = "Đã ghi nhớ: Bà thích chè đậu"


def remembered(out: RecordingOutbox) -> list[str]:
    return [t for t in out.texts if t == REMEMBERED]


async def test_resume_skips_a_message_a_live_turn_is_answering(
    hearth: Hearth, monkeypatch: pytest.MonkeyPatch
) -> None:
    """resume_pending at start scans while a live message is stored but not yet answered
    (its reply is on the way): the live turn answers it, resume_pending leaves it."""
    await hearth.pipeline.handle(msg("/start", chat="race"), RecordingOutbox())
    live = GatedOutbox()
    turn = asyncio.create_task(
        hearth.pipeline.handle(
            msg("/remember Bà thích chè đậu", chat="race", message_id="r1"), live
        )
    )
    await live.sending.wait()  # stored, its turn running, the reply not sent yet
    assert await status_of(hearth, "r1") == "pending"
    asked = turn_asked_for(hearth.pipeline.turns, "console:race", monkeypatch)
    resumed_out = RecordingOutbox()
    resume = asyncio.create_task(hearth.pipeline.resume_pending("console", lambda c: resumed_out))
    await asked.wait()  # the scan saw r1 pending and waits for the chat's turn
    live.go.set()
    await turn
    assert await resume == 0
    assert resumed_out.texts == []
    assert remembered(live) == [REMEMBERED]
    assert await status_of(hearth, "r1") == "answered"


async def test_a_live_turn_skips_a_message_resume_answered(
    hearth: Hearth, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live message is stored, then resume_pending scans and takes the chat's turn
    before the live turn does: resume_pending answers it, the live turn leaves it."""
    await hearth.pipeline.handle(msg("/start", chat="race"), RecordingOutbox())
    stored, go = asyncio.Event(), asyncio.Event()
    families = hearth.services.families
    real_arrive = families.arrive

    async def arrive(who: Who, then: Any) -> Any:
        arrival = await real_arrive(who, then)
        if then is not nothing:  # a live delivery's store, not resume_pending's look-up
            stored.set()
            await go.wait()
        return arrival

    monkeypatch.setattr(families, "arrive", arrive)
    live = RecordingOutbox()
    turn = asyncio.create_task(
        hearth.pipeline.handle(
            msg("/remember Bà thích chè đậu", chat="race", message_id="r2"), live
        )
    )
    await stored.wait()  # r2 is in the database; its turn has not been asked for yet
    assert await status_of(hearth, "r2") == "pending"
    resumed_out = RecordingOutbox()
    assert await hearth.pipeline.resume_pending("console", lambda c: resumed_out) == 1
    go.set()
    await turn
    assert remembered(resumed_out) == [REMEMBERED]
    assert live.texts == []
    assert await status_of(hearth, "r2") == "answered"


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
