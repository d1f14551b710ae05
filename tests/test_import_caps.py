"""Caps on imports: rows, bytes and entry size per import, entries per family — configurable,
with a clear message of what was kept."""

from __future__ import annotations

import json
from pathlib import Path

from tests.servers.telegram_api import FakeTelegram
from tests.support.telegram import TelegramRun, start_telegram
from tests.test_hostile_cli import run_hearth

CAPS = {
    "HEARTH_IMPORT_MAX_ROWS": "500",
    "HEARTH_FAMILY_MAX_ENTRIES": "300",
    "HEARTH_IMPORT_MAX_ENTRY_CHARS": "100",
    "HEARTH_IMPORT_MAX_BYTES": "60000",
}


def _csv(rows: int, *, long_body_at: int | None = None) -> bytes:
    lines = ["title,body"]
    for n in range(rows):
        body = "x" * 500 if n == long_body_at else f"b{n}"
        lines.append(f"t{n},{body}")
    return ("\n".join(lines) + "\n").encode()


async def _entries(running: TelegramRun) -> int:
    rows = await running.rows("SELECT count(*) AS n FROM entries WHERE family_id IS NOT NULL")
    return int(rows[0]["n"])


async def test_item_g_chat_import_keeps_what_the_caps_allow_and_says_so(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str]
) -> None:
    """Item G: a 2,000-row CSV with caps of 500 rows per import and 300 entries per family
    keeps 300 entries and says why the rest was left out; a body over the entry cap is
    reported by its line; a file over the byte cap is refused before it is read."""
    running = await start_telegram(tmp_path, telegram_api, 10.0, TELEGRAM_RATE_LIMIT="off", **CAPS)
    fake = running.fake
    try:
        fake.push_message(
            501,
            "/kb import",
            user_id=501,
            language_code="en",
            document=("big.csv", _csv(2000, long_body_at=3), "text/csv"),
        )
        texts = await running.bot_texts(501, 2, seconds=60)
        reply = texts[-1]
        assert "Imported 300 entries" in reply, reply
        assert "2000 rows" in reply and "first 500" in reply, reply
        assert "at most 300 entries" in reply, reply
        assert "line 5: body longer than 100 characters" in reply, reply
        assert await _entries(running) == 300

        fake.push_message(
            501,
            "/kb import",
            user_id=501,
            language_code="en",
            document=("huge.csv", _csv(8000), "text/csv"),
        )
        texts = await running.bot_texts(501, 3)
        assert "too large" in texts[-1] and "60000" in texts[-1], texts[-1]
        assert await _entries(running) == 300
    finally:
        await running.close()


def test_item_g_cli_import_caps_rows_and_exits_2(tmp_path: Path) -> None:
    """Item G: `hearth kb import` obeys the same caps (a maintainer raises them in the
    environment); what was left out is named and the exit code is 2."""
    path = tmp_path / "many.jsonl"
    path.write_text(
        "".join(json.dumps({"title": f"t{n}", "body": f"b{n}"}) + "\n" for n in range(120)),
        encoding="utf-8",
    )
    proc = run_hearth(
        tmp_path,
        ["kb", "import", str(path), "--family", "telegram:-100777"],
        HEARTH_IMPORT_MAX_ROWS="50",
        HEARTH_FAMILY_MAX_ENTRIES="40",
    )
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == 2, (out, err)
    assert "imported 40 entries" in out, out
    assert "120 rows" in err and "first 50" in err and "HEARTH_IMPORT_MAX_ROWS" in err, err
    assert "HEARTH_FAMILY_MAX_ENTRIES" in err, err
    assert "Traceback" not in err
