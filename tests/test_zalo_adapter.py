"""run_zalo in-process against the loopback Zalo Bot API: polling, webhook, rendering.

The pipeline here is a small recording stand-in with the pipeline's contract (store
first, ignore a seen message id, reply through the outbox); the end-to-end tests in
test_zalo_e2e.py drive the real `hearth run` process instead.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from bot.core.config import Settings
from bot.core.errors import ConfigError
from bot.core.types import Button, Incoming, Outbox, Reply
from bot.platforms.zalo import run_zalo
from tests.servers.zalo_api import ZaloApiServer, running_zalo_api


def feedback(answer_id: int) -> tuple[Button, ...]:
    return (
        Button("👍", f"fb:up:{answer_id}", f"/hay_{answer_id}"),
        Button("👎", f"fb:down:{answer_id}", f"/chuahay_{answer_id}"),
        Button("📌", f"fb:save:{answer_id}", f"/luu_{answer_id}"),
    )


@dataclass
class RecordingPipeline:
    """Stand-in with the pipeline's contract: store first, seen ids ignored, reply via outbox."""

    answer: Callable[[Incoming], Reply] = lambda inc: Reply(
        text=f"Trả lời: {inc.text}", buttons=feedback(7), answer_id=7
    )
    delay_s: float = 0.0
    seen: set[tuple[str, str, str]] = field(default_factory=set)
    handled: list[Incoming] = field(default_factory=list)
    sent_ids: list[list[str]] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    wants_preview: list[bool] = field(default_factory=list)
    calls: int = 0

    async def handle(self, incoming: Incoming, outbox: Outbox) -> None:
        self.calls += 1
        key = (incoming.platform, incoming.chat_id, incoming.message_id)
        if key in self.seen:
            return
        self.seen.add(key)
        self.handled.append(incoming)
        self.wants_preview.append(outbox.wants_preview)
        if not incoming.addressed:
            return
        await outbox.typing()
        await asyncio.sleep(self.delay_s)
        self.sent_ids.append(await outbox.send(self.answer(incoming)))

    async def resume_pending(self, platform: str, outbox_for: Callable[[str], Outbox]) -> None:
        self.resumed.append(platform)
        await outbox_for("chat-resume").send(Reply(text="Xin lỗi, trả lời muộn: ..."))


@dataclass
class FakeApp:
    pipeline: RecordingPipeline


@pytest.fixture
def zalo_api() -> Iterator[ZaloApiServer]:
    with running_zalo_api(long_poll_cap_s=0.2) as api:
        yield api


@dataclass
class Running:
    api: ZaloApiServer
    pipeline: RecordingPipeline
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def sent(self, chat_id: str, count: int, timeout_s: float = 5.0) -> list[str]:
        messages = await asyncio.to_thread(self.api.wait_for_sent, chat_id, count, timeout_s)
        return [m["text"] for m in messages]


async def eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def settings_for(api: ZaloApiServer, **extra: object) -> Settings:
    return Settings(zalo_token=api.token, zalo_api_base_url=api.base_url, **extra)  # type: ignore[arg-type]


@pytest.fixture
async def running(zalo_api: ZaloApiServer) -> AsyncIterator[Running]:
    pipeline = RecordingPipeline()
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_zalo(FakeApp(pipeline), settings_for(zalo_api), stop, backoff_s=0.05)
    )
    yield Running(zalo_api, pipeline, stop, task)
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_private_question_is_answered_with_feedback_commands(running: Running) -> None:
    update = running.api.push_text("Tối nay nấu gì cho cả nhà?", chat_id="c1",
                                   display_name="Mẹ Lan")
    (text,) = await running.sent("c1", 1)
    assert text == "Trả lời: Tối nay nấu gì cho cả nhà?\n\n👍 /hay_7 · 👎 /chuahay_7 · 📌 /luu_7"
    (incoming,) = running.pipeline.handled
    assert incoming.platform == "zalo"
    assert incoming.chat_id == "c1" and incoming.user_id == "c1"
    assert incoming.message_id == update["message"]["message_id"]
    assert incoming.chat_kind == "private" and incoming.addressed and incoming.is_chat_admin
    assert incoming.user_name == "Mẹ Lan"
    assert running.pipeline.wants_preview == [False]
    await eventually(lambda: bool(running.pipeline.sent_ids))
    assert running.pipeline.sent_ids[0] == [running.api.sent_to("c1")[0]["message_id"]]
    assert running.api.calls_of("sendChatAction")[0] == {"chat_id": "c1", "action": "typing"}
    assert running.pipeline.resumed == ["zalo"]
    assert await running.sent("chat-resume", 1) == ["Xin lỗi, trả lời muộn: ..."]


