"""Every kind of return, driven through the real pipeline, and its de-duplication."""

from __future__ import annotations

from bot.app import Hearth
from tests.usage_kit import add_entry, ask, backdate, message_ids, press, returns, say


async def test_reply_to_an_answer_message_is_a_return_per_reply(hearth: Hearth) -> None:
    answer = await ask(hearth, "Làm cá kho thế nào?")
    assert answer.answer_id is not None
    [carrier] = await message_ids(hearth, answer.answer_id)
    await say(hearth, "Cảm ơn, thêm nước dừa được không?", reply_to_message_id=carrier)
    duplicate = "dup-reply-1"
    await say(hearth, "Còn nước màu thì sao?", reply_to_message_id=carrier, message_id=duplicate)
    await say(hearth, "Còn nước màu thì sao?", reply_to_message_id=carrier, message_id=duplicate)
    await say(hearth, "trả lời tin khác", reply_to_message_id="not-an-answer")
    kinds = [(a, k) for a, k, _ in await returns(hearth) if k == "reply"]
    assert kinds == [(answer.answer_id, "reply"), (answer.answer_id, "reply")]


async def test_buttons_count_once_per_member_and_down_is_negative(hearth: Hearth) -> None:
    answer = await ask(hearth, "Nấu phở bò thế nào?")
    aid = answer.answer_id
    assert await press(hearth, f"fb:up:{aid}") == "Cảm ơn! 👍"
    assert "rồi" in await press(hearth, f"fb:up:{aid}")  # second press: already counted
    await say(hearth, f"/hay_{aid}")  # the command form is the same button
    await press(hearth, f"fb:up:{aid}", user="u2")  # another member: a second event
    await press(hearth, f"fb:down:{aid}", user="u3")
    await press(hearth, f"fb:save:{aid}")
    await press(hearth, f"fb:save:{aid}")
    assert await returns(hearth) == [
        (aid, "helpful", 1),
        (aid, "helpful", 1),
        (aid, "not_helpful", 0),
        (aid, "save", 1),
    ]
    saved = await hearth.services.db.scalar("SELECT count(*) FROM saved_answers")
    assert saved == 1


async def test_button_of_another_family_or_unknown_data_logs_nothing(hearth: Hearth) -> None:
    answer = await ask(hearth, "Nấu phở bò thế nào?", chat="A")
    assert "không tìm thấy" in (await press(hearth, f"fb:up:{answer.answer_id}", chat="B")).lower()
    assert "không còn" in await press(hearth, "fb:zap:1", chat="A")
    assert await returns(hearth) == []


async def test_reaction_is_one_return_per_member(hearth: Hearth) -> None:
    answer = await ask(hearth, "Làm bánh xèo thế nào?")
    aid = answer.answer_id
    assert aid is not None
    [carrier] = await message_ids(hearth, aid)
    handle = hearth.pipeline.handle_reaction
    assert await handle("console", "fam1", "u1", carrier, "❤") is True
    assert await handle("console", "fam1", "u1", carrier, "🔥") is False  # changed emoji
    assert await handle("console", "fam1", "u2", carrier, "👍") is True
    assert await handle("console", "fam1", "u1", "sent-unknown", "❤") is False
    events = await hearth.services.usage.events((await family(hearth)).id, aid)
    assert [(e["kind"], e["detail"]) for e in events] == [("reaction", "❤"), ("reaction", "👍")]


async def family(hearth: Hearth, chat: str = "fam1"):  # type: ignore[no-untyped-def]
    return await hearth.services.families.ensure("console", chat, "private")


async def test_ask_again_needs_same_question_same_top_entry_and_a_gap(hearth: Hearth) -> None:
    fish = await add_entry(hearth, "Cá kho tộ")
    first = await ask(hearth, "Làm cá kho thế nào?")
    assert first.answer_id is not None
    # the same minute: a retry, not a return
    soon = await ask(hearth, "làm CÁ KHO thế nào ??")
    assert await returns(hearth) == []
    # both earlier answers are now old; the newest of them is the one returned to
    await backdate(hearth, "answers", first.answer_id, 30)
    assert soon.answer_id is not None
    await backdate(hearth, "answers", soon.answer_id, 25)
    again = await ask(hearth, "Lam ca kho the nao")
    assert await returns(hearth) == [(soon.answer_id, "ask_again", 1)]
    # a rephrase right after the return is still the same conversation
    await ask(hearth, "Làm cá kho thế nào?")
    assert len(await returns(hearth)) == 1
    # another family asking the same does not return to this family's answer
    await ask(hearth, "Làm cá kho thế nào?", chat="other")
    assert len(await returns(hearth)) == 1
    ids = await hearth.services.db.fetchall(
        "SELECT entry_id FROM answer_entries WHERE answer_id = ?", (again.answer_id,)
    )
    assert [r[0] for r in ids] == [fish]


