"""How Telegram messages read to the pipeline: addressed or not, commands, files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot, Message

from bot.core.errors import HearthError
from bot.platforms.telegram import TelegramAdapter
from bot.platforms.telegram_render import command_menus, to_incoming
from tests.servers.telegram_api import BOT_ID, BOT_USERNAME, TOKEN, FakeTelegram, entities_of
from tests.support.telegram import telegram_settings

GROUP = {"id": -1001, "type": "supergroup", "title": "Nhà"}
USER = {"id": 7, "is_bot": False, "first_name": "Mai", "last_name": "Lê", "language_code": "en"}


def message(text: str, chat: dict[str, Any] = GROUP, **extra: Any) -> Message:
    payload = {
        "message_id": 5,
        "date": 0,
        "chat": chat,
        "from": USER,
        "text": text,
        "entities": entities_of(text),
        **extra,
    }
    return Message.de_json(payload, Bot(TOKEN))


def incoming(msg: Message) -> Any:
    return to_incoming(
        msg, bot_id=BOT_ID, bot_username=BOT_USERNAME, is_chat_admin=False, attachment=None
    )


@pytest.mark.parametrize(
    ("text", "addressed", "seen"),
    [
        ("tối nay ăn gì", False, "tối nay ăn gì"),
        (f"@{BOT_USERNAME} cá kho?", True, "cá kho?"),
        (f"cho hỏi @{BOT_USERNAME.upper()} cá kho?", True, "cho hỏi cá kho?"),
        ("@someone_else cá kho?", False, "@someone_else cá kho?"),
        ("/kb add Cá | kho", True, "/kb add Cá | kho"),
        (f"/kb@{BOT_USERNAME} add Cá | kho", True, "/kb add Cá | kho"),
        ("/kb@other_bot add Cá", False, "/kb@other_bot add Cá"),
    ],
)
def test_group_messages_are_addressed_only_when_meant_for_us(
    text: str, addressed: bool, seen: str
) -> None:
    inc = incoming(message(text))
    assert (inc.addressed, inc.text) == (addressed, seen)
    assert inc.chat_kind == "group" and inc.chat_id == "-1001" and inc.user_name == "Mai Lê"


def test_text_mention_of_the_bot_and_replies_to_the_bot_are_addressed() -> None:
    text = "Hearth ơi cá kho?"
    mention = message(
        text,
        entities=[
            {
                "type": "text_mention",
                "offset": 0,
                "length": 6,
                "user": {"id": BOT_ID, "is_bot": True, "first_name": "Hearth"},
            }
        ],
    )
    assert incoming(mention).addressed
    bot_message = {
        "message_id": 3,
        "date": 0,
        "chat": GROUP,
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Hearth"},
        "text": "x",
    }
    reply = incoming(message("ngon quá", reply_to_message=bot_message))
    assert reply.addressed and reply.reply_to_message_id == "3"
    other = dict(bot_message, **{"from": USER})
    reply_to_human = incoming(message("ừ", reply_to_message=other))
    assert not reply_to_human.addressed and reply_to_human.reply_to_message_id == "3"


def test_private_chats_are_always_addressed_and_owned() -> None:
    inc = incoming(message("hi", chat={"id": 7, "type": "private", "first_name": "Mai"}))
    assert inc.addressed and inc.is_chat_admin and inc.chat_kind == "private"
    assert inc.language_code == "en" and inc.chat_title is None


def test_emoji_before_a_mention_does_not_shift_the_entity() -> None:
    inc = incoming(message(f"😀😀 @{BOT_USERNAME} chào"))
    assert inc.addressed and inc.text == "😀😀 chào"


@pytest.fixture
async def adapter(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str]
) -> AsyncIterator[TelegramAdapter]:
    live = TelegramAdapter(pipeline=None, settings=telegram_settings(tmp_path, telegram_api))
    await live.application.initialize()
    try:
        yield live
    finally:
        await live.application.shutdown()


async def test_documents_are_fetched_through_get_file_only_when_asked(
    adapter: TelegramAdapter, telegram_api: tuple[FakeTelegram, str, str]
) -> None:
    from bot.platforms.telegram_render import attachment_of

    fake = telegram_api[0]
    data = "title,body\nCá kho,Kho lửa nhỏ\n".encode()
    pushed = fake.push_message(-1001, "/kb import", document=("kb.csv", data, "text/csv"))
    msg = Message.de_json(pushed, adapter.application.bot)
    attachment = attachment_of(msg, adapter.fetch_for)
    assert attachment is not None and attachment.kind == "document"
    assert attachment.file_name == "kb.csv" and attachment.size == len(data)
    assert not fake.sent("getFile")
    assert await attachment.fetch() == data
    inc = to_incoming(
        msg, bot_id=BOT_ID, bot_username=BOT_USERNAME, is_chat_admin=True, attachment=attachment
    )
    assert inc.text == "/kb import" and inc.addressed and inc.attachment is attachment


async def test_voice_notes_become_voice_attachments(
    adapter: TelegramAdapter, telegram_api: tuple[FakeTelegram, str, str]
) -> None:
    from bot.platforms.telegram_render import attachment_of

    pushed = telegram_api[0].push_message(7, "", voice=b"OggS....")
    msg = Message.de_json(pushed, adapter.application.bot)
    attachment = attachment_of(msg, adapter.fetch_for)
    assert attachment is not None and attachment.kind == "voice"
    assert attachment.mime_type == "audio/ogg"
    assert await attachment.fetch() == b"OggS...."
    assert incoming(msg).text == ""


async def test_files_over_20_mb_are_refused_politely(adapter: TelegramAdapter) -> None:
    with pytest.raises(HearthError, match="20 MB"):
        await adapter.fetch_for("F1", 21 * 1024 * 1024)()


def test_command_menus_per_scope_and_language() -> None:
    from handlers.base import Command

    async def handler(ctx: Any) -> None:
        return None

    commands = [
        Command("remember", handler, "member", "ghi nhớ", "remember"),
        Command(
            "deletefamily", handler, "admin", "xoá gia đình", "delete the family", private_only=True
        ),
        Command("hay_", handler, "member", "", "", hidden=True),
        Command("Bad-Name", handler, "member", "x", "x"),
    ]
    menus = command_menus(commands)
    assert menus[("private", "vi")] == [("remember", "ghi nhớ"), ("deletefamily", "xoá gia đình")]
    assert menus[("private", None)][1] == ("deletefamily", "delete the family")
    assert menus[("group", None)] == [("remember", "remember")]
    assert set(menus) == {
        (w, lang) for w in ("private", "group", "default") for lang in ("vi", None)
    }
    fallback = command_menus([])
    assert [name for name, _ in fallback[("group", "vi")]] == ["start", "help"]


def test_anonymous_admins_speak_as_the_group() -> None:
    anonymous = {
        "id": 1087968824,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    msg = message(f"@{BOT_USERNAME} chào", **{"from": anonymous, "sender_chat": GROUP})
    inc = incoming(msg)
    assert inc.addressed and inc.user_id == "-1001" and inc.user_name == "Nhà"