async def test_duplicate_update_is_answered_once(running: Running) -> None:
    update = running.api.make_update("Hỏi một lần thôi", chat_id="c2")
    running.api.push(update)
    running.api.push(json.loads(json.dumps(update)))
    running.api.push_text("câu sau", chat_id="c2")
    texts = await running.sent("c2", 2)
    assert texts[0].startswith("Trả lời: Hỏi một lần thôi")
    assert texts[1].startswith("Trả lời: câu sau")
    await asyncio.sleep(0.3)
    assert len(running.api.sent_to("c2")) == 2
    assert [i.text for i in running.pipeline.handled] == ["Hỏi một lần thôi", "câu sau"]
    assert running.pipeline.calls == 2  # the adapter already dropped the repeat


async def test_4500_character_answer_arrives_whole_in_three_messages(running: Running) -> None:
    paragraph = "Rửa sạch cá, ướp nước mắm và tiêu trong hai mươi phút rồi kho lửa nhỏ. "
    long_answer = "\n\n".join([(paragraph * 4).strip()] * 16)[:4500].rstrip()
    running.pipeline.answer = lambda inc: Reply(text=long_answer, buttons=feedback(9))
    running.api.push_text("Cách kho cá?", chat_id="c3")
    texts = await running.sent("c3", 3)
    await asyncio.sleep(0.3)
    texts = [m["text"] for m in running.api.sent_to("c3")]
    assert len(texts) == 3
    assert all(len(t) <= 2000 for t in texts)
    body = "\n\n".join(texts).removesuffix("👍 /hay_9 · 👎 /chuahay_9 · 📌 /luu_9").strip()
    assert body.split() == long_answer.split()
    assert texts[-1].endswith("📌 /luu_9")


async def test_429_on_getupdates_and_sendmessage_is_waited_out(running: Running) -> None:
    running.api.fail_next("getUpdates", 429, times=2)
    running.api.fail_next("sendMessage", 429, times=1)
    running.api.push_text("vẫn trả lời chứ?", chat_id="c4")
    (text,) = await running.sent("c4", 1, timeout_s=10)
    assert text.startswith("Trả lời: vẫn trả lời chứ?")
    assert not running.task.done()


async def test_typing_is_repeated_while_the_answer_is_slow(zalo_api: ZaloApiServer) -> None:
    pipeline = RecordingPipeline(delay_s=0.55)
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_zalo(FakeApp(pipeline), settings_for(zalo_api), stop, typing_every_s=0.1)
    )
    try:
        zalo_api.push_text("chậm thôi", chat_id="c5")
        await asyncio.to_thread(zalo_api.wait_for_sent, "c5", 1, 5)
        n = len(zalo_api.calls_of("sendChatAction"))
        await asyncio.sleep(0.3)
        assert 4 <= n <= 7
        assert len(zalo_api.calls_of("sendChatAction")) == n  # stopped once the answer went
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_stop_event_ends_a_pending_long_poll_promptly(zalo_api: ZaloApiServer) -> None:
    zalo_api.state.long_poll_cap_s = 30.0
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_zalo(FakeApp(RecordingPipeline()), settings_for(zalo_api), stop)
    )
    await asyncio.to_thread(zalo_api.wait_for_call, "getUpdates", 1, 5)
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, 5)
    assert time.monotonic() - started < 1.0