async def test_ask_again_with_a_different_top_entry_is_not_a_return(hearth: Hearth) -> None:
    first = await ask(hearth, "Làm cá kho thế nào?")
    assert first.answer_id is not None
    await backdate(hearth, "answers", first.answer_id, 60)
    await add_entry(hearth, "Cá kho tộ")  # the knowledge changed in between
    await ask(hearth, "Làm cá kho thế nào?")
    assert await returns(hearth) == []


async def test_saved_lists_newest_first_in_pages_and_opening_is_a_return(hearth: Hearth) -> None:
    ids = []
    for i in range(7):
        answer = await ask(hearth, f"Câu hỏi số {i} về món ăn")
        assert answer.answer_id is not None
        ids.append(answer.answer_id)
        await press(hearth, f"fb:save:{answer.answer_id}")
        await hearth.services.db.execute(
            "UPDATE saved_answers SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ','now', ?)"
            " WHERE answer_id = ?",
            (f"-{10 - i} minutes", answer.answer_id),
        )
    page1 = (await say(hearth, "/saved")).last.text
    assert "trang 1/2, 7 câu" in page1
    listed = [line for line in page1.splitlines() if line[:2] in {f"{n}." for n in range(1, 8)}]
    assert [line.split("/xem_")[1] for line in listed] == [str(i) for i in ids[::-1][:5]]
    assert "Câu hỏi số 6" in listed[0]
    assert "/saved 2" in page1
    page2 = (await say(hearth, "/daluu 2")).last.text
    assert f"/xem_{ids[0]}" in page2 and "6." in page2 and "/saved 3" not in page2
    assert "2 trang" in (await say(hearth, "/saved 3")).last.text
    assert await returns(hearth) == [(i, "save", 1) for i in ids]

    before = set(await message_ids(hearth, ids[2]))
    out = await say(hearth, f"/xem_{ids[2]}")
    shown = out.last
    assert shown.answer_id == ids[2] and "Câu hỏi số 2" in shown.text
    assert shown.buttons[0].data == f"fb:up:{ids[2]}"
    await say(hearth, f"/saved open {ids[2]}")  # the same day: still one return
    events = await returns(hearth)
    assert events[-1] == (ids[2], "open_saved", 1)
    assert sum(1 for e in events if e[1] == "open_saved") == 1
    # the re-shown message carries the answer, so replying to it is a return too
    reshown = sorted(set(await message_ids(hearth, ids[2])) - before)
    assert len(reshown) == 2  # opened twice, shown twice
    await say(hearth, "cảm ơn", reply_to_message_id=reshown[0])
    assert (await returns(hearth))[-1] == (ids[2], "reply", 1)


async def test_opening_someone_elses_or_an_unsaved_answer_is_refused(hearth: Hearth) -> None:
    answer = await ask(hearth, "Nấu chè đậu xanh thế nào?", chat="g", user="u1")
    await press(hearth, f"fb:save:{answer.answer_id}", chat="g", user="u1")
    refused = (await say(hearth, f"/open_{answer.answer_id}", chat="g", user="u2")).last.text
    assert "/saved" in refused and answer.text not in refused
    other = (await say(hearth, f"/xem_{answer.answer_id}", chat="h", user="u1")).last.text
    assert answer.text not in other
    assert [k for _, k, _ in await returns(hearth)] == ["save"]
    assert "chưa lưu" in (await say(hearth, "/saved", chat="g", user="u2")).last.text
    assert "/saved" in (await say(hearth, "/saved abc", chat="g")).last.text


async def test_reaction_never_creates_a_family_nor_changes_a_role(hearth: Hearth) -> None:
    db = hearth.services.db
    handle = hearth.pipeline.handle_reaction
    assert await handle("telegram", "-100777", "u9", "5", "👍") is False
    assert await db.scalar("SELECT count(*) FROM families WHERE chat_id = '-100777'") == 0
    out = await say(hearth, "Làm bánh xèo thế nào?", chat="grp", kind="group", is_chat_admin=True)
    aid = out.last.answer_id
    assert aid is not None
    [carrier] = await message_ids(hearth, aid)
    assert await handle("console", "grp", "u1", carrier, "❤") is True
    assert await handle("console", "grp", "newcomer", carrier, "🔥") is True
    roles = await db.fetchall(
        "SELECT m.user_id, m.role FROM members m JOIN families f ON f.id = m.family_id"
        " WHERE f.chat_id = 'grp' ORDER BY m.id"
    )
    assert [tuple(r) for r in roles] == [("u1", "admin"), ("newcomer", "member")]
