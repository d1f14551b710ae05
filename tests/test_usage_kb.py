"""Credit end to end with the real knowledge base: /suggest, /approve, /kb add, answers, returns."""

from __future__ import annotations

import re
from typing import Any

from bot.app import Hearth
from tests.usage_kit import message_ids, press, say


async def test_suggester_and_author_are_credited_through_the_real_kb(hearth: Hearth) -> None:
    h = hearth
    group: dict[str, Any] = {"chat": "g", "kind": "group"}
    admin: dict[str, Any] = {**group, "user": "u1", "user_name": "Mẹ", "is_chat_admin": True}
    suggested = await say(
        h,
        "/suggest Cá kho tộ | Kho cá với nước màu, tiêu và hành.",
        **group,
        user="u2",
        user_name="Lan",
    )
    found = re.search(r"#(\d+)", suggested.last.text)
    assert found, suggested.texts
    fish = int(found[1])
    approved = await say(h, f"/approve {fish}", **admin)
    assert str(fish) in approved.last.text
    await say(h, "/kb add Phở bò | Ninh xương bò tám tiếng, thêm quế hồi.", **admin)
    pho = int(await h.services.db.scalar("SELECT id FROM entries WHERE title = 'Phở bò'"))

    fish_q = await say(h, "Làm cá kho tộ thế nào?", **group, user="u3", user_name="Bố")
    fish_answer = fish_q.last.answer_id
    pho_q = await say(h, "Nấu phở bò thế nào?", **group, user="u3", user_name="Bố")
    pho_answer = pho_q.last.answer_id
    assert fish_answer is not None and pho_answer is not None
    used = {
        a: [
            r[0]
            for r in await h.services.db.fetchall(
                "SELECT entry_id FROM answer_entries WHERE answer_id = ? ORDER BY rank", (a,)
            )
        ]
        for a in (fish_answer, pho_answer)
    }
    assert used[fish_answer][0] == fish and used[pho_answer][0] == pho

    await press(h, f"fb:up:{fish_answer}", chat="g", user="u3")
    [carrier] = await message_ids(h, fish_answer)
    await say(h, "Hay quá", **admin, reply_to_message_id=carrier)
    await press(h, f"fb:down:{fish_answer}", chat="g", user="u4")
    await press(h, f"fb:save:{pho_answer}", chat="g", user="u3")

    credit = await h.services.usage.entry_credit()
    expected: dict[int, int] = {}
    for answer, positive in ((fish_answer, 2), (pho_answer, 1)):
        for entry in used[answer]:
            expected[entry] = expected.get(entry, 0) + positive
    assert credit == expected
    people = {p["contributor"]: p for p in await h.services.usage.contributor_credit()}
    assert people["Lan"]["approved_suggestions"] == 1
    assert people["Lan"]["credited_returns"] == (2 if fish in used[fish_answer] else 0) + (
        1 if fish in used[pho_answer] else 0
    )
    assert people["Mẹ"]["entries"] == 1
    assert people["Mẹ"]["credited_returns"] == (2 if pho in used[fish_answer] else 0) + 1