async def test_a_leftover_webhook_is_removed_before_polling(zalo_api: ZaloApiServer) -> None:
    zalo_api.state.webhook_url = "https://old.example.org/hook"
    zalo_api.state.webhook_secret = "old-secret-1"
    stop = asyncio.Event()
    pipeline = RecordingPipeline()
    task = asyncio.create_task(run_zalo(FakeApp(pipeline), settings_for(zalo_api), stop))
    try:
        await asyncio.to_thread(zalo_api.wait_for_call, "getUpdates", 1, 5)
        assert zalo_api.state.webhook_url == ""
        zalo_api.push_text("chào", chat_id="c6")
        await asyncio.to_thread(zalo_api.wait_for_sent, "c6", 1, 5)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_group_messages_and_unreadable_ones(running: Running) -> None:
    api = running.api
    api.push_text("chuyện nhà thôi", chat_id="g1", user_id="u1", chat_type="GROUP")
    api.push_text("@Hearth mai ăn gì?", chat_id="g1", user_id="u2", chat_type="GROUP")
    api.push_text("/kb@Hearth add Phở | nấu lâu", chat_id="g1", user_id="u3", chat_type="GROUP")
    api.push(api.make_update(None, chat_id="c7", sticker="0e078a2fb66a5f34067b"))
    api.push(api.make_update(None, chat_id="g1", chat_type="GROUP", sticker="abc"))
    texts = await running.sent("g1", 2)
    assert texts[0].startswith("Trả lời: mai ăn gì?")
    assert texts[1].startswith("Trả lời: /kb add Phở | nấu lâu")
    (note,) = await running.sent("c7", 1)
    assert "chữ" in note and "text" in note
    await asyncio.sleep(0.3)
    assert len(api.sent_to("g1")) == 2  # no note in a group, nothing for the chatter
    quiet, mention, command = running.pipeline.handled
    assert (quiet.addressed, mention.addressed, command.addressed) == (False, True, True)
    assert quiet.chat_kind == "group" and not quiet.is_chat_admin
    assert quiet.user_id == "u1" and quiet.chat_id == "g1"


async def test_a_refused_token_is_a_config_error(zalo_api: ZaloApiServer) -> None:
    settings = Settings(zalo_token="999:not-the-token", zalo_api_base_url=zalo_api.base_url)
    with pytest.raises(ConfigError, match="ZALO_BOT_TOKEN"):
        await run_zalo(FakeApp(RecordingPipeline()), settings, asyncio.Event())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("wrapped", [True, False])
async def test_webhook_mode(zalo_api: ZaloApiServer, wrapped: bool) -> None:
    zalo_api.state.webhook_wrapped = wrapped
    port = _free_port()
    url = f"http://127.0.0.1:{port}/zalo/hook"
    settings = settings_for(zalo_api, zalo_webhook_url=url,
                            zalo_webhook_secret="family-secret-123",
                            zalo_webhook_listen=f"127.0.0.1:{port}")
    pipeline = RecordingPipeline()
    stop = asyncio.Event()
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_zalo(FakeApp(pipeline), settings, stop, webhook_started=started)
    )
    try:
        assert await asyncio.wait_for(started, 5) == port
        assert zalo_api.state.webhook_secret == "family-secret-123"
        update = zalo_api.make_update("qua webhook", chat_id="w1")
        await asyncio.to_thread(zalo_api.push, update)
        await asyncio.to_thread(zalo_api.push, update)  # redelivered: answered once
        (text,) = await asyncio.to_thread(zalo_api.wait_for_sent, "w1", 1, 5)
        assert text["text"].startswith("Trả lời: qua webhook")
        assert [s for s, _ in zalo_api.state.webhook_deliveries] == [200, 200]
        async with httpx.AsyncClient() as http:
            for headers in ({"X-Bot-Api-Secret-Token": "family-secret-12"}, {}):
                bad = await http.post(url, json={"message": update["message"]}, headers=headers)
                assert bad.status_code == 403
            junk = await http.post(url, content=b"{not json",
                                   headers={"X-Bot-Api-Secret-Token": "family-secret-123"})
            assert junk.status_code == 400
        await asyncio.sleep(0.2)
        assert len(zalo_api.sent_to("w1")) == 1
        assert len(pipeline.handled) == 1
        assert zalo_api.calls_of("getUpdates") == []
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_webhook_without_secret_is_refused(zalo_api: ZaloApiServer) -> None:
    settings = settings_for(zalo_api, zalo_webhook_url="https://bot.example.org/zalo")
    with pytest.raises(ConfigError, match="ZALO_WEBHOOK_SECRET"):
        await run_zalo(FakeApp(RecordingPipeline()), settings, asyncio.Event())
