"""run_zalo in-process, with the real pipeline on a SQLite file, against the loopback
Zalo Bot API: long polling, webhook mode, duplicates, 429s, groups, resume, stop."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import Hearth, build
from bot.core.config import Settings
from bot.core.errors import ConfigError
from bot.core.types import Reply
from bot.platforms.zalo import run_zalo
from tests.servers.zalo_api import ZaloApiServer
from tests.support.net import free_port
from tests.support.zalo import ZaloRun as Running
from tests.support.zalo import serve_zalo, zalo_settings
from tests.support.zalo_webhook import zalo_webhook

FOOTER = "👍 /hay_{n} · 👎 /chuahay_{n} · 📌 /luu_{n}"


@pytest.fixture
async def app(tmp_path: Path, zalo_api: ZaloApiServer) -> AsyncIterator[Hearth]:
    hearth = await build(zalo_settings(tmp_path, zalo_api))
    yield hearth
    await hearth.aclose()


@pytest.fixture
async def running(app: Hearth, zalo_api: ZaloApiServer) -> AsyncIterator[Running]:
    run = serve_zalo(app, zalo_api)
    yield run
    await run.close()


async def test_private_question_is_greeted_then_answered_with_commands(running: Running) -> None:
    running.api.push_text("Tối nay nấu gì cho cả nhà?", chat_id="c1", display_name="Mẹ Lan")
    greeting, answer = await running.sent("c1", 2)
    assert "Hearth" in greeting
    assert answer.endswith("\n\n" + FOOTER.format(n=1))
    await running.statuses_become("c1", ["answered"])
    row = await running.app.services.db.fetchone(
        "SELECT display_name, role FROM members m JOIN families f ON f.id = m.family_id"
        " WHERE f.platform = 'zalo' AND f.chat_id = ?",
        ("c1",),
    )
    assert row is not None and (row["display_name"], row["role"]) == ("Mẹ Lan", "admin")


async def test_duplicate_update_is_answered_once(running: Running) -> None:
    update = running.api.make_update("Hỏi một lần thôi", chat_id="c2")
    running.api.push(update)
    running.api.push(json.loads(json.dumps(update)))
    await running.sent("c2", 2)
    running.api.push_text("câu sau", chat_id="c2")
    texts = await running.sent("c2", 3)
    await asyncio.sleep(0.3)
    assert len(running.api.sent_to("c2")) == 3
    assert texts[2].endswith(FOOTER.format(n=2))
    await running.statuses_become("c2", ["answered", "answered"])


async def test_feedback_command_is_logged_as_a_return(running: Running) -> None:
    running.api.push_text("Làm bánh gì?", chat_id="c3")
    await running.sent("c3", 2)
    running.api.push_text("/hay_1", chat_id="c3")
    running.api.push_text("/luu_1", chat_id="c3")
    texts = await running.sent("c3", 4)
    assert "👍" in texts[2] and "/saved" in texts[3]
    count = await running.app.services.db.scalar(
        "SELECT COUNT(*) FROM returns r JOIN families f ON f.id = r.family_id"
        " WHERE f.platform = 'zalo' AND f.chat_id = ?",
        ("c3",),
    )
    assert count == 2


async def test_429_on_getupdates_and_sendmessage_is_waited_out(running: Running) -> None:
    running.api.fail_next("getUpdates", 429, times=2)
    running.api.fail_next("sendMessage", 429, times=1)
    running.api.push_text("vẫn trả lời chứ?", chat_id="c4")
    texts = await running.sent("c4", 2, timeout_s=10)
    assert texts[1].endswith(FOOTER.format(n=1))
    assert len(running.api.calls_of("sendMessage")) == 3
    assert not running.task.done()


async def test_group_messages_and_unreadable_ones(running: Running) -> None:
    api = running.api
    api.push_text("chuyện nhà thôi", chat_id="g1", user_id="u1", chat_type="GROUP")
    await running.sent("g1", 0)
    api.push_text("@Hearth mai ăn gì?", chat_id="g1", user_id="u2", chat_type="GROUP")
    await running.sent("g1", 2)  # greeting and answer
    api.push_text("/help@Hearth", chat_id="g1", user_id="u3", chat_type="GROUP")
    await running.sent("g1", 3)
    api.push(api.make_update(None, chat_id="c7", sticker="0e078a2fb66a5f34067b"))
    api.push(api.make_update(None, chat_id="g1", chat_type="GROUP", sticker="abc"))
    (note,) = await running.sent("c7", 1)
    assert "chữ" in note and "text" in note
    await asyncio.sleep(0.3)
    assert len(api.sent_to("g1")) == 3  # no note in a group, nothing for the chatter
    await running.statuses_become("g1", ["ignored", "answered", "answered"])
    roles = await running.app.services.db.fetchall(
        "SELECT m.user_id, m.role FROM members m JOIN families f ON f.id = m.family_id"
        " WHERE f.platform = 'zalo' AND f.chat_id = ? ORDER BY m.user_id",
        ("g1",),
    )
    assert [(r["user_id"], r["role"]) for r in roles] == [
        ("u1", "member"),
        ("u2", "member"),
        ("u3", "member"),
    ]


async def test_pending_messages_are_answered_at_start(app: Hearth, zalo_api: ZaloApiServer) -> None:
    class Broken:
        wants_preview = False

        async def typing(self) -> None:
            return None

        async def preview(self, text: str) -> None:
            return None

        async def send(self, reply: Reply) -> list[str]:
            raise ConnectionError("messenger down")

        async def close(self) -> None:
            return None

    from bot.platforms.zalo.updates import BotIdentity, parse_update

    update = zalo_api.make_update("Câu hỏi lúc mất mạng", chat_id="c9")

    async def no_fetch(url: str) -> bytes:
        return b""

    parsed = parse_update(update, BotIdentity(), no_fetch)
    assert parsed is not None and parsed.incoming is not None
    await app.pipeline.handle(parsed.incoming, Broken())
    stop = asyncio.Event()
    task = asyncio.create_task(run_zalo(app, app.settings, stop))
    try:
        texts = [m["text"] for m in await asyncio.to_thread(zalo_api.wait_for_sent, "c9", 2, 5)]
        assert texts[1].endswith(FOOTER.format(n=1))
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_stop_event_ends_a_pending_long_poll_promptly(
    app: Hearth, zalo_api: ZaloApiServer
) -> None:
    zalo_api.state.long_poll_cap_s = 30.0
    stop = asyncio.Event()
    task = asyncio.create_task(run_zalo(app, app.settings, stop))
    await asyncio.to_thread(zalo_api.wait_for_call, "getUpdates", 1, 5)
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, 5)
    assert time.monotonic() - started < 1.0


async def test_a_leftover_webhook_is_removed_before_polling(running: Running) -> None:
    api = running.api
    # set after start: the adapter only checks at start, so restart it
    running.stop.set()
    await asyncio.wait_for(running.task, 5)
    api.state.webhook_url, api.state.webhook_secret = "https://old.example.org/h", "old-secret"
    stop = asyncio.Event()
    task = asyncio.create_task(run_zalo(running.app, running.app.settings, stop))
    try:
        await asyncio.to_thread(api.wait_for_call, "getUpdates", 1, 5)
        assert api.state.webhook_url == ""
        api.push_text("Hôm nay ăn gì?", chat_id="c6")
        await asyncio.to_thread(api.wait_for_sent, "c6", 2, 5)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_a_refused_token_is_a_config_error(app: Hearth, zalo_api: ZaloApiServer) -> None:
    settings = Settings(zalo_token="999:not-the-token", zalo_api_base_url=zalo_api.base_url)
    with pytest.raises(ConfigError, match="ZALO_BOT_TOKEN"):
        await run_zalo(app, settings, asyncio.Event())


@pytest.mark.parametrize("wrapped", [True, False])
async def test_webhook_mode(tmp_path: Path, zalo_api: ZaloApiServer, wrapped: bool) -> None:
    zalo_api.state.webhook_wrapped = wrapped
    async with zalo_webhook(tmp_path, zalo_api, secret="family-secret-123") as hook:
        assert zalo_api.state.webhook_secret == "family-secret-123"
        update = zalo_api.make_update("qua webhook", chat_id="w1")
        await asyncio.to_thread(zalo_api.push, update)
        await asyncio.to_thread(zalo_api.push, update)  # redelivered: answered once
        sent = await asyncio.to_thread(zalo_api.wait_for_sent, "w1", 2, 5)
        assert sent[1]["text"].endswith(FOOTER.format(n=1))
        assert [s for s, _ in zalo_api.state.webhook_deliveries] == [200, 200]
        async with httpx.AsyncClient() as http:
            for headers in ({"X-Bot-Api-Secret-Token": "family-secret-12"}, {}):
                bad = await http.post(
                    hook.url, json={"message": update["message"]}, headers=headers
                )
                assert bad.status_code == 403
            junk = await http.post(
                hook.url,
                content=b"{not json",
                headers={"X-Bot-Api-Secret-Token": "family-secret-123"},
            )
            assert junk.status_code == 400
        await asyncio.sleep(0.2)
        assert len(zalo_api.sent_to("w1")) == 2
        assert zalo_api.calls_of("getUpdates") == []


async def test_webhook_without_secret_is_refused(app: Hearth, zalo_api: ZaloApiServer) -> None:
    settings = Settings(
        zalo_token=zalo_api.token,
        zalo_api_base_url=zalo_api.base_url,
        zalo_webhook_url="https://bot.example.org/zalo",
    )
    with pytest.raises(ConfigError, match="ZALO_WEBHOOK_SECRET"):
        await run_zalo(app, settings, asyncio.Event())


async def test_zalo_unreachable_at_start_is_waited_out_until_stop(app: Hearth) -> None:
    dead = f"http://127.0.0.1:{free_port()}/bot"  # nobody listens there
    settings = Settings(zalo_token="1:abcdefghij", zalo_api_base_url=dead)
    stop = asyncio.Event()
    task = asyncio.create_task(run_zalo(app, settings, stop, backoff_s=0.01))
    await asyncio.sleep(0.3)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_an_empty_answer_that_did_not_wait_is_not_spun_on(
    app: Hearth, zalo_api: ZaloApiServer
) -> None:
    zalo_api.state.long_poll_cap_s = 0.0  # 408 at once, as a misbehaving proxy might
    stop = asyncio.Event()
    task = asyncio.create_task(run_zalo(app, app.settings, stop))
    await asyncio.sleep(1.5)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert 1 <= len(zalo_api.calls_of("getUpdates")) <= 3
