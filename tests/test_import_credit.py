"""Who an imported entry credits: the person importing in chat, the file's authors on the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from bot.report.usage import UsageLog
from tests.servers.telegram_api import FakeTelegram
from tests.support.telegram import start_telegram

FORGED = [
    {
        "title": "Canh chua cá lóc",
        "body": "Me chua, cà chua, thơm, giá.",
        "author": "Bà Nội",
        "author_platform": "telegram",
        "author_user_id": "999",
        "approved_by": "Ông Nội",
    }
]


async def test_item_e_chat_import_credits_the_importer_not_the_file(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str]
) -> None:
    """Item E: `/kb import` in chat ignores the file's author fields (kept only as a quoted
    source), so nobody can attribute entries to someone else."""
    running = await start_telegram(tmp_path, telegram_api, TELEGRAM_RATE_LIMIT="off")
    fake = running.fake
    try:
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in FORGED).encode()
        fake.push_message(
            501,
            "/kb import",
            user_id=501,
            first_name="Lan",
            document=("recipes.jsonl", data, "application/json"),
        )
        texts = await running.bot_texts(501, 2)
        assert "1" in texts[-1], texts
        rows = await running.rows(
            "SELECT author, author_platform, author_user_id, author_member_id, approved_by,"
            " source FROM entries WHERE title = 'Canh chua cá lóc'"
        )
        assert len(rows) == 1
        row = rows[0]
        assert (row["author"], row["author_platform"], row["author_user_id"]) == (
            "Lan",
            "telegram",
            "501",
        )
        assert row["author_member_id"] is not None
        assert row["approved_by"] is None
        assert '"Bà Nội"' in row["source"]  # the claim survives, quoted, crediting no one
        people = await UsageLog(running.hearth.services.db).contributor_credit()
        assert [p["key"] for p in people] == ["telegram:501"]
    finally:
        await running.close()


async def test_item_e_cli_import_keeps_the_file_authors(tmp_path: Path) -> None:
    """Item E: only the maintainer runs the CLI import, so it keeps the authors it is given."""
    from tests.kb_support import open_kb

    db, kb = await open_kb(tmp_path / "hearth.db")
    try:
        data = json.dumps(FORGED, ensure_ascii=False)
        report = await kb.import_file("recipes.json", data, None)
        assert len(report.imported) == 1
        row = await db.fetchone(
            "SELECT author, author_user_id, approved_by, source FROM entries WHERE id = ?",
            (report.imported[0],),
        )
        assert row is not None
        assert (row["author"], row["author_user_id"], row["approved_by"]) == (
            "Bà Nội",
            "999",
            "Ông Nội",
        )
        assert row["source"] == "import"
    finally:
        await db.close()
