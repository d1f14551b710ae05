"""End to end on the loopback Bot API: a giỗ added in a group is announced there 7 days and
1 day before, once each (the real PTB Application, the real reminder loop, a fake clock)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.support.clock import FakeClock
from tests.support.telegram import start_telegram

VN = ZoneInfo("Asia/Ho_Chi_Minh")
GROUP = -100777


async def test_giỗ_added_in_a_group_is_announced_7_and_1_days_before(
    tmp_path: Path,
    telegram_api,  # type: ignore[no-untyped-def]
) -> None:
    fake = telegram_api[0]
    run = await start_telegram(tmp_path, telegram_api)
    clock = FakeClock(dt.datetime(2026, 4, 1, 9, 0, tzinfo=VN))
    run.hearth.services.calendar.set_clock(clock)  # before the loop's first tick
    run.hearth.services.calendar.reminders.tick_s = 0.02
    try:
        await run.polling()
        fake.set_admins(GROUP, [1001])
        fake.push_message(GROUP, "/gio Ông nội 10/3 âm", user_id=1001)

        def texts() -> list[str]:
            return [m.text or "" for m in fake.bot_messages(GROUP)]

        await fake.until(lambda: any("Đã lưu" in t for t in texts()))
        assert any("1. 🕯️ Giỗ Ông nội" in t for t in texts())

        def announced(days: int) -> list[str]:
            return [t for t in texts() if t.startswith(f"🕯️ Còn {days} ngày nữa là giỗ Ông nội")]

        clock.set(dt.datetime(2026, 4, 19, 7, 59, tzinfo=VN))
        await asyncio.sleep(0.2)
        assert announced(7) == []
        clock.set(dt.datetime(2026, 4, 19, 8, 0, tzinfo=VN))
        await fake.until(lambda: bool(announced(7)))
        clock.set(dt.datetime(2026, 4, 22, 12, 0, tzinfo=VN))
        await asyncio.sleep(0.2)
        clock.set(dt.datetime(2026, 4, 25, 8, 0, 5, tzinfo=VN))
        await fake.until(lambda: bool(announced(1)))
        clock.set(dt.datetime(2026, 4, 26, 20, 0, tzinfo=VN))
        await asyncio.sleep(0.3)
        assert announced(7) == ["🕯️ Còn 7 ngày nữa là giỗ Ông nội: Chủ nhật 26/04/2026 (10/3 âm)."]
        assert announced(1) == ["🕯️ Còn 1 ngày nữa là giỗ Ông nội: Chủ nhật 26/04/2026 (10/3 âm)."]
        sends = [c for c in fake.sent("sendMessage", GROUP) if "Còn" in str(c.params.get("text"))]
        assert len(sends) == 2
        rows = await run.rows(
            "SELECT occurs_on, lead_days, status FROM calendar_deliveries ORDER BY id"
        )
        assert rows == [
            {"occurs_on": "2026-04-26", "lead_days": 7, "status": "sent"},
            {"occurs_on": "2026-04-26", "lead_days": 1, "status": "sent"},
            {"occurs_on": "2027-04-16", "lead_days": 7, "status": "pending"},
        ]
    finally:
        await run.close()
