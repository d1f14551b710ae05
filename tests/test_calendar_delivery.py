"""Reminders go out once each, on a fake clock: due-check, restarts, crashes, catch-up."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import Hearth, build
from bot.calendar.delivery import Reminders, claim_in
from bot.core.config import Settings
from tests.support import DownOutbox, RecordingOutbox, msg
from tests.support.clock import FakeClock

VN = ZoneInfo("Asia/Ho_Chi_Minh")
REPO = str(Path(__file__).resolve().parents[1])
LA = ZoneInfo("America/Los_Angeles")


async def say(hearth: Hearth, text: str, **kw: object) -> str:
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg(text, **kw), out)  # type: ignore[arg-type]
    return out.last.text


def clock_at(hearth: Hearth, moment: dt.datetime) -> FakeClock:
    clock = FakeClock(moment)
    hearth.services.calendar.set_clock(clock)
    return clock


async def statuses(hearth: Hearth) -> list[tuple[str, int, str, int]]:
    rows = await hearth.services.db.fetchall(
        "SELECT occurs_on, lead_days, status, late FROM calendar_deliveries ORDER BY id"
    )
    return [(r["occurs_on"], r["lead_days"], r["status"], r["late"]) for r in rows]


async def tick(hearth: Hearth, out: RecordingOutbox, reminders: Reminders | None = None) -> int:
    loop = reminders or hearth.services.calendar.reminders
    return await loop.tick("console", lambda chat_id: out)


async def test_due_check_sends_at_the_time_once_and_schedules_the_next(hearth: Hearth) -> None:
    clock = clock_at(hearth, dt.datetime(2026, 12, 30, 7, 0, tzinfo=VN))
    await say(hearth, "/start")
    await say(hearth, "/nhac 8:00 hằng ngày uống thuốc")
    out = RecordingOutbox()
    assert await tick(hearth, out) == 0
    clock.set(dt.datetime(2026, 12, 30, 7, 59, 59, tzinfo=VN))
    assert await tick(hearth, out) == 0
    clock.set(dt.datetime(2026, 12, 30, 8, 0, tzinfo=VN))
    assert await tick(hearth, out) == 1
    assert await tick(hearth, out) == 0
    assert out.texts == ["⏰ Nhắc u1: uống thuốc"]
    for _ in (31, 1):  # across the year end
        clock.advance(days=1)
        assert await tick(hearth, out) == 1
    assert await statuses(hearth) == [
        ("2026-12-30", 0, "sent", 0),
        ("2026-12-31", 0, "sent", 0),
        ("2027-01-01", 0, "sent", 0),
        ("2027-01-02", 0, "pending", 0),
    ]


async def test_a_family_in_los_angeles_gets_it_at_its_own_hour(hearth: Hearth) -> None:
    clock = clock_at(hearth, dt.datetime(2026, 9, 20, 12, 0, tzinfo=LA))
    await say(hearth, "/start")
    await say(hearth, "/family set timezone America/Los_Angeles")
    saved = await say(hearth, "/nhac 7:30 rằm hằng tháng cúng rằm")
    assert "thứ Sáu 25/09/2026 (15/8 âm)" in saved  # Vietnam's Trung thu, the family's day
    out = RecordingOutbox()
    clock.set(dt.datetime(2026, 9, 25, 7, 29, tzinfo=LA))  # already 21:29 in Vietnam
    assert await tick(hearth, out) == 0
    clock.set(dt.datetime(2026, 9, 25, 7, 30, tzinfo=LA))
    assert await tick(hearth, out) == 1
    assert out.texts == ["⏰ Nhắc u1: cúng rằm"]


async def test_restart_after_a_crash_between_claim_and_send(hearth: Hearth) -> None:
    clock = clock_at(hearth, dt.datetime(2026, 5, 1, 7, 0, tzinfo=VN))
    await say(hearth, "/start")
    await say(hearth, "/nhac 8:00 hằng ngày uống thuốc")
    await say(hearth, "/nhac 8:00 hằng ngày tưới cây")
    clock.set(dt.datetime(2026, 5, 1, 8, 0, 30, tzinfo=VN))
    crashed = Reminders(hearth.services.db, clock)
    now = clock.now()
    claimed = await hearth.services.db.write(lambda c: claim_in(c, "console", now, crashed.run))
    assert len(claimed) == 2  # ... and the process dies before sending
    restarted = Reminders(hearth.services.db, clock)
    out = RecordingOutbox()
    assert await tick(hearth, out, restarted) == 0  # still claimed by the dead process
    stop = asyncio.Event()
    stop.set()
    await restarted.serve("console", lambda chat_id: out, stop)  # start-up recovery only
    assert await tick(hearth, out, restarted) == 2
    assert await tick(hearth, out, restarted) == 0
    assert sorted(out.texts) == ["⏰ Nhắc u1: tưới cây", "⏰ Nhắc u1: uống thuốc"]


async def test_a_row_left_sending_is_sent_again_once(hearth: Hearth) -> None:
    clock = clock_at(hearth, dt.datetime(2026, 5, 1, 7, 0, tzinfo=VN))
    await say(hearth, "/start")
    await say(hearth, "/nhac 8:00 hằng ngày uống thuốc")
    clock.set(dt.datetime(2026, 5, 1, 8, 0, tzinfo=VN))
    await hearth.services.db.execute(
        "UPDATE calendar_deliveries SET status = 'sending', claimed_by = 'dead', attempts = 1"
    )
    restarted = Reminders(hearth.services.db, clock)
    stop = asyncio.Event()
    stop.set()
    out = RecordingOutbox()
    await restarted.serve("console", lambda chat_id: out, stop)
    assert await tick(hearth, out, restarted) == 1
    assert await tick(hearth, out, restarted) == 0
    assert await statuses(hearth) == [
        ("2026-05-01", 0, "sent", 0),
        ("2026-05-02", 0, "pending", 0),
    ]


KILLED_AFTER_CLAIM = """
import asyncio, datetime as dt, os, signal, sys
from pathlib import Path
from bot.calendar.delivery import claim_in
from bot.store.db import Database

