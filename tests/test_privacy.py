"""/export gives a family all of its data; /deletefamily erases it after a confirmation."""

from __future__ import annotations

import json

from bot.app import Hearth
from tests.usage_kit import add_entry, ask, cli, press, say


async def seed(hearth: Hearth, chat: str, secret: str, kind: str = "private") -> dict[str, int]:
    """A family with a fact, an answer, returns, a saved answer and a family entry."""
    await say(hearth, f"/remember {secret}", chat=chat, kind=kind, is_chat_admin=True)
    fam = await hearth.services.families.ensure("console", chat, kind)
    entry = await add_entry(hearth, f"Món riêng nhà {chat}", family_id=fam.id, author="Mẹ")
    answer = await ask(hearth, f"Nấu món riêng nhà {chat} thế nào?", chat=chat)
    assert answer.answer_id is not None
    await press(hearth, f"fb:save:{answer.answer_id}", chat=chat)
    await press(hearth, f"fb:up:{answer.answer_id}", chat=chat)
    return {"family": fam.id, "entry": entry, "answer": answer.answer_id}


async def count(hearth: Hearth, table: str, family_id: int) -> int:
    return int(
        await hearth.services.db.scalar(
            f"SELECT count(*) FROM {table} WHERE family_id = ?", (family_id,)
        )
    )


async def test_export_is_a_json_file_with_everything_of_this_family_only(hearth: Hearth) -> None:
    mine = await seed(hearth, "a", "Bà nội không ăn cay")
    await seed(hearth, "b", "Nhà B có lò nướng")
    out = await say(hearth, "/export", chat="a")
    reply = out.last
    assert reply.document is not None
    name, data = reply.document
    assert name.startswith("hearth-export-console-a-") and name.endswith(".json")
    doc = json.loads(data)
    assert doc["format"] == "hearth-export/1"
    assert doc["family"]["chat_id"] == "a"
    tables = doc["tables"]
    assert [f["text"] for f in tables["facts"]] == ["Bà nội không ăn cay"]
    assert [a["id"] for a in tables["answers"]] == [mine["answer"]]
    assert tables["answers"][0]["prompt_json"][-1]["role"] == "user"  # decoded, not a string
    assert {r["kind"] for r in tables["returns"]} == {"save", "helpful"}
    assert [s["answer_id"] for s in tables["saved_answers"]] == [mine["answer"]]
    assert [e["title"] for e in tables["entries"]] == ["Món riêng nhà a"]
    assert [(x["answer_id"], x["entry_id"]) for x in tables["answer_entries"]] == [
        (mine["answer"], mine["entry"])
    ]
    assert any(m["text"] == "/remember Bà nội không ăn cay" for m in tables["messages"])
    assert "Nhà B" not in data.decode("utf-8") and "nhà b" not in data.decode("utf-8")
    assert "3 câu trả lời" not in reply.text and "1 câu trả lời" in reply.text


async def test_any_member_exports_but_only_admins_delete(hearth: Hearth) -> None:
    await seed(hearth, "g", "Bí mật nhà G", kind="group")
    exported = await say(hearth, "/xuatdulieu", chat="g", user="kid", kind="group")
    assert exported.last.document is not None  # the contract: /export for the family
    for command in ("/deletefamily", "/xoagiadinh xacnhan"):
        out = await say(hearth, command, chat="g", user="kid", kind="group")
        assert out.last.document is None
        assert "quản trị" in out.last.text
    fam = await hearth.services.families.ensure("console", "g", "group")
    assert await count(hearth, "facts", fam.id) == 1


