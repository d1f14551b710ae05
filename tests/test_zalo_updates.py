"""Reading Zalo updates: ids as strings, commands normalised, who the message is for."""

from __future__ import annotations

from typing import Any

from bot.core.types import Incoming
from bot.platforms.zalo.updates import (
    BotIdentity,
    normalise_command,
    parse_update,
    unwrap,
)

BOT = BotIdentity(id="b1", names=("Hearth nhà mình 🏡", "bot.VDKyGxQvc"))
FETCHED: list[str] = []


async def fetch(url: str) -> bytes:
    FETCHED.append(url)
    return b"jpeg-bytes"


def update(text: str | None = "chào", *, chat_type: str = "PRIVATE", **message: Any) -> dict:
    body: dict[str, Any] = {
        "message_id": "m1",
        "chat": {"id": "c1", "chat_type": chat_type},
        "from": {"id": "u1", "display_name": "Bố", "is_bot": False},
        "date": 1766619597466,
    }
    if text is not None:
        body["text"] = text
    body.update(message)
    return {"event_name": "message.text.received" if text is not None else "", "message": body}


def test_unwrap_accepts_wrapped_and_flat_bodies() -> None:
    flat = update()
    assert unwrap(flat) == flat
    assert unwrap({"ok": True, "result": flat}) == flat
    assert unwrap([flat]) is None
    assert unwrap("x") is None


def test_private_text() -> None:
    parsed = parse_update(update("Tối nay ăn gì?"), BOT, fetch)
    assert parsed is not None and parsed.incoming is not None
    inc = parsed.incoming
    assert (inc.platform, inc.chat_id, inc.user_id, inc.message_id) == ("zalo", "c1", "u1", "m1")
    assert (inc.chat_kind, inc.addressed, inc.is_chat_admin) == ("private", True, True)
    assert inc.user_name == "Bố" and inc.text == "Tối nay ăn gì?"


def test_numeric_ids_become_strings_and_first_name_is_a_fallback() -> None:
    raw = update("hi")
    raw["message"].update(
        message_id=123,
        chat={"id": 456, "chat_type": "PRIVATE"},
        **{"from": {"id": 456, "first_name": "Nguyen Van A"}},
    )
    del raw["event_name"]
    inc = parse_update(raw, BOT, fetch).incoming  # type: ignore[union-attr]
    assert inc is not None
    assert (inc.chat_id, inc.user_id, inc.message_id) == ("456", "456", "123")
    assert inc.user_name == "Nguyen Van A"


def test_group_addressing() -> None:
    def parse(text: str, **extra: Any) -> Incoming:
        parsed = parse_update(update(text, chat_type="GROUP", **extra), BOT, fetch)
        assert parsed is not None and parsed.incoming is not None
        return parsed.incoming

    quiet = parse("cả nhà ăn cơm chưa")
    assert quiet.chat_kind == "group" and not quiet.addressed and not quiet.is_chat_admin
    mention = parse("@Hearth nhà mình 🏡 mai nấu gì?")
    assert mention.addressed and mention.text == "mai nấu gì?"
    handle = parse("hỏi @bot.VDKyGxQvc nhé")
    assert handle.addressed and handle.text == "hỏi nhé"
    assert parse("/help").addressed
    reply_to_bot = parse(
        "thế còn mai?", reply_to_message={"message_id": "a9", "from": {"id": "b1"}}
    )
    assert reply_to_bot.addressed and reply_to_bot.reply_to_message_id == "a9"
    reply_to_aunt = parse("ừ", reply_to_message={"message_id": "a8", "from": {"id": "u7"}})
    assert not reply_to_aunt.addressed and reply_to_aunt.reply_to_message_id == "a8"


def test_commands_are_normalised_for_this_bot_only() -> None:
    assert normalise_command("/kb@bot.VDKyGxQvc add x", BOT) == "/kb add x"
    assert normalise_command("/help@OtherBot", BOT) == "/help@OtherBot"
    assert normalise_command("/help@anything", BotIdentity()) == "/help"
    assert normalise_command("no command", BOT) == "no command"


async def test_an_image_carries_an_attachment_with_or_without_a_caption() -> None:
    raw = update(None, photo="https://f.zalo.me/a/b/photo.jpg?x=1", caption="Món này là gì?")
    raw["event_name"] = "message.image.received"
    parsed = parse_update(raw, BOT, fetch)
    assert parsed is not None and parsed.incoming is not None
    att = parsed.incoming.attachment
    assert parsed.incoming.text == "Món này là gì?"
    assert att is not None and att.kind == "image" and att.file_name == "photo.jpg"
    assert await att.fetch() == b"jpeg-bytes" and FETCHED[-1].endswith("photo.jpg?x=1")
    bare = update(None, photo="https://f.zalo.me/p.jpg")
    bare["event_name"] = "message.image.received"
    parsed = parse_update(bare, BOT, fetch)
    assert parsed is not None and parsed.incoming is not None  # a photo alone is a question
    assert parsed.incoming.text == "" and parsed.incoming.attachment is not None
    assert parsed.incoming.attachment.kind == "image"


def test_stickers_bots_and_broken_updates() -> None:
    sticker = update(None, sticker="abc")
    parsed = parse_update(sticker, BOT, fetch)
    assert parsed is not None and parsed.event_name == "message.sticker.received"
    assert parsed.incoming is None
    from_bot = update("echo")
    from_bot["message"]["from"]["is_bot"] = True
    assert parse_update(from_bot, BOT, fetch).incoming is None  # type: ignore[union-attr]
    assert parse_update({"event_name": "x"}, BOT, fetch) is None
    no_id = update("x")
    del no_id["message"]["message_id"]
    assert parse_update(no_id, BOT, fetch) is None
