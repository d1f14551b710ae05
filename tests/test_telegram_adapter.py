"""The real Application and the real pipeline against the loopback Bot API, in one loop."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypedDict

import pytest

from tests.servers.openai_server import TRANSCRIPTIONS, OpenAIServer, delay
from tests.servers.telegram_api import BOT_USERNAME, FakeTelegram
from tests.support.telegram import TelegramRun as Running
from tests.support.telegram import start_telegram

GROUP = -100200300
ADMIN = 2001
MEMBER = 2002


class ModelEnv(TypedDict):
    """The settings of a test that talks to the scripted model (passed to `start_telegram` as **env)."""

    TELEGRAM_RATE_LIMIT: str
    LLM_BASE_URL: str


@pytest.fixture
async def bot(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str]
) -> AsyncIterator[Running]:
    running = await start_telegram(tmp_path, telegram_api, TELEGRAM_RATE_LIMIT="off")
    await running.polling()
    try:
        yield running
    finally:
        await running.close()


async def test_private_question_gets_an_html_answer_with_feedback_buttons(bot: Running) -> None:
    bot.fake.push_message(501, "Làm cá kho thế nào ạ?")
    greeting, answer = await bot.bot_texts(501, 2)
    assert "Hearth" in greeting
    last = bot.fake.bot_messages(501)[-1]
    assert last.parse_mode == "HTML"
    buttons = last.reply_markup["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["👍", "👎", "📌"]
    assert all(b["callback_data"].startswith("fb:") for b in buttons)
    assert answer
    await bot.wait_rows(
        "SELECT text, status FROM messages WHERE role = 'user'",
        expect=[{"text": "Làm cá kho thế nào ạ?", "status": "answered"}],
    )


async def test_group_ignores_unmentioned_and_answers_mention(bot: Running) -> None:
    fake = bot.fake
    fake.push_message(GROUP, "Tối nay ăn gì cả nhà?", user_id=MEMBER)
    fake.push_message(GROUP, f"@{BOT_USERNAME} cá kho làm sao?", user_id=MEMBER)
    texts = await bot.bot_texts(GROUP, 2)
    await asyncio.sleep(0.3)
    assert len(fake.bot_messages(GROUP)) == 2, texts
    await bot.wait_rows(
        "SELECT text, status FROM messages WHERE role = 'user' ORDER BY id",
        expect=[
            {"text": "Tối nay ăn gì cả nhà?", "status": "ignored"},
            {"text": "cá kho làm sao?", "status": "answered"},  # without our own @mention
        ],
    )
    rows = await bot.rows("SELECT platform_message_id FROM messages ORDER BY id")
    # The answer replies to the question in the group.
    answer = fake.sent("sendMessage", GROUP)[-1]
    assert json.loads(answer.params["reply_parameters"])["message_id"] == int(
        rows[1]["platform_message_id"]
    )


async def test_commands_for_us_and_for_other_bots(bot: Running) -> None:
    fake = bot.fake
    fake.push_message(GROUP, "/help@other_bot", user_id=MEMBER)
    fake.push_message(GROUP, f"/help@{BOT_USERNAME}", user_id=MEMBER)
    texts = await bot.bot_texts(GROUP, 2)
    assert any("/remember" in t for t in texts)
    await asyncio.sleep(0.3)
    assert len(fake.bot_messages(GROUP)) == 2
    await bot.wait_rows(
        "SELECT text, status FROM messages WHERE role = 'user' ORDER BY id",
        expect=[
            {"text": "/help@other_bot", "status": "ignored"},
            {"text": "/help", "status": "answered"},
        ],
    )


async def test_chat_admins_come_from_get_chat_administrators(bot: Running) -> None:
    fake = bot.fake
    fake.set_admins(GROUP, [9999, ADMIN])
    fake.push_message(GROUP, f"/forget@{BOT_USERNAME} all", user_id=MEMBER)
    await bot.bot_texts(GROUP, 2)
    fake.push_message(GROUP, f"/forget@{BOT_USERNAME} all", user_id=ADMIN)
    texts = await bot.bot_texts(GROUP, 3)
    assert "admin" in texts[1].lower() or "quản trị" in texts[1]
    assert "quản trị" not in texts[2] and "admin" not in texts[2].lower()
    assert len(fake.sent("getChatAdministrators")) == 1  # cached
    roles = await bot.rows("SELECT user_id, role FROM members ORDER BY user_id")
    assert roles == [
        {"user_id": str(ADMIN), "role": "admin"},
        {"user_id": str(MEMBER), "role": "member"},
    ]


async def test_button_press_reply_and_reaction_are_returns(bot: Running) -> None:
    fake = bot.fake
    fake.push_message(502, "cá kho")
    await bot.bot_texts(502, 2)
    answer = fake.bot_messages(502)[-1]
    up = answer.reply_markup["inline_keyboard"][0][0]["callback_data"]
    query = fake.push_callback(502, answer.message_id, up)
    await fake.until(lambda: fake.answered(query))
    toast = fake.sent("answerCallbackQuery")[-1].params.get("text")
    assert toast
    fake.push_message(502, "Cảm ơn, ngon lắm!", reply_to=answer.message_id)
    fake.push_reaction(502, answer.message_id, "❤")
    await fake.until(lambda: len(fake.bot_messages(502)) >= 3)

    async def kinds() -> list[str]:
        return [r["kind"] for r in await bot.rows("SELECT kind FROM returns ORDER BY kind")]

    for _ in range(100):
        if len(await kinds()) >= 3:
            break
        await asyncio.sleep(0.05)
    assert await kinds() == ["helpful", "reaction", "reply"]


async def test_unknown_button_is_still_answered(bot: Running) -> None:
    query = bot.fake.push_callback(503, 1, "something:old")
    await bot.fake.until(lambda: bot.fake.answered(query))


async def test_commands_are_announced_per_scope_and_language(bot: Running) -> None:
    await bot.fake.until(lambda: len(bot.fake.commands) >= 6)
    commands = bot.fake.commands
    assert {k for k in commands} >= {
        ("all_private_chats", "vi"),
        ("all_private_chats", ""),
        ("all_group_chats", "vi"),
        ("all_group_chats", ""),
    }
    vi = {c["command"]: c["description"] for c in commands[("all_private_chats", "vi")]}
    en = {c["command"]: c["description"] for c in commands[("all_private_chats", "")]}
    assert "remember" in vi and vi["remember"] != en["remember"]


async def test_messages_of_one_chat_keep_their_order_while_chats_run_at_once(
    bot: Running,
) -> None:
    fake = bot.fake
    for i in range(15):
        for chat in (601, 602, 603):
            fake.push_message(chat, f"/remember điều số {i:02d}", user_id=chat)
    for chat in (601, 602, 603):
        await bot.bot_texts(chat, 16, seconds=20)
    for chat in (601, 602, 603):
        rows = await bot.rows(
            "SELECT m.text FROM messages m JOIN families f ON f.id = m.family_id "
            "WHERE f.chat_id = ? AND m.role = 'user' ORDER BY m.id",
            str(chat),
        )
        assert [r["text"] for r in rows] == [f"/remember điều số {i:02d}" for i in range(15)]


async def test_voice_without_a_model_gets_a_polite_answer(bot: Running) -> None:
    bot.fake.push_message(504, "", voice=b"OggS fake voice")
    texts = await bot.bot_texts(504, 2)
    assert "thoại" in texts[-1] or "voice" in texts[-1]


async def test_forum_topic_answers_stay_in_the_topic(bot: Running) -> None:
    bot.fake.push_message(GROUP, f"@{BOT_USERNAME} cá kho nấu sao?", user_id=MEMBER, thread_id=77)
    await bot.bot_texts(GROUP, 2)
    sends = bot.fake.sent("sendMessage", GROUP)
    assert all(int(c.params["message_thread_id"]) == 77 for c in sends)
    rows = await bot.rows("SELECT thread_id FROM messages WHERE role = 'user'")
    assert rows == [{"thread_id": "77"}]


async def test_webhook_mode_checks_the_secret(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str], unused_tcp_port: int
) -> None:
    port = unused_tcp_port
    running = await start_telegram(
        tmp_path,
        telegram_api,
        TELEGRAM_RATE_LIMIT="off",
        TELEGRAM_WEBHOOK_URL=f"https://hearth.example/tg/{port}",
        TELEGRAM_WEBHOOK_SECRET="s3cret-token",
        TELEGRAM_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
    )
    fake = running.fake
    try:
        await fake.until(lambda: bool(fake.webhook.get("url")) or running.task.done())
        assert fake.webhook["secret_token"] == "s3cret-token"
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 505, "type": "private", "first_name": "A"},
                "from": {"id": 505, "is_bot": False, "first_name": "A"},
                "text": "/help",
            },
        }

        def post(secret: str) -> int:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/tg/{port}",
                json.dumps(update).encode(),
                {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        for _ in range(100):  # setWebhook comes before the server listens
            try:
                status = await asyncio.to_thread(post, "wrong")
                break
            except urllib.error.URLError:
                await asyncio.sleep(0.05)
        assert status == 403
        assert await asyncio.to_thread(post, "s3cret-token") == 200
        await running.bot_texts(505, 1)
        assert not fake.sent("getUpdates")
    finally:
        await running.close()


async def test_stop_finishes_quick_answers_and_leaves_slow_ones_for_the_next_start(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str], openai_server: OpenAIServer
) -> None:
    fake = telegram_api[0]
    env: ModelEnv = {"TELEGRAM_RATE_LIMIT": "off", "LLM_BASE_URL": openai_server.base_url}
    running = await start_telegram(tmp_path, telegram_api, grace_s=1.0, **env)
    await fake.until(lambda: bool(fake.sent("getUpdates")))
    openai_server.script(delay(0.5))
    fake.push_message(801, "câu hỏi nhanh")
    await fake.until(lambda: len(openai_server.requests()) >= 1)
    openai_server.script(delay(30))
    fake.push_message(802, "câu hỏi chậm")
    await fake.until(lambda: len(openai_server.requests()) >= 2)
    await running.close()  # grace 1 s: the 0.5 s answer lands, the 30 s one not
    assert "câu hỏi nhanh" in fake.bot_messages(801)[-1].text
    assert len(fake.bot_messages(802)) == 1  # only the greeting
    status = (
        sqlite3.connect(tmp_path / "hearth.db")
        .execute("SELECT text, status FROM messages WHERE role = 'user' ORDER BY id")
        .fetchall()
    )
    assert sorted(status) == [("câu hỏi chậm", "pending"), ("câu hỏi nhanh", "answered")]

    running = await start_telegram(tmp_path, telegram_api, **env)
    try:
        await fake.until(lambda: "câu hỏi chậm" in fake.bot_messages(802)[-1].text, 15)
    finally:
        await running.close()


async def _voice_left_pending(
    tmp_path: Path,
    telegram_api: tuple[FakeTelegram, str, str],
    openai_server: OpenAIServer,
    chat_id: int,
) -> ModelEnv:
    """A voice note whose answer a stop interrupts: stored, transcribed once, pending."""
    fake = telegram_api[0]
    env: ModelEnv = {"TELEGRAM_RATE_LIMIT": "off", "LLM_BASE_URL": openai_server.base_url}
    running = await start_telegram(tmp_path, telegram_api, grace_s=0.5, **env)
    await fake.until(lambda: bool(fake.sent("getUpdates")))
    openai_server.script(delay(30))  # the answer outlives the stop
    fake.push_message(chat_id, "", voice=b"OggS\x00before-the-stop")
    await fake.until(lambda: len(openai_server.requests()) >= 1)
    await running.close()
    assert len(fake.sent("getFile")) == 1
    return env


async def test_a_voice_note_left_pending_by_a_stop_is_downloaded_again_at_the_next_start(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str], openai_server: OpenAIServer
) -> None:
    fake = telegram_api[0]
    openai_server.transcription = "mẹ hỏi cách muối dưa cải"
    env = await _voice_left_pending(tmp_path, telegram_api, openai_server, 803)

    running = await start_telegram(tmp_path, telegram_api, **env)
    try:
        await fake.until(lambda: "muối dưa cải" in fake.bot_messages(803)[-1].text, 15)
    finally:
        await running.close()
    assert len(fake.sent("getFile")) == 2  # fetched again by its file id
    assert len(openai_server.requests(TRANSCRIPTIONS)) == 2


async def test_a_voice_note_whose_file_is_gone_at_the_next_start_is_asked_for_again(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str], openai_server: OpenAIServer
) -> None:
    fake = telegram_api[0]
    env = await _voice_left_pending(tmp_path, telegram_api, openai_server, 804)
    with fake.lock:
        fake.files.clear()  # Telegram no longer knows the file id

    running = await start_telegram(tmp_path, telegram_api, **env)
    try:
        await fake.until(lambda: "gửi lại" in fake.bot_messages(804)[-1].text, 15)
    finally:
        await running.close()
    assert len(openai_server.requests(TRANSCRIPTIONS)) == 1  # nothing more to transcribe
    status = sqlite3.connect(tmp_path / "hearth.db").execute(
        "SELECT status FROM messages WHERE role = 'user'"  # its text is the transcript now
    )
    assert status.fetchall() == [("answered",)]  # told, not retried at every start


async def test_a_slow_answer_in_one_family_never_blocks_another(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str], openai_server: OpenAIServer
) -> None:
    fake = telegram_api[0]
    env: ModelEnv = {"TELEGRAM_RATE_LIMIT": "off", "LLM_BASE_URL": openai_server.base_url}
    running = await start_telegram(tmp_path, telegram_api, **env)
    try:
        await fake.until(lambda: bool(fake.sent("getUpdates")))
        openai_server.script(delay(3))
        fake.push_message(901, "câu hỏi khó")
        await fake.until(lambda: len(openai_server.requests()) >= 1)
        started = asyncio.get_running_loop().time()
        fake.push_message(902, "câu hỏi dễ")
        await fake.until(lambda: any("câu hỏi dễ" in m.text for m in fake.bot_messages(902)))
        assert asyncio.get_running_loop().time() - started < 2
        assert not any("câu hỏi khó" in m.text for m in fake.bot_messages(901))
        await fake.until(lambda: any("câu hỏi khó" in m.text for m in fake.bot_messages(901)))
    finally:
        await running.close()


async def test_anonymous_group_admins_are_admins(bot: Running) -> None:
    group = {"id": GROUP, "type": "supergroup", "title": "Nhà mình"}
    text = f"/forget@{BOT_USERNAME} all"
    bot.fake.push_update(
        {
            "message": {
                "message_id": 900,
                "date": 0,
                "chat": group,
                "sender_chat": group,
                "text": text,
                "from": {
                    "id": 1087968824,
                    "is_bot": True,
                    "first_name": "Group",
                    "username": "GroupAnonymousBot",
                },
                "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
            }
        }
    )
    texts = await bot.bot_texts(GROUP, 2)
    assert "quản trị" not in texts[-1] and "admin" not in texts[-1].lower()
    assert not bot.fake.sent("getChatAdministrators")


async def test_a_question_asks_for_no_admin_list_and_keeps_the_role(bot: Running) -> None:
    """Only a command may need the chat's admins: a question in a group makes no
    getChatAdministrators call (Telegram's budget is the answers') and leaves the member's
    role as the last command found it."""
    fake = bot.fake
    fake.set_admins(GROUP, [ADMIN])
    fake.push_message(GROUP, f"@{BOT_USERNAME} nấu cá kho thế nào?", user_id=ADMIN)
    await bot.bot_texts(GROUP, 2)  # the welcome, then the answer
    assert fake.sent("getChatAdministrators") == []
    assert await bot.rows("SELECT role FROM members") == [{"role": "member"}]
    fake.push_message(GROUP, f"/help@{BOT_USERNAME}", user_id=ADMIN)
    await bot.bot_texts(GROUP, 3)
    assert len(fake.sent("getChatAdministrators")) == 1
    fake.push_message(GROUP, f"@{BOT_USERNAME} còn thịt kho thì sao?", user_id=ADMIN)
    await bot.bot_texts(GROUP, 4)
    await bot.wait_rows("SELECT role FROM members", expect=[{"role": "admin"}])


async def test_order_holds_when_the_first_message_waits_for_an_admin_lookup(
    bot: Running,
) -> None:
    # The first message needs getChatAdministrators (slow); the second needs nothing and
    # would overtake it without the per-chat turns.
    bot.fake.slow_next("getChatAdministrators", 0.5)
    bot.fake.push_message(GROUP, f"/help@{BOT_USERNAME}", user_id=MEMBER)
    bot.fake.push_message(GROUP, "câu thứ hai", user_id=MEMBER)
    await bot.wait_rows(
        "SELECT text FROM messages WHERE role = 'user' ORDER BY id",
        expect=[{"text": "/help"}, {"text": "câu thứ hai"}],
    )
    assert len(bot.fake.sent("getChatAdministrators")) == 1


async def test_under_load_answers_come_whole_instead_of_streamed(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str], openai_server: OpenAIServer
) -> None:
    """More answers in the works than Pacing.typing_busy (32): no previews, so the model is
    asked for a plain completion; below it, answers stream into a preview as usual."""
    fake = telegram_api[0]
    chats = 40
    openai_server.script(*(delay(2.5) for _ in range(chats)))  # all asked before any answer
    env: ModelEnv = {"TELEGRAM_RATE_LIMIT": "off", "LLM_BASE_URL": openai_server.base_url}
    running = await start_telegram(tmp_path, telegram_api, **env)
    try:
        await fake.until(lambda: bool(fake.sent("getUpdates")))
        for n in range(chats):
            fake.push_message(900 + n, f"Nấu cá kho thế nào, câu số {n}?", user_id=5000 + n)
        await fake.until(
            lambda: all(
                any("câu số" in m.text for m in fake.bot_messages(900 + n)) for n in range(chats)
            ),
            30,
        )
    finally:
        await running.close()
    streamed = [bool(r.body.get("stream")) for r in openai_server.requests()]
    assert len(streamed) == chats
    # the first 32 in the works stream; the rest, asked while they wait, come whole
    # (the server may see the requests in another order than they were decided)
    assert streamed.count(True) == 32 and streamed.count(False) == chats - 32
