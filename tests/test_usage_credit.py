"""Credit for entries and their contributors, derived from the return log by query."""

from __future__ import annotations

from bot.app import Hearth
from tests.usage_kit import add_entry, ask, message_ids, press, say


async def build(hearth: Hearth) -> dict[str, int]:
    """Four entries, four answers, returns of several kinds (see the assertions)."""
    fam = await hearth.services.families.ensure("console", "fam1", "private")
    e = {
        "fish": await add_entry(
            hearth, "Cá kho tộ", author="Bà Ngoại", platform="console", user_id="u1"
        ),
        "caramel": await add_entry(
            hearth,
            "Nước màu",
            family_id=fam.id,
            author="Mẹ",
            platform="console",
            user_id="u2",
            approved_by="Bố",
            source="suggestion",
        ),
        "pho": await add_entry(hearth, "Phở bò", source="starter"),
        "xeo": await add_entry(
            hearth, "Bánh xèo", author="Bà Ngoại", platform="console", user_id="u1"
        ),
    }
    await add_entry(
        hearth,
        "Chưa duyệt",
        family_id=fam.id,
        author="Cậu",
        status="pending",
        source="suggestion",
    )
    a1 = await ask(hearth, "Làm cá kho với nước màu thế nào?")
    a2 = await ask(hearth, "Nấu phở bò?")
    a3 = await ask(hearth, "Đổ bánh xèo?")
    a4 = await ask(hearth, "Bánh xèo và cá kho, món nào dễ hơn?")
    ids = {"a1": a1.answer_id, "a2": a2.answer_id, "a3": a3.answer_id, "a4": a4.answer_id}
    await press(hearth, f"fb:up:{ids['a1']}")
    await press(hearth, f"fb:up:{ids['a1']}")  # the same button twice: one event
    [carrier] = await message_ids(hearth, ids["a1"])  # type: ignore[arg-type]
    await say(hearth, "Ngon quá!", user="u2", reply_to_message_id=carrier)
    await press(hearth, f"fb:down:{ids['a1']}", user="u3")  # a return, never credit
    await press(hearth, f"fb:down:{ids['a2']}")
    [carrier3] = await message_ids(hearth, ids["a3"])  # type: ignore[arg-type]
    await hearth.pipeline.handle_reaction("console", "fam1", "u1", carrier3, "❤")
    await press(hearth, f"fb:save:{ids['a4']}")
    return {**e, **ids, "family": fam.id}  # type: ignore[dict-item]


async def test_entry_credit_counts_positive_returns_of_answers_that_used_it(
    hearth: Hearth,
) -> None:
    ids = await build(hearth)
    used = await hearth.services.db.fetchall("SELECT answer_id, entry_id FROM answer_entries")
    assert sorted((r[0], r[1]) for r in used) == sorted(
        [
            (ids["a1"], ids["fish"]),
            (ids["a1"], ids["caramel"]),
            (ids["a2"], ids["pho"]),
            (ids["a3"], ids["xeo"]),
            (ids["a4"], ids["fish"]),
            (ids["a4"], ids["xeo"]),
        ]
    )
    credit = await hearth.services.usage.entry_credit()
    assert credit == {ids["fish"]: 3, ids["caramel"]: 2, ids["xeo"]: 2}
    assert await hearth.services.usage.entry_credit(ids["family"]) == credit
    assert await hearth.services.usage.entry_credit(ids["family"] + 99) == {}


async def test_contributors_are_credited_once_per_return(hearth: Hearth) -> None:
    await build(hearth)
    people = await hearth.services.usage.contributor_credit()
    assert [
        (p["contributor"], p["entries"], p["approved_suggestions"], p["credited_returns"])
        for p in people
    ] == [
        # a1 (👍 + reply), a3 (reaction), a4 (📌, used two of her entries: credited once)
        ("Bà Ngoại", 2, 0, 4),
        # her suggestion was approved by Bố; she stays its author and gets its credit
        ("Mẹ", 1, 1, 2),
        # the only return to the phở answer was 👎
        ("(starter pack)", 1, 0, 0),
    ]
    assert people[0]["key"] == "console:u1"


async def test_credit_is_a_view_that_follows_the_log(hearth: Hearth) -> None:
    ids = await build(hearth)
    db = hearth.services.db
    # another rule tomorrow: e.g. count only explicit 👍 — same log, new numbers
    helpful_only = await db.fetchall(
        "SELECT entry_id, count(*) FROM credit_events WHERE kind = 'helpful' GROUP BY entry_id"
    )
    assert sorted((r[0], r[1]) for r in helpful_only) == [(ids["fish"], 1), (ids["caramel"], 1)]
    await db.execute("DELETE FROM returns WHERE kind = 'reply'")
    assert (await hearth.services.usage.entry_credit())[ids["fish"]] == 2
