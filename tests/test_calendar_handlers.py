"""/lich, /nhac, /gio and /family set timezone through the real pipeline, with a fake clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.app import Hearth
from tests.support import RecordingOutbox, msg
from tests.support.clock import FakeClock

VN = ZoneInfo("Asia/Ho_Chi_Minh")


async def say(hearth: Hearth, text: str, **kw: object) -> str:
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg(text, **kw), out)  # type: ignore[arg-type]
    return out.last.text


def at(hearth: Hearth, *args: int) -> FakeClock:
    clock = FakeClock(dt.datetime(*args, tzinfo=VN))  # type: ignore[misc, arg-type]
    hearth.services.calendar.set_clock(clock)
    return clock


async def pending(hearth: Hearth) -> list[tuple[str, int, str]]:
    rows = await hearth.services.db.fetchall(
        "SELECT occurs_on, lead_days, due_at FROM calendar_deliveries WHERE status = 'pending'"
        " ORDER BY id"
    )
    return [
        (r["occurs_on"], r["lead_days"], dt.datetime.fromtimestamp(r["due_at"], VN).isoformat())
        for r in rows
    ]


async def test_gio_in_a_private_chat_listed_edited_and_deleted(hearth: Hearth) -> None:
    at(hearth, 2026, 4, 1, 9, 0)
    await say(hearth, "/start")
    saved = await say(hearth, "/gio Ông nội 10/3 âm")
    assert saved.startswith("✅ Đã lưu:\n1. 🕯️ Giỗ Ông nội — ngày 10/3 âm lịch hằng năm lúc 08:00")
    assert "nhắc trước 7 và 1 ngày" in saved and "Chủ nhật 26/04/2026 (10/3 âm)" in saved
    assert await pending(hearth) == [("2026-04-26", 7, "2026-04-19T08:00:00+07:00")]
    listed = await say(hearth, "/gio")
    assert "1. 🕯️ Giỗ Ông nội" in listed and "/gio xóa SỐ" in listed
    changed = await say(hearth, "/gio sửa 1 nhắc trước 3,1 ngày")
    assert "nhắc trước 3 và 1 ngày" in changed
    assert await pending(hearth) == [("2026-04-26", 3, "2026-04-23T08:00:00+07:00")]
    year = await say(hearth, "/lich 2027")
    assert "• thứ Sáu 16/04/2027 (10/3 âm) 🕯️ Giỗ Ông nội" in year
    assert await say(hearth, "/gio xóa 1") == "Đã xóa: Ông nội"
    assert await pending(hearth) == []
    assert await say(hearth, "/gio") == "Chưa có ngày giỗ nào. Thêm: /gio Ông nội 10/3 âm"
    assert "Không có mục số 1" in await say(hearth, "/gio xóa 1")


async def test_lich_shows_today_family_events_and_festivals(hearth: Hearth) -> None:
    at(hearth, 2026, 9, 10, 12, 0)
    await say(hearth, "/start")
    await say(hearth, "/gio Bà nội 20/8 âm")
    await say(hearth, "/nhac 7:00 hằng ngày tập thể dục")
    today = await say(hearth, "/lich")
    lines = today.splitlines()
    assert lines[0] == "📅 Dương lịch: thứ Năm 10/09/2026"
    assert lines[1] == "🌙 Âm lịch: ngày 29 tháng 7 năm 2026"
    assert lines[2].startswith("Ngày ") and lines[2].endswith("năm Bính Ngọ")
    assert "• thứ Tư 30/09/2026 (20/8 âm) 🕯️ Giỗ Bà nội" in lines
    assert "• thứ Sáu 25/09/2026 (15/8 âm) Tết Trung thu" in lines
    assert any(line.endswith("⏰ tập thể dục") for line in lines)
    one_day = await say(hearth, "/lich 15/8 âm")
    assert one_day.startswith("📅 Dương lịch: thứ Sáu 25/09/2026")
    english = await say(hearth, "/calendar someday", user="u2", language_code="en")
    assert english == (
        "For example: /calendar · /calendar 2027 · /calendar 2026-09-25 · /calendar 15/8 lunar"
    )


async def test_english_reminder_and_reply(hearth: Hearth) -> None:
    at(hearth, 2026, 4, 1, 9, 0)
    await say(hearth, "/start", language_code="en")
    saved = await say(hearth, "/remind tomorrow 19:00 call grandma", language_code="en")
    assert saved.startswith("✅ Saved:\n1. ⏰ call grandma (u1) — Thursday 2 Apr 2026 at 19:00")
    bad = await say(hearth, "/remind sometime call grandma", language_code="en")
    assert bad.startswith("I didn't understand that reminder. For example: /remind every day")
    bad_vi = await say(hearth, "/nhac lúc nào đó gọi bà", user="u2")
    assert bad_vi.startswith("Mình chưa hiểu lời nhắc này. Ví dụ: /nhac 8:00 hằng ngày")


async def test_who_may_add_change_and_delete_in_a_group(hearth: Hearth) -> None:
    at(hearth, 2026, 4, 1, 9, 0)
    group = {"chat": "g1", "kind": "group"}
    await say(hearth, "/start", user="admin", is_chat_admin=True, **group)
    refused = await say(hearth, "/gio Ông nội 10/3 âm", user="lan", **group)
    assert refused.startswith("Chỉ quản trị viên của gia đình mới thêm được ngày giỗ")
    refused_too = await say(hearth, "/nhac cả nhà 15/8 âm hằng năm Trung thu", user="lan", **group)
    assert refused_too.startswith("Chỉ quản trị viên")
    own = await say(hearth, "/nhac 8:00 hằng ngày uống thuốc", user="lan", **group)
    assert own.startswith("✅ Đã lưu:\n1. ⏰ uống thuốc (lan)")
    assert (await say(hearth, "/gio Ông nội 10/3 âm", user="admin", is_chat_admin=True, **group)
            ).startswith("✅ Đã lưu:\n2. 🕯️")  # fmt: skip
    other = await say(hearth, "/nhac xóa 1", user="minh", **group)
    assert other.startswith("Chỉ người tạo hoặc quản trị viên")
    assert (await say(hearth, "/gio xóa 2", user="lan", **group)).startswith("Chỉ người tạo")
    assert (await say(hearth, "/nhac sửa 1 9:00 hằng ngày uống thuốc", user="lan", **group)
            ).startswith("Đã sửa:\n1. ⏰ uống thuốc (lan) — hằng ngày lúc 09:00")  # fmt: skip
    assert await say(hearth, "/nhac xóa 1", user="lan", **group) == "Đã xóa: uống thuốc"
    assert await say(hearth, "/gio xóa 2", user="admin", is_chat_admin=True, **group) == (
        "Đã xóa: Ông nội"
    )


async def test_family_time_zone_moves_pending_reminders(hearth: Hearth) -> None:
    at(hearth, 2026, 4, 1, 9, 0)
    await say(hearth, "/start")
    await say(hearth, "/nhac 8:00 hằng ngày uống thuốc")
    assert await pending(hearth) == [("2026-04-02", 0, "2026-04-02T08:00:00+07:00")]
    saved = await say(hearth, "/family set timezone america/los_angeles")
    assert saved == "Đã lưu — múi giờ: America/Los_Angeles"
    la = ZoneInfo("America/Los_Angeles")
    [(day, _, due)] = await pending(hearth)
    # 09:00 in Vietnam is 19:00 on 31 March in Los Angeles: the next 08:00 there is 1 April
    assert day == "2026-04-01"
    assert dt.datetime.fromisoformat(due).astimezone(la).isoformat() == "2026-04-01T08:00:00-07:00"
    bad = await say(hearth, "/family set timezone Mars/Olympus")
    assert bad.startswith("Múi giờ viết theo tên IANA")
    profile = await say(hearth, "/family")
    assert "• Múi giờ (timezone): America/Los_Angeles" in profile
    await say(hearth, "/family set timezone -")
    assert (await pending(hearth))[0][2] == "2026-04-02T08:00:00+07:00"
    assert "• Múi giờ (timezone): Asia/Ho_Chi_Minh (mặc định)" in await say(hearth, "/family")
