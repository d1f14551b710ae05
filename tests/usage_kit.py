"""Shared by the usage, report and privacy tests: entries, questions, presses, a scenario.

Everything goes through the real app: entries through the knowledge base, questions and
commands through the pipeline, button presses and reactions through its callbacks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.app import Hearth
from bot.core.types import CallbackEvent, Reply
from knowledge.store import Author
from tests.support import RecordingOutbox, msg


async def add_entry(
    hearth: Hearth,
    title: str,
    *,
    family_id: int | None = None,
    author: str | None = None,
    platform: str | None = None,
    user_id: str | None = None,
    member_id: int | None = None,
    approved_by: str | None = None,
    source: str = "chat",
    status: str = "approved",
) -> int:
    """An entry written through the real knowledge base, with its authorship."""
    entry = await hearth.services.kb.add(
        title,
        f"{title}: cách làm.",
        family_id=family_id,
        author=Author(author, platform, user_id, member_id),
        status=status,
        source=source,
        approved_by=approved_by,
    )
    return int(entry.id)


async def ask(hearth: Hearth, text: str, *, chat: str = "fam1", user: str = "u1") -> Reply:
    """Ask through the real pipeline and return the answer reply."""
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg(text, chat=chat, user=user), out)
    answer = [r for r in out.sent if r.answer_id is not None]
    assert answer, out.texts
    return answer[-1]


async def say(
    hearth: Hearth, text: str, *, chat: str = "fam1", user: str = "u1", **kw: Any
) -> RecordingOutbox:
    """Send one message through the pipeline; the outbox holds what came back."""
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg(text, chat=chat, user=user, **kw), out)
    return out


async def press(hearth: Hearth, data: str, *, chat: str = "fam1", user: str = "u1") -> str:
    """A button press as an adapter reports it."""
    return await hearth.pipeline.handle_callback(CallbackEvent("console", chat, user, data))


async def message_ids(hearth: Hearth, answer_id: int) -> list[str]:
    """The platform messages that carry an answer."""
    rows = await hearth.services.db.fetchall(
        "SELECT platform_message_id FROM answer_messages WHERE answer_id = ?", (answer_id,)
    )
    return [r[0] for r in rows]


async def backdate(hearth: Hearth, table: str, row_id: int, minutes: int) -> None:
    """Move a row's timestamp into the past (the usage rules depend on elapsed time)."""
    await hearth.services.db.execute(
        f"UPDATE {table} SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) WHERE id = ?",
        (f"-{minutes} minutes", row_id),
    )


