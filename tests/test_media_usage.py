"""Photo and voice answers are answers like any other: in `hearth logs`, in the report,
with their returns; their model calls count for the family."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from tests.servers.openai_server import OpenAIServer
from tests.support.photos import jpeg_with_exif
from tests.support.telegram import TelegramRun
from tests.usage_kit import cli

Start = Callable[..., Awaitable[TelegramRun]]


async def test_photo_and_voice_answers_show_in_logs_and_the_report_with_returns(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    openai_server.transcription = "muối dưa cải thế nào"
    bot = await start_bot()
    bot.fake.push_message(951, "Món này là món gì?", photo=jpeg_with_exif())
    await bot.bot_texts(951, 2)
    bot.fake.push_message(951, "", voice=b"OggS")
    await bot.bot_texts(951, 3)
    photo_answer = bot.fake.bot_messages(951)[1]
    helpful = photo_answer.reply_markup["inline_keyboard"][0][0]["callback_data"]
    query = bot.fake.push_callback(951, photo_answer.message_id, helpful)
    await bot.fake.until(lambda: bot.fake.answered(query))

    logs = json.loads(cli(bot.settings.db_path, "logs", "--json").stdout)
    assert [(a["question"], a["returns"]) for a in logs] == [
        ("muối dưa cải thế nào", 0),
        ("Món này là món gì?", 1),
    ]
    report = json.loads(cli(bot.settings.db_path, "report", "--json").stdout)
    assert (report["answers"], report["returns"]) == (2, 1)
    assert report["top_answers"][0]["question"] == "Món này là món gì?"
    assert report["families"][0]["answers"] == 2
