"""A photographed recipe or a voice note → a draft → an admin's /kb save → an entry that
keeps its photo, without EXIF or location."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.servers.openai_server import CHAT, TRANSCRIPTIONS, OpenAIServer, reply
from tests.support.photos import GPS, jpeg_with_exif
from tests.support.telegram import TelegramRun

Start = Callable[..., Awaitable[TelegramRun]]
RECIPE = "Canh chua cá lóc\n1 con cá lóc\n2 quả cà chua, me chua"


async def test_a_recipe_photo_becomes_a_draft_then_an_entry_with_its_photo(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    openai_server.script(reply(RECIPE))
    bot = await start_bot(LLM_VISION_MODEL="llava")
    bot.fake.push_message(801, "/kb add #nguyên_văn", photo=jpeg_with_exif())
    texts = await bot.bot_texts(801, 2)
    assert texts[-1].startswith("📝 Bản nháp (chưa lưu) · kèm ảnh · nguyên văn")
    assert "Canh chua cá lóc\n1 con cá lóc" in texts[-1] and "/kb save" in texts[-1]
    [read] = openai_server.requests(CHAT)
    assert read.body["model"] == "llava"
    assert read.body["messages"][-1]["content"][1]["type"] == "image_url"
    assert await bot.rows("SELECT id FROM entries WHERE family_id IS NOT NULL") == []

    bot.fake.push_message(801, "/kb save")
    texts = await bot.bot_texts(801, 3)
    assert "Canh chua cá lóc (kèm ảnh) · nguyên văn" in texts[-1]
    [entry] = await bot.rows(
        "SELECT e.id, e.title, e.body, e.verbatim, p.data FROM entries e"
        " JOIN entry_photos p ON p.entry_id = e.id AND p.family_id = e.family_id"
    )
    assert (entry["title"], entry["verbatim"]) == ("Canh chua cá lóc", 1)
    assert entry["body"] == "1 con cá lóc\n2 quả cà chua, me chua"
    assert GPS not in entry["data"] and b"grandma" not in entry["data"]
    assert entry["data"].startswith(b"\xff\xd8") and entry["data"].endswith(b"\xff\xd9")
    assert await bot.rows("SELECT id FROM kb_drafts") == []


async def test_kb_add_in_reply_to_a_photo_and_a_corrected_save(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    bot = await start_bot()
    photo = bot.fake.push_message(802, "", photo=jpeg_with_exif())
    await bot.bot_texts(802, 2)  # greeting, then the photo answered as a question
    openai_server.script(reply("gà kho gừng\nthịt gà, gừng, nước mắm"))
    bot.fake.push_message(802, "/kb add", reply_to=photo["message_id"])
    texts = await bot.bot_texts(802, 3)
    assert "📝" in texts[-1] and "gà kho gừng" in texts[-1]
    bot.fake.push_message(802, "/kb save Gà kho gừng của bà | thịt gà ta, gừng già #món_mặn")
    texts = await bot.bot_texts(802, 4)
    assert "Gà kho gừng của bà (kèm ảnh)" in texts[-1]
    [entry] = await bot.rows("SELECT title, body, verbatim FROM entries WHERE family_id = 1")
    assert entry == {"title": "Gà kho gừng của bà", "body": "thịt gà ta, gừng già", "verbatim": 0}


async def test_a_voice_note_becomes_a_draft_too(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    openai_server.transcription = "Mứt gừng\ngừng non, đường, luộc ba lần"
    bot = await start_bot()
    bot.fake.push_message(803, "/kb add", voice=b"OggS recipe")
    texts = await bot.bot_texts(803, 2)
    assert texts[-1].startswith("📝 Bản nháp (chưa lưu)\n\nMứt gừng")
    assert len(openai_server.requests(TRANSCRIPTIONS)) == 1
    bot.fake.push_message(803, "/kb save")
    texts = await bot.bot_texts(803, 3)
    assert texts[-1].startswith("Đã lưu #") and "kèm ảnh" not in texts[-1]
    [entry] = await bot.rows("SELECT title, source FROM entries WHERE family_id = 1")
    assert entry == {"title": "Mứt gừng", "source": "voice"}


async def test_save_without_a_draft_and_a_photo_too_large_to_keep(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    bot = await start_bot(HEARTH_KB_PHOTO_MAX_BYTES="50")
    bot.fake.push_message(804, "/kb save")
    texts = await bot.bot_texts(804, 2)
    assert "Chưa có bản nháp" in texts[-1]
    bot.fake.push_message(804, "/kb add", photo=jpeg_with_exif(b"x" * 100))
    texts = await bot.bot_texts(804, 3)
    assert "lớn quá để lưu" in texts[-1]
    assert not openai_server.requests(CHAT)  # nothing read for a photo that cannot be kept