async def returns(hearth: Hearth) -> list[tuple[int, str, int]]:
    """(answer_id, kind, positive) of every return event, in order."""
    rows = await hearth.services.db.fetchall(
        "SELECT answer_id, kind, positive FROM returns ORDER BY id"
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def _redate(hearth: Hearth, table: str, day: str, where: str, params: tuple) -> None:  # type: ignore[type-arg]
    await hearth.services.db.execute(
        f"UPDATE {table} SET created_at = ? || substr(created_at, 11) WHERE {where}",
        (day, *params),
    )


async def build_scenario(hearth: Hearth) -> dict[str, int]:
    """Three families, twenty answers, fourteen returns (two of every kind), model calls.

    A (console:a) gets 10 answers: A1..A3 on 2026-02-24, the rest (A4..A9 and the answer to
    a reply) on 2026-03-02. B (console:b) 6 on 2026-03-02. C (console:c) 4 on 2026-02-23
    (C1..C3 and the answer to a reply). Replies to answers are questions too.
    Entries: E1 «Cá kho tộ» (Bà Ngoại, global), E2 «Phở bò nhà mình» (Mẹ, family A),
    E3 «Bánh xèo» (starter pack).
    """
    families = hearth.services.families
    fam = {k: (await families.ensure("console", k, "private")).id for k in "abc"}
    e1 = await add_entry(hearth, "Cá kho tộ", author="Bà Ngoại", platform="console", user_id="a1")
    e2 = await add_entry(
        hearth,
        "Phở bò nhà mình",
        family_id=fam["a"],
        author="Mẹ",
        platform="console",
        user_id="a2",
    )
    e3 = await add_entry(hearth, "Bánh xèo", source="starter")

    async def q(chat: str, text: str, user: str) -> int:
        reply = await ask(hearth, text, chat=chat, user=user)
        assert reply.answer_id is not None
        return reply.answer_id

    a = [await q("a", "Làm cá kho thế nào?", "a1"), await q("a", "Nấu phở bò ra sao?", "a2")]
    a += [await q("a", f"Câu hỏi thứ {i} của nhà A", "a1") for i in range(3, 9)]
    await backdate(hearth, "answers", a[0], 15)
    a.append(await q("a", "làm cá kho thế nào", "a2"))  # ask_again → A1
    b = [await q("b", "Đổ bánh xèo giòn?", "b1")]
    b += [await q("b", f"Câu hỏi thứ {i} của nhà B", "b2") for i in range(2, 7)]
    c = [await q("c", "Cá kho làm sao cho thơm?", "c1")]
    c.append(await q("c", "Câu hỏi thứ 2 của nhà C", "c1"))
    await backdate(hearth, "answers", c[0], 20)
    c.append(await q("c", "Cá kho làm sao cho thơm", "c1"))  # ask_again → C1

    # A1: 👍 (twice, one event), a reply, a reaction  (+ ask_again above) → 4
    await press(hearth, f"fb:up:{a[0]}", chat="a", user="a1")
    await press(hearth, f"fb:up:{a[0]}", chat="a", user="a1")
    [carrier] = await message_ids(hearth, a[0])
    await say(hearth, "Cảm ơn bà!", chat="a", user="a2", reply_to_message_id=carrier)
    await hearth.pipeline.handle_reaction("console", "a", "a1", carrier, "❤")
    # A2: 📌, opened from /saved, 👎 → 3
    await press(hearth, f"fb:save:{a[1]}", chat="a", user="a1")
    await say(hearth, f"/xem_{a[1]}", chat="a", user="a1")
    await press(hearth, f"fb:down:{a[1]}", chat="a", user="a2")
    # B1: 👍, reaction, 👎 → 3;  B3: 📌 and opened → 2
    await press(hearth, f"fb:up:{b[0]}", chat="b", user="b1")
    [carrier_b] = await message_ids(hearth, b[0])
    await hearth.pipeline.handle_reaction("console", "b", "b2", carrier_b, "👍")
    await press(hearth, f"fb:down:{b[0]}", chat="b", user="b2")
    await press(hearth, f"fb:save:{b[2]}", chat="b", user="b1")
    await say(hearth, f"/saved open {b[2]}", chat="b", user="b1")
    # C1: a reply (+ ask_again above) → 2
    [carrier_c] = await message_ids(hearth, c[0])
    await say(hearth, "Thơm thật", chat="c", user="c1", reply_to_message_id=carrier_c)

    for table in ("answers", "messages", "returns", "saved_answers"):
        await _redate(hearth, table, "2026-03-02", "family_id IN (?, ?)", (fam["a"], fam["b"]))
        await _redate(hearth, table, "2026-02-23", "family_id = ?", (fam["c"],))
    early = tuple(a[:3])
    await _redate(
        hearth, "answers", "2026-02-24", "family_id = ? AND id IN (?, ?, ?)", (fam["a"], *early)
    )
    await _redate(
        hearth,
        "messages",
        "2026-02-24",
        "family_id = ? AND id IN (SELECT message_id FROM answers WHERE id IN (?, ?, ?))",
        (fam["a"], *early),
    )
    calls = [("http://127.0.0.1:9/v1", "small", 1, ms) for ms in (100, 200, 300, 400)]
    calls += [("http://127.0.0.1:9/v1", "small", 0, 5000)]
    calls += [("https://api.example.com/v1", "big", 0, 60000)] * 2
    await hearth.services.db.executemany(
        "INSERT INTO llm_calls (family_id, endpoint, model, ok, latency_ms, created_at)"
        " VALUES (?, ?, ?, ?, ?, '2026-03-02T09:00:00.000Z')",
        [(fam["a"], *call) for call in calls],
    )
    ids = {"e1": e1, "e2": e2, "e3": e3, **fam}
    ids.update({f"A{i}": x for i, x in enumerate(a, 1)})
    ids.update({f"B{i}": x for i, x in enumerate(b, 1)})
    ids.update({f"C{i}": x for i, x in enumerate(c, 1)})
    return ids


def cli(db: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot` on this database in a clean environment."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LLM_", "TELEGRAM_", "ZALO_", "HEARTH_"))
    }
    base.update({"HEARTH_DB": str(db), "PYTHONPATH": str(Path(__file__).parents[1])})
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=db.parent,
        env=base,
        timeout=60,
    )
