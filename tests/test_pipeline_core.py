"""The pipeline over a real database: store first, duplicates, order, isolation, recovery."""

from __future__ import annotations

import asyncio

from bot.app import Hearth
from tests.support import DownOutbox, RecordingOutbox, msg


async def count(hearth: Hearth, sql: str, *params: object) -> int:
    return int(await hearth.services.db.scalar(sql, params))


async def test_duplicate_delivery_is_answered_once(hearth: Hearth) -> None:
    out = RecordingOutbox()
    first = msg("/remember Bà nội không ăn cay", message_id="42")
    await hearth.pipeline.handle(first, out)
    await hearth.pipeline.handle(first, out)
    replies = [t for t in out.texts if "Đã ghi nhớ" in t]
    assert len(replies) == 1
    assert (
        await count(hearth, "SELECT count(*) FROM messages WHERE platform_message_id = '42'") == 1
    )
    assert await count(hearth, "SELECT count(*) FROM facts") == 1


async def test_message_is_stored_and_marked_answered(hearth: Hearth) -> None:
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg("Làm cá kho thế nào?", message_id="7"), out)
    row = await hearth.services.db.fetchone(
        "SELECT status, text FROM messages WHERE platform_message_id = '7'"
    )
    assert row is not None
    assert (row["status"], row["text"]) == ("answered", "Làm cá kho thế nào?")
    assert out.last.answer_id is not None
    assert [b.data for b in out.last.buttons] == [
        f"fb:up:{out.last.answer_id}",
        f"fb:down:{out.last.answer_id}",
        f"fb:save:{out.last.answer_id}",
    ]


async def test_two_families_never_see_each_other(hearth: Hearth) -> None:
    a, b = RecordingOutbox(), RecordingOutbox()
    await hearth.pipeline.handle(msg("/remember Nhà A không có lò nướng", chat="A"), a)
    await hearth.pipeline.handle(msg("Nhà A hỏi về phở bò", chat="A"), a)
    await hearth.pipeline.handle(msg("/memory", chat="B"), b)
    assert "Nhà A" not in "\n".join(b.texts)
    fam_b = await hearth.services.families.ensure("console", "B", "private")
    summary, recent = await hearth.services.memory.recent(fam_b.id, 10_000)
    assert summary is None
    assert all("Nhà A" not in t.text for t in recent)
    assert await hearth.services.memory.facts(fam_b.id) == []
    fam_a = await hearth.services.families.ensure("console", "A", "private")
    assert [f.text for f in await hearth.services.memory.facts(fam_a.id)] == [
        "Nhà A không có lò nướng"
    ]


async def test_unaddressed_group_message_is_history_not_answered(hearth: Hearth) -> None:
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg("chuyện nhà", chat="g", kind="group", addressed=False), out)
    assert out.sent == []
    status = await hearth.services.db.scalar(
        "SELECT status FROM messages WHERE text = 'chuyện nhà'"
    )
    assert status == "ignored"


async def test_same_chat_messages_stay_in_order(hearth: Hearth) -> None:
    out = RecordingOutbox()
    texts = [f"/remember điều số {i}" for i in range(8)]
    await asyncio.gather(*(hearth.pipeline.handle(msg(t, chat="order"), out) for t in texts))
    fam = await hearth.services.families.ensure("console", "order", "private")
    facts = [f.text for f in await hearth.services.memory.facts(fam.id)]
    assert facts == [t.removeprefix("/remember ") for t in texts]


async def test_failed_send_is_answered_exactly_once_after_restart(hearth: Hearth) -> None:
    await hearth.pipeline.handle(msg("/memory", chat="r", message_id="100"), DownOutbox())
    status = await hearth.services.db.scalar(
        "SELECT status FROM messages WHERE platform_message_id = '100'"
    )
    assert status == "pending"
    outs: dict[str, RecordingOutbox] = {}

    def outbox_for(chat_id: str) -> RecordingOutbox:
        return outs.setdefault(chat_id, RecordingOutbox())

    assert await hearth.pipeline.resume_pending("console", outbox_for) == 1
    assert any("Chưa có gì được ghi nhớ" in t for t in outs["r"].texts)
    assert outs["r"].closed == 1  # as the adapter closes a live turn's outbox
    assert await hearth.pipeline.resume_pending("console", outbox_for) == 0


async def test_hostile_text_is_stored_safely(hearth: Hearth) -> None:
    out = RecordingOutbox()
    nasty = "a\x00b \ud800 ' OR 1=1; DROP TABLE messages; -- \u202e\u200d👨‍👩‍👧"
    await hearth.pipeline.handle(msg(nasty, message_id="h1"), out)
    stored = await hearth.services.db.scalar(
        "SELECT text FROM messages WHERE platform_message_id = 'h1'"
    )
    assert "\x00" not in stored
    assert "DROP TABLE" in stored
    assert out.sent  # answered, politely


async def test_oversized_message_is_cut_with_notice(hearth: Hearth) -> None:
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg("cá " * 100_000, message_id="big"), out)
    assert any("chỉ đọc" in t for t in out.texts)
    stored = await hearth.services.db.scalar(
        "SELECT length(text) FROM messages WHERE platform_message_id = 'big'"
    )
    assert stored == hearth.settings.max_message_chars


async def test_feedback_command_is_one_return(hearth: Hearth) -> None:
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg("Làm cá kho thế nào?"), out)
    answer_id = out.last.answer_id
    await hearth.pipeline.handle(msg(f"/hay_{answer_id}"), out)
    await hearth.pipeline.handle(msg(f"/hay_{answer_id}"), out)
    n = await count(hearth, "SELECT count(*) FROM returns WHERE answer_id = ?", answer_id)
    assert n == 1


async def test_feedback_on_another_familys_answer_is_refused(hearth: Hearth) -> None:
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg("Làm cá kho thế nào?", chat="A"), out)
    answer_id = out.last.answer_id
    other = RecordingOutbox()
    await hearth.pipeline.handle(msg(f"/luu_{answer_id}", chat="B"), other)
    assert await count(hearth, "SELECT count(*) FROM returns") == 0
    assert await count(hearth, "SELECT count(*) FROM saved_answers") == 0


async def test_button_press_keeps_a_group_admins_role(hearth: Hearth) -> None:
    from bot.core.types import CallbackEvent

    out = RecordingOutbox()
    await hearth.pipeline.handle(
        msg("/memory", chat="g1", user="boss", kind="group", is_chat_admin=True), out
    )
    await hearth.pipeline.handle(msg("@bot cá kho?", chat="g1", user="boss", kind="group"), out)
    answer_id = out.last.answer_id
    await hearth.pipeline.handle_callback(
        CallbackEvent("console", "g1", "boss", f"fb:up:{answer_id}", chat_kind="group")
    )
    role = await hearth.services.db.scalar(
        "SELECT role FROM members WHERE user_id = 'boss' AND family_id ="
        " (SELECT id FROM families WHERE chat_id = 'g1')"
    )
    # the button press said nothing about admin rights: the role from the last message stays
    assert role == "member"  # the second message came without is_chat_admin
    await hearth.pipeline.handle(
        msg("/memory", chat="g1", user="boss", kind="group", is_chat_admin=True), out
    )
    await hearth.pipeline.handle_callback(
        CallbackEvent("console", "g1", "boss", f"fb:save:{answer_id}", chat_kind="group")
    )
    role = await hearth.services.db.scalar(
        "SELECT role FROM members WHERE user_id = 'boss' AND family_id ="
        " (SELECT id FROM families WHERE chat_id = 'g1')"
    )
    assert role == "admin"
