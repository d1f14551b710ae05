"""On the loopback Zalo API: a reminder Zalo refuses (the bot did not answer anything) is
held, `hearth logs` says so, and it goes out right after the next reply in that chat, once."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import cli
from bot.app import build
from tests.servers.zalo_api import ZaloApiServer
from tests.support.clock import FakeClock
from tests.support.zalo import serve_zalo, zalo_settings

VN = ZoneInfo("Asia/Ho_Chi_Minh")


async def test_a_refused_reminder_goes_out_after_the_next_reply(
    tmp_path: Path,
    zalo_api: ZaloApiServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = await build(zalo_settings(tmp_path, zalo_api))
    clock = FakeClock(dt.datetime(2026, 5, 1, 7, 0, tzinfo=VN))
    app.services.calendar.set_clock(clock)
    app.services.calendar.reminders.tick_s = 0.02
    run = serve_zalo(app, zalo_api)
    try:
        zalo_api.push_text("/nhac 8:00 hằng ngày uống thuốc", chat_id="chat-1")
        texts = await run.sent("chat-1", 2)
        assert texts[-1].startswith("✅ Đã lưu:")
        zalo_api.fail_next("sendMessage", code=400, description="not allowed to send now")
        clock.set(dt.datetime(2026, 5, 1, 8, 0, tzinfo=VN))
        for _ in range(250):
            row = await app.services.db.fetchone(
                "SELECT status, held_at FROM calendar_deliveries ORDER BY id LIMIT 1"
            )
            if row is not None and row["held_at"] is not None:
                break
            await asyncio.sleep(0.02)
        assert row is not None and (row["status"], row["held_at"] is not None) == ("failed", True)
        monkeypatch.setenv("HEARTH_DB", str(app.settings.db_path))
        assert await asyncio.to_thread(cli.main, ["logs"]) == 0
        assert "1 reminder(s) refused by the platform, held for the next reply" in (
            capsys.readouterr().out
        )
        assert len(zalo_api.sent_to("chat-1")) == 2  # nothing went out on its own
        zalo_api.push_text("cảm ơn nhé", chat_id="chat-1")
        texts = await run.sent("chat-1", 4)
        assert texts[3] == ("⏰ Nhắc Mẹ Lan: uống thuốc\n(Nhắc trễ: lúc đó mình không gửi được.)")
        await asyncio.sleep(0.2)
        zalo_api.push_text("ok", chat_id="chat-1")
        texts = await run.sent("chat-1", 5)
        await asyncio.sleep(0.2)
        assert sum("uống thuốc" in t and "Nhắc trễ" in t for t in run_texts(zalo_api)) == 1
        rows = await app.services.db.fetchall(
            "SELECT occurs_on, status, late FROM calendar_deliveries ORDER BY id"
        )
        assert [tuple(r) for r in rows] == [("2026-05-01", "sent", 1), ("2026-05-02", "pending", 0)]
    finally:
        await run.close()
        await app.aclose()


def run_texts(api: ZaloApiServer) -> list[str]:
    return [m["text"] for m in api.sent_to("chat-1")]
