"""`hearth report` counts reminders sent, late and missed, and credits reactions to their
creator; `upcoming_events` gives the coming days' events as plain facts; the console chat
prints a reminder that falls due while it runs."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
from zoneinfo import ZoneInfo

import pytest

from bot import cli
from bot.app import Hearth, build
from bot.calendar.service import upcoming_events
from bot.core.config import Settings
from bot.platforms.console import run_console
from tests.support import RecordingOutbox, msg
from tests.support.clock import FakeClock

VN = ZoneInfo("Asia/Ho_Chi_Minh")


async def say(hearth: Hearth, text: str, **kw: object) -> None:
    await hearth.pipeline.handle(msg(text, **kw), RecordingOutbox())  # type: ignore[arg-type]


async def test_report_counts_reminders_and_credits_reactions(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hearth = await build(settings)
    try:
        clock = FakeClock(dt.datetime(2026, 5, 1, 7, 0, tzinfo=VN))
        hearth.services.calendar.set_clock(clock)
        await say(hearth, "/start", user="lan", user_name="Lan")
        await say(hearth, "/nhac 8:00 hằng ngày uống thuốc", user="lan", user_name="Lan")
        await say(hearth, "/nhac 9:00 hằng ngày tưới cây", user="lan", user_name="Lan")
        out = RecordingOutbox()
        reminders = hearth.services.calendar.reminders
        clock.set(dt.datetime(2026, 5, 1, 8, 0, tzinfo=VN))
        assert await reminders.tick("console", lambda chat_id: out) == 1  # on time
        clock.set(dt.datetime(2026, 5, 1, 10, 0, tzinfo=VN))
        assert await reminders.tick("console", lambda chat_id: out) == 1  # an hour late
        clock.set(dt.datetime(2026, 5, 3, 8, 0, tzinfo=VN))
        assert await reminders.tick("console", lambda chat_id: out) == 1  # 2 May's are missed
        # someone wrote an hour after the late one: the family reacted to both of 1 May
        await hearth.services.db.execute(
            "INSERT INTO messages (family_id, platform_message_id, text, created_at, status)"
            " VALUES (1, 'later', 'đã uống rồi', '2026-05-01T04:00:00.000Z', 'answered')"
        )
    finally:
        await hearth.aclose()
    monkeypatch.setenv("HEARTH_DB", str(settings.db_path))
    assert await asyncio.to_thread(cli.main, ["report", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)["reminders"]
    assert figures == {
        "sent": 3,
        "late": 1,
        "missed": 2,
        "failed": 0,
        "waiting": 2,
        "reacted": 2,  # the message came within a day of both reminders of 1 May
        "by_creator": [{"creator": "Lan", "sent": 3, "reacted": 2}],
    }
    assert await asyncio.to_thread(cli.main, ["report"]) == 0
    assert "reminders sent 3 (late 1) · missed 2 · failed 0" in capsys.readouterr().out


async def test_upcoming_events_as_plain_facts(hearth: Hearth) -> None:
    calendar = hearth.services.calendar
    calendar.set_clock(FakeClock(dt.datetime(2026, 9, 20, 9, 0, tzinfo=VN)))
    await say(hearth, "/start")
    await say(hearth, "/gio Bà nội 20/8 âm")
    await say(hearth, "/nhac cả nhà 15/8 âm hằng năm Trung thu")
    family = await hearth.services.families.ensure("console", "fam1", "private")
    assert await upcoming_events(calendar, family.id, dt.date(2026, 9, 20), 7) == [
        {"date": "2026-09-25", "lunar": "15/8", "kind": "event", "title": "Trung thu",
         "days_away": 5},
    ]  # fmt: skip
    got = await upcoming_events(calendar, family.id, dt.date(2026, 9, 20), 14)
    assert [(e["title"], e["days_away"]) for e in got] == [("Trung thu", 5), ("Bà nội", 10)]


async def test_the_console_prints_a_reminder_that_falls_due(settings: Settings) -> None:
    hearth = await build(settings)
    clock = FakeClock(dt.datetime(2026, 5, 1, 7, 59, 58, tzinfo=VN))
    hearth.services.calendar.set_clock(clock)
    hearth.services.calendar.reminders.tick_s = 0.02
    read_fd, write_fd = os.pipe()
    stdin = io.TextIOWrapper(io.FileIO(read_fd, "r"), encoding="utf-8")
    stdout = io.StringIO()
    try:
        chat = asyncio.create_task(run_console(hearth.pipeline, "home", "me", stdin, stdout))
        os.write(write_fd, "/nhac 8:00 hằng ngày uống thuốc\n".encode())
        for _ in range(200):
            if "Đã lưu" in stdout.getvalue():
                break
            await asyncio.sleep(0.02)
        clock.set(dt.datetime(2026, 5, 1, 8, 0, 1, tzinfo=VN))
        for _ in range(200):
            if "⏰ Nhắc" in stdout.getvalue():
                break
            await asyncio.sleep(0.02)
        os.close(write_fd)
        await asyncio.wait_for(chat, 10)
        assert stdout.getvalue().count("⏰ Nhắc: uống thuốc") == 1
    finally:
        stdin.close()
        await hearth.aclose()
