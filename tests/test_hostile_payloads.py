"""Deeply nested JSON in an update, a webhook body or an imported file: dropped or reported
after one log line, recorded as a dead letter `hearth logs` shows, never retried forever."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.platforms.zalo.client import ZaloApiError, ZaloClient
from tests.servers.raw_http import RawHTTPServer, ok
from tests.servers.telegram_api import FakeTelegram
from tests.servers.zalo_api import ZaloApiServer
from tests.support.telegram import start_telegram
from tests.support.zalo_webhook import SECRET, SECRET_HEADER, zalo_webhook
from tests.test_hostile_cli import run_hearth
from tests.test_hostile_pipeline import GENERIC_APOLOGY


def _nested_replies(depth: int) -> dict[str, Any]:
    """A message quoting a message quoting a message… `depth` times (PTB gives up at ~900)."""
    chat = {"id": 501, "type": "private", "first_name": "Lan"}
    message: dict[str, Any] = {"message_id": 1, "date": 0, "chat": chat}
    for n in range(depth):
        message = {"message_id": n + 2, "date": 0, "chat": chat, "reply_to_message": message}
    message.update(text="hello", **{"from": {"id": 501, "is_bot": False, "first_name": "Lan"}})
    return message


async def test_item_i_a_deeply_nested_telegram_update_is_dropped_and_polling_goes_on(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Item I: python-telegram-bot cannot read an update nested 900 deep and asked for it
    again forever, so nothing after it was ever answered. Now it is dropped after one log
    line, the next message is answered, and `hearth logs` counts the dead letter."""
    caplog.set_level(logging.WARNING)
    running = await start_telegram(tmp_path, telegram_api, TELEGRAM_RATE_LIMIT="off")
    fake = running.fake
    try:
        await fake.until(lambda: bool(fake.sent("getUpdates")))
        deep = fake.push_update({"message": _nested_replies(900)})
        fake.push_message(501, "cá kho thế nào?", user_id=501)
        texts = await running.bot_texts(501, 2)
        assert len(texts) == 2
        dropped = [r for r in caplog.records if "nested too deeply" in r.getMessage()]
        assert len(dropped) == 1, [r.getMessage()[:200] for r in caplog.records]
        assert dropped[0].exc_info is None
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        # the next poll asks for what comes after it: the update is never read again
        await fake.until(
            lambda: int(fake.sent("getUpdates")[-1].params.get("offset", 0)) > deep["update_id"]
        )
    finally:
        await running.close()
    listed = run_hearth(tmp_path, ["logs", "--dropped", "--json"])
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["platform"], r["reason"]) for r in rows] == [("telegram", "nested too deeply")]
    summary = run_hearth(tmp_path, ["logs"])
    assert b"1 unreadable update" in summary.stdout, summary.stdout


async def test_item_i_a_deeply_nested_import_is_reported_not_apologised_for(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str]
) -> None:
    """Item I: `/kb import` of a .json whose record is nested 100,000 deep raised
    RecursionError: the generic apology, and the message retried at every restart. Now the
    record is reported by its place, the good one imported, the message answered."""
    running = await start_telegram(tmp_path, telegram_api, TELEGRAM_RATE_LIMIT="off")
    fake = running.fake
    deep = "[" * 100_000 + "]" * 100_000
    good = json.dumps({"title": "Canh chua", "body": "Me, cà chua, thơm."}, ensure_ascii=False)
    try:
        fake.push_message(
            501,
            "/kb import",
            user_id=501,
            document=("deep.json", f"[{good}, {deep}]".encode(), "application/json"),
        )
        await running.bot_texts(501, 2)
        fake.push_message(
            501,
            "/kb import",
            user_id=501,
            document=("deep.jsonl", f"{deep}\n{good}\n".encode(), "application/json"),
        )
        texts = await running.bot_texts(501, 3)
        assert not any(a in t for t in texts for a in GENERIC_APOLOGY), texts
        assert "mục số 1" in texts[1] and "lồng" in texts[1], texts[1]
        assert "dòng 1" in texts[2], texts[2]
        await running.wait_rows(
            "SELECT status, attempts FROM messages WHERE role = 'user'",
            expect=[{"status": "answered", "attempts": 0}] * 2,
        )
        assert await running.rows("SELECT count(*) AS n FROM entries WHERE family_id IS NOT NULL")
    finally:
        await running.close()


async def test_item_i_a_deeply_nested_zalo_webhook_body_gets_400_and_one_line(
    tmp_path: Path, zalo_api: ZaloApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Item I: a Zalo webhook body nested 100,000 deep answered 500 with a traceback."""
    caplog.set_level(logging.WARNING)
    async with zalo_webhook(tmp_path, zalo_api) as hook:
        body = b'{"message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        async with httpx.AsyncClient() as http:
            reply = await http.post(hook.url, content=body, headers={SECRET_HEADER: SECRET})
        assert reply.status_code == 400
        rows = await hook.app.services.db.fetchall("SELECT platform, reason FROM dead_letters")
        assert [tuple(r) for r in rows] == [("zalo", "nested too deeply")]
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and lines[0].exc_info is None, [r.getMessage() for r in lines]
    assert "nested too deeply" in lines[0].getMessage()


async def test_item_i_a_deeply_nested_zalo_poll_reply_is_an_api_error_not_a_crash() -> None:
    """Item I: a getUpdates reply nested 100,000 deep raised RecursionError out of the
    polling loop (stopping Zalo); now it is a ZaloApiError, which polling logs and waits out,
    and the next update is read."""
    deep = b'{"ok": true, "result": {"message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    fine = json.dumps({"ok": True, "result": {"event_name": "x", "message": {}}}).encode()
    async with RawHTTPServer() as server:
        server.script(ok(deep, "Content-Type: application/json"), ok(fine))
        client = ZaloClient("1:abcdefghij", f"{server.url}/bot")
        try:
            with pytest.raises(ZaloApiError, match="nested too deeply"):
                await client.get_updates(1)
            assert await client.get_updates(1) == {"event_name": "x", "message": {}}
        finally:
            await client.aclose()
