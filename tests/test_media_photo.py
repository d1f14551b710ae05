"""Photos in: a photo (with or without a question, or a question in reply to one) goes to a
vision endpoint as an image part beside the family's usual context, its metadata removed;
with no endpoint that may see it (strict privacy: no local one) a kind word instead."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.core import images
from tests.servers.openai_server import CHAT, OpenAIServer, status
from tests.support.photos import GPS, jpeg_with_exif, png_with_text
from tests.support.telegram import TelegramRun

Start = Callable[..., Awaitable[TelegramRun]]
VISION = {"LLM_VISION_MODEL": "llava-v1.6"}


def image_parts(server: OpenAIServer) -> list[tuple[str, dict[str, Any]]]:
    """(model, request body) of every chat request that carried an image."""
    found = []
    for req in server.requests(CHAT):
        content = req.body["messages"][-1]["content"]
        if isinstance(content, list) and any(p.get("type") == "image_url" for p in content):
            found.append((req.body["model"], req.body))
    return found


def sent_photo(body: dict[str, Any]) -> bytes:
    """The photo bytes inside a request's data: URL."""
    part = next(p for p in body["messages"][-1]["content"] if p["type"] == "image_url")
    url = part["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    return base64.b64decode(url.split(",", 1)[1])


def test_metadata_is_stripped_and_the_picture_kept() -> None:
    jpeg = jpeg_with_exif()
    mime, clean = images.strip_metadata(jpeg)
    assert mime == "image/jpeg" and GPS not in clean and b"grandma" not in clean
    assert clean.startswith(b"\xff\xd8\xff\xe0") and clean.endswith(jpeg[jpeg.index(b"\xff\xdb") :])
    mime, clean = images.strip_metadata(png_with_text())
    assert mime == "image/png" and GPS not in clean and b"IDAT" in clean and b"IEND" in clean
    for broken in (b"GIF89a", b"\xff\xd8\xff\xe1\x00\xff", b"\x89PNG\r\n\x1a\n\x00"):
        with pytest.raises(images.NotAnImage):
            images.strip_metadata(broken)


async def test_a_photo_question_goes_to_the_vision_model_with_the_familys_context(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    bot = await start_bot(**VISION)
    bot.fake.push_message(701, "/family set kitchen bếp gas, nồi đất")
    await bot.bot_texts(701, 2)
    bot.fake.push_message(701, "Nấu cá kho thế nào?")
    await bot.bot_texts(701, 3)
    bot.fake.push_message(701, "Món này là món gì?", photo=jpeg_with_exif())
    texts = await bot.bot_texts(701, 4)
    assert "Fake answer about: Món này là món gì?" in texts[-1]
    [(model, body)] = image_parts(openai_server)
    assert model == "llava-v1.6"
    photo = sent_photo(body)
    assert GPS not in photo and photo.endswith(b"recipe pixels \x56\xff\xd9")
    rules = openai_server.requests(CHAT)[0].body["messages"][0]["content"].split("\n\n")[0]
    system = body["messages"][0]["content"]
    # the same rewritten context as a typed question: rules, constraints, the conversation
    assert system.startswith(rules) and "nồi đất" in system and "Nấu cá kho thế nào?" in system
    logged = await bot.rows("SELECT context_json, prompt_json FROM answers ORDER BY id DESC")
    assert json.loads(logged[0]["context_json"])["photo"]["mime"] == "image/jpeg"
    assert "base64" not in logged[0]["prompt_json"]  # the log keeps a fingerprint, not the photo


async def test_a_photo_alone_and_a_question_in_reply_to_it_are_both_answered(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    bot = await start_bot()
    sent = bot.fake.push_message(702, "", photo=jpeg_with_exif())
    texts = await bot.bot_texts(702, 2)
    assert "Fake answer about: Trong ảnh này là gì?" in texts[-1]
    bot.fake.push_message(702, "Nấu món này mất bao lâu?", reply_to=sent["message_id"])
    texts = await bot.bot_texts(702, 3)
    assert "Fake answer about: Nấu món này mất bao lâu?" in texts[-1]
    assert len(image_parts(openai_server)) == 2


async def test_no_vision_endpoint_says_what_to_do_instead(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    bot = await start_bot(LLM_CAPABILITIES="chat,transcription")
    bot.fake.push_message(703, "Món gì đây?", photo=jpeg_with_exif())
    texts = await bot.bot_texts(703, 2)
    assert "chưa xem được ảnh" in texts[-1] and "người quản lý Hearth" in texts[-1]
    assert not image_parts(openai_server) and not bot.fake.sent("getFile")


async def test_strict_privacy_never_sends_a_photo_to_a_cloud_endpoint(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    bot = await start_bot(LLM_LOCAL="0")
    bot.fake.push_message(704, "/family set privacy strict")
    await bot.bot_texts(704, 2)
    bot.fake.push_message(704, "Món gì đây?", photo=jpeg_with_exif())
    texts = await bot.bot_texts(704, 3)
    assert "strict" in texts[-1] and "tại chỗ" in texts[-1]
    assert not image_parts(openai_server)


async def test_strict_privacy_with_a_local_vision_endpoint_is_answered(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    bot = await start_bot()  # the loopback endpoint is local
    bot.fake.push_message(705, "/family set privacy strict")
    await bot.bot_texts(705, 2)
    bot.fake.push_message(705, "Món gì đây?", photo=jpeg_with_exif())
    texts = await bot.bot_texts(705, 3)
    assert "Fake answer about: Món gì đây?" in texts[-1]
    assert len(image_parts(openai_server)) == 1


async def test_an_oversize_photo_is_refused_before_it_is_downloaded(start_bot: Start) -> None:
    bot = await start_bot(HEARTH_MEDIA_MAX_BYTES="100")
    bot.fake.push_message(706, "Món gì?", photo=jpeg_with_exif(b"x" * 200))
    texts = await bot.bot_texts(706, 2)
    assert "lớn quá" in texts[-1]
    assert not bot.fake.sent("getFile")


async def test_a_vision_endpoint_that_fails_leaves_a_kind_answer(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    openai_server.script(*[status(500) for _ in range(10)])
    bot = await start_bot(LLM_TIMEOUT_S="0.3", LLM_MAX_TOTAL_S="1")
    bot.fake.push_message(707, "Món gì đây?", photo=jpeg_with_exif())
    texts = await bot.bot_texts(707, 2)
    assert "Mô hình AI tạm thời không trả lời được" in texts[-1]