async def test_delete_family_asks_then_erases_keeping_anonymous_counts(hearth: Hearth) -> None:
    gone = await seed(hearth, "a", "Bà nội không ăn cay")
    kept = await seed(hearth, "b", "Nhà B có lò nướng")
    db = hearth.services.db
    member = await db.scalar("SELECT id FROM members WHERE family_id = ?", (gone["family"],))
    shared = await add_entry(hearth, "Mục chung", author="Bà", member_id=member)
    await db.execute(
        "INSERT INTO llm_calls (family_id, endpoint, model, ok, latency_ms) VALUES (?,?,?,?,?)",
        (gone["family"], "http://127.0.0.1:9/v1", "m", 1, 100),
    )

    refused = await say(hearth, "/deletefamily confirm", chat="a")
    assert "/xoagiadinh" in refused.last.text  # nothing pending: ask first
    asked = await say(hearth, "/deletefamily", chat="a")
    assert "vĩnh viễn" in asked.last.text and "/xoagiadinh xacnhan" in asked.last.text
    assert await count(hearth, "facts", gone["family"]) == 1  # asking deletes nothing
    messages = await count(hearth, "messages", gone["family"]) + 1  # + the confirmation
    done = await say(hearth, "/xoagiadinh xác nhận", chat="a")
    assert "Đã xóa" in done.last.text

    for table in (
        "messages",
        "facts",
        "answers",
        "returns",
        "saved_answers",
        "members",
        "entries",
        "family_profile",
        "pending_confirmations",
    ):
        assert await count(hearth, table, gone["family"]) == 0, table
    assert await db.scalar("SELECT count(*) FROM families WHERE id = ?", (gone["family"],)) == 0
    assert (
        await db.scalar(
            "SELECT count(*) FROM answer_entries WHERE answer_id = ?", (gone["answer"],)
        )
        == 0
    )
    fts = await db.scalar("SELECT count(*) FROM entries_fts WHERE rowid = ?", (gone["entry"],))
    assert fts == 0  # nothing of the family stays in the search index
    assert await hearth.services.kb.search("Món riêng nhà a", gone["family"]) == []
    row = await db.fetchone("SELECT platform, messages, answers, returns FROM deleted_family_stats")
    assert tuple(row) == ("console", messages, 1, 2)  # type: ignore[arg-type]
    assert await db.scalar("SELECT count(*) FROM llm_calls WHERE family_id IS NULL") == 1
    author = await db.fetchone(
        "SELECT author, author_member_id FROM entries WHERE id = ?", (shared,)
    )
    assert tuple(author) == (None, None)  # type: ignore[arg-type]
    # the other family is untouched
    for table, n in (("facts", 1), ("answers", 1), ("returns", 2), ("entries", 1)):
        assert await count(hearth, table, kept["family"]) == n, table
    # writing again starts a fresh family
    again = await say(hearth, "/memory", chat="a")
    assert "Chưa có gì được ghi nhớ" in again.texts[-1]
    report = json.loads(cli(hearth.settings.db_path, "report", "--json").stdout)
    assert report["deleted_families"]["families"] == 1
    assert [f["family"] for f in report["families"]] == ["console:b", "console:a"]


async def test_confirmation_expires_after_five_minutes_and_can_be_cancelled(
    hearth: Hearth,
) -> None:
    fam = (await seed(hearth, "a", "Bà nội không ăn cay"))["family"]
    await say(hearth, "/deletefamily", chat="a")
    await hearth.services.db.execute(
        "UPDATE pending_confirmations SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ','now',"
        " '-6 minutes') WHERE family_id = ?",
        (fam,),
    )
    late = await say(hearth, "/deletefamily confirm", chat="a")
    assert "5 phút" in late.last.text
    assert await count(hearth, "facts", fam) == 1
    await say(hearth, "/deletefamily", chat="a")
    cancelled = await say(hearth, "/xoagiadinh huy", chat="a")
    assert "hủy" in cancelled.last.text.lower()
    await say(hearth, "/deletefamily confirm", chat="a")
    assert await count(hearth, "facts", fam) == 1
    # another admin's confirmation does not complete someone else's request
    await say(hearth, "/deletefamily", chat="a")
    await say(hearth, "/deletefamily confirm", chat="a", user="u2")
    assert await count(hearth, "facts", fam) == 1
