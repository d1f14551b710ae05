"""ZaloOutbox against the loopback Zalo Bot API: whole answers in parts, typing, documents."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.core.types import Button, Reply
from bot.platforms.zalo.client import ZaloApiError, ZaloClient
from bot.platforms.zalo.outbox import ZaloOutbox
from tests.servers.zalo_api import ZaloApiServer

FEEDBACK = (
    Button("👍", "fb:up:9", "/hay_9"),
    Button("👎", "fb:down:9", "/chuahay_9"),
    Button("📌", "fb:save:9", "/luu_9"),
)
PARAGRAPH = "Rửa sạch cá, ướp nước mắm và tiêu trong hai mươi phút rồi kho lửa nhỏ. "


@pytest.fixture
async def client(zalo_api: ZaloApiServer) -> AsyncIterator[ZaloClient]:
    c = ZaloClient(zalo_api.token, zalo_api.base_url, backoff_s=0.01)
    yield c
    await c.aclose()


async def test_4500_character_answer_arrives_whole_in_three_messages(
    client: ZaloClient, zalo_api: ZaloApiServer
) -> None:
    long_answer = "\n\n".join([(PARAGRAPH * 4).strip()] * 16)[:4500].rstrip()
    assert len(long_answer) == 4500
    outbox = ZaloOutbox(client, "c3")
    assert outbox.wants_preview is False
    ids = await outbox.send(Reply(text=long_answer, buttons=FEEDBACK, answer_id=9))
    sent = zalo_api.sent_to("c3")
    assert ids == [m["message_id"] for m in sent]
    texts = [m["text"] for m in sent]
    assert len(texts) == 3
    assert all(len(t) <= 2000 for t in texts)
    assert texts[-1].endswith("\n\n👍 /hay_9 · 👎 /chuahay_9 · 📌 /luu_9")
    body = "\n\n".join(texts).removesuffix("👍 /hay_9 · 👎 /chuahay_9 · 📌 /luu_9")
    assert body.split() == long_answer.split()
    assert all(t.rstrip().endswith((".", "/luu_9")) for t in texts)  # cut between sentences


async def test_typing_repeats_while_waiting_and_stops_with_the_answer(
    client: ZaloClient, zalo_api: ZaloApiServer
) -> None:
    outbox = ZaloOutbox(client, "c5", typing_every_s=0.1)
    await outbox.typing()
    assert len(zalo_api.calls_of("sendChatAction")) == 1  # shown at once
    await outbox.typing()  # a second call does not start a second loop
    await asyncio.sleep(0.45)
    await outbox.send(Reply(text="Xong rồi"))
    n = len(zalo_api.calls_of("sendChatAction"))
    assert 4 <= n <= 6
    await asyncio.sleep(0.3)
    assert len(zalo_api.calls_of("sendChatAction")) == n
    assert zalo_api.calls_of("sendChatAction")[0] == {"chat_id": "c5", "action": "typing"}


async def test_failed_typing_never_blocks_the_answer(
    client: ZaloClient, zalo_api: ZaloApiServer
) -> None:
    zalo_api.fail_next("sendChatAction", 403, times=5, description="Forbidden")
    outbox = ZaloOutbox(client, "c6")
    await outbox.typing()
    assert await outbox.send(Reply(text="vẫn gửi được"))
    await outbox.close()


async def test_send_raises_when_zalo_refuses(client: ZaloClient, zalo_api: ZaloApiServer) -> None:
    zalo_api.fail_next("sendMessage", 403, description="Forbidden: user blocked the bot")
    with pytest.raises(ZaloApiError):
        await ZaloOutbox(client, "c7").send(Reply(text="alo"))


async def test_export_document_as_text_or_a_note(
    client: ZaloClient, zalo_api: ZaloApiServer
) -> None:
    outbox = ZaloOutbox(client, "c8")
    small = "title,body\nPhở,Nấu nước dùng 8 tiếng\n".encode()
    await outbox.send(Reply(text="Bản xuất kho kiến thức:", document=("kb.csv", small)))
    big = ("x" * 7000).encode()
    await outbox.send(Reply(text="", document=("family.json", big)))
    texts = [m["text"] for m in zalo_api.sent_to("c8")]
    assert texts[0] == "Bản xuất kho kiến thức:"
    assert texts[1].startswith("📄 kb.csv") and "Phở,Nấu nước dùng 8 tiếng" in texts[1]
    assert len(texts) == 3 and "hearth kb export" in texts[2]
