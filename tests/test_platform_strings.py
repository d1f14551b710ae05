"""Every string a platform hands over is cleaned: names, chat titles, captions, file names."""

from __future__ import annotations

import json
from pathlib import Path

from bot.app import Hearth
from bot.core.types import Attachment, CallbackEvent
from tests.servers.telegram_api import FakeTelegram
from tests.support import RecordingOutbox, msg
from tests.support.telegram import start_telegram
from tests.test_hostile_pipeline import GENERIC_APOLOGY

HOSTILE_NAME = "Lan\ud800\x00\x07\x1b[2J\u202eờ"  # lone surrogate, NUL, BEL, ESC, RTL override
CONTROLS = {chr(c) for c in range(32)} | {"\x7f", "\u202e"}


def _clean(value: str) -> bool:
    return not (set(value) & CONTROLS) and "\ud800" not in value


def _apologised(texts: list[str]) -> bool:
    return any(a in t for t in texts for a in GENERIC_APOLOGY)


async def test_item_j_a_hostile_telegram_name_never_locks_the_person_out(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str]
) -> None:
    """Item J: a display name with a lone surrogate and control characters, through the real
    Application: both of the person's messages are answered and the stored name is clean."""
    running = await start_telegram(tmp_path, telegram_api, TELEGRAM_RATE_LIMIT="off")
    fake = running.fake
    try:
        fake.push_message(501, "cá kho thế nào?", user_id=501, first_name=HOSTILE_NAME)
        first = await running.bot_texts(501, 2)
        fake.push_message(501, "/help", user_id=501, first_name=HOSTILE_NAME)
        texts = await running.bot_texts(501, 3)
        assert not _apologised(texts), texts
        assert len(first) == 2
        rows = await running.rows("SELECT display_name FROM members")
        assert len(rows) == 1
        name = rows[0]["display_name"]
        assert _clean(name) and name.startswith("Lan"), repr(name)
    finally:
        await running.close()


async def test_item_j_titles_file_names_and_button_presses_are_cleaned(hearth: Hearth) -> None:
    """Item J: a group title, a document's file name and a button presser's name with lone
    surrogates and control characters are stored clean and never fail the message."""
    outbox = RecordingOutbox()
    await hearth.pipeline.handle(
        msg(
            "/help",
            chat="-77",
            kind="group",
            user_name=HOSTILE_NAME,
            chat_title="Nhà\ud83d\x1b]0;pwned\x07",
            is_chat_admin=True,
        ),
        outbox,
    )
    data = json.dumps([{"title": "Canh chua", "body": "Me, cà chua, thơm."}]).encode()

    async def fetch() -> bytes:
        return data

    attachment = Attachment("document", "kb\udc80\x00\n.json", "application/json\x00", fetch)
    await hearth.pipeline.handle(
        msg("/kb import", chat="-77", kind="group", is_chat_admin=True, attachment=attachment),
        outbox,
    )
    assert not _apologised(outbox.texts), outbox.texts
    assert any("1" in t for t in outbox.texts[-1:]), outbox.texts
    db = hearth.services.db
    title = await db.scalar("SELECT title FROM families WHERE chat_id = '-77'")
    assert title is not None and _clean(title) and title.startswith("Nhà"), repr(title)
    payloads = await db.fetchall("SELECT payload FROM messages WHERE role = 'user'")
    for row in payloads:
        stored = json.loads(row["payload"])
        assert _clean(stored["user_name"])
        if stored.get("attachment"):
            assert _clean(stored["attachment"]["file_name"])
    toast = await hearth.pipeline.handle_callback(
        CallbackEvent("console", "-77", "u9", "fb:1:up", user_name=HOSTILE_NAME, chat_kind="group")
    )
    assert "failed" not in toast and "lỗi" not in toast, toast
    names = [r["display_name"] for r in await db.fetchall("SELECT display_name FROM members")]
    assert names and all(_clean(n) for n in names), names