async def main() -> None:
    db = await Database.open(Path(sys.argv[1]))
    now = dt.datetime.fromisoformat(sys.argv[2])
    claimed = await db.write(lambda c: claim_in(c, "console", now, "killed-run"))
    print(len(claimed), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # between claim and send

asyncio.run(main())
"""


async def test_sigkill_between_claim_and_send_neither_loses_nor_doubles(
    settings: Settings, tmp_path: Path
) -> None:
    hearth = await build(settings)
    try:
        clock = clock_at(hearth, dt.datetime(2026, 5, 1, 7, 0, tzinfo=VN))
        await say(hearth, "/start")
        await say(hearth, "/gio Ông nội 10/3 âm")  # 10/3 âm 2026 is 26 April: next year's
        await say(hearth, "/nhac 8:00 hằng ngày uống thuốc")
    finally:
        await hearth.aclose()
    due = dt.datetime(2026, 5, 1, 8, 0, 10, tzinfo=VN)
    child = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", KILLED_AFTER_CLAIM, str(settings.db_path), due.isoformat()],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": REPO},
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert child.stdout.strip() == "1"
    hearth = await build(settings)
    try:
        clock = clock_at(hearth, due)
        out = RecordingOutbox()
        stop = asyncio.Event()
        serving = asyncio.create_task(
            hearth.services.calendar.reminders.serve("console", lambda chat_id: out, stop)
        )
        for _ in range(100):
            if out.sent:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
        stop.set()
        await serving
        assert out.texts == ["⏰ Nhắc u1: uống thuốc"]
        clock.advance(days=1)
        assert await tick(hearth, out) == 1
        assert len(out.texts) == 2
    finally:
        await hearth.aclose()


async def test_catch_up_after_downtime_late_then_missed(hearth: Hearth) -> None:
    clock = clock_at(hearth, dt.datetime(2026, 5, 1, 7, 0, tzinfo=VN))
    await say(hearth, "/start")
    await say(hearth, "/nhac 8:00 hằng ngày uống thuốc")
    await say(hearth, "/nhac 6:00 thứ hai hằng tuần họp")
    out = RecordingOutbox()
    # down from before 08:00 until 10:30: the 08:00 one is sent, marked late
    clock.set(dt.datetime(2026, 5, 1, 10, 30, tzinfo=VN))
    assert await tick(hearth, out) == 1
    assert out.texts == ["⏰ Nhắc u1: uống thuốc\n(Nhắc trễ: lúc đó mình không gửi được.)"]
    # down again from Saturday 2 May to Monday 4 May 13:00: the daily of Saturday and Sunday
    # are missed, Monday's (5 h old) goes late; Monday's 06:00 meeting is 7 h old: missed
    clock.set(dt.datetime(2026, 5, 4, 13, 0, tzinfo=VN))
    assert await tick(hearth, out) == 1
    assert out.texts[-1].startswith("⏰ Nhắc u1: uống thuốc\n(Nhắc trễ")
    assert await tick(hearth, out) == 0
    assert sorted(await statuses(hearth)) == [
        ("2026-05-01", 0, "sent", 1),
        ("2026-05-02", 0, "missed", 0),
        ("2026-05-03", 0, "missed", 0),
        ("2026-05-04", 0, "missed", 0),  # the meeting
        ("2026-05-04", 0, "sent", 1),
        ("2026-05-05", 0, "pending", 0),
        ("2026-05-11", 0, "pending", 0),
    ]
    shown = await say(hearth, "/lich")
    assert "⚠️ Nhắc bị lỡ (lúc đó mình không gửi được):" in shown
    assert "• thứ Hai 04/05/2026 họp" in shown and "• thứ Bảy 02/05/2026 uống thuốc" in shown


async def test_a_giỗ_reminder_ahead_is_still_sent_late_before_the_day(hearth: Hearth) -> None:
    clock = clock_at(hearth, dt.datetime(2026, 4, 1, 9, 0, tzinfo=VN))
    await say(hearth, "/start")
    await say(hearth, "/gio Ông nội 10/3 âm")  # 26 April: reminders 19 and 25 April, 08:00
    out = RecordingOutbox()
    clock.set(dt.datetime(2026, 4, 21, 12, 0, tzinfo=VN))  # two days late, still useful
    assert await tick(hearth, out) == 1
    assert out.texts == [
        "🕯️ Còn 7 ngày nữa là giỗ Ông nội: Chủ nhật 26/04/2026 (10/3 âm)."
        "\n(Nhắc trễ: lúc đó mình không gửi được.)"
    ]
    clock.set(dt.datetime(2026, 4, 27, 9, 0, tzinfo=VN))  # down past the 1-day one and the day
    assert await tick(hearth, out) == 0
    assert [s[2] for s in await statuses(hearth)] == ["sent", "missed", "pending"]


async def test_a_refused_send_is_tried_again_then_kept_as_failed(hearth: Hearth) -> None:
    clock = clock_at(hearth, dt.datetime(2026, 5, 1, 7, 59, tzinfo=VN))
    await say(hearth, "/start")
    await say(hearth, "/nhac 8:00 mai gọi bà")
    down = DownOutbox()
    clock.set(dt.datetime(2026, 5, 2, 8, 0, tzinfo=VN))
    assert await tick(hearth, down) == 0
    assert await tick(hearth, down) == 0  # not before its pause is over
    for _ in range(4):
        clock.advance(hours=1)
        assert await tick(hearth, down) == 0
    assert await statuses(hearth) == [("2026-05-02", 0, "failed", 1)]
    assert "gọi bà" in await say(hearth, "/lich")
