"""Voice out: `/family set voice on` sends each answer also as voice notes (long answers in
parts), the text always first; without speech, the text alone and one note saying why."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.voice_out import PART_CHARS, spoken_parts
from tests.servers.openai_server import SPEECH, OpenAIServer, delay
from tests.support.telegram import TelegramRun

Start = Callable[..., Awaitable[TelegramRun]]
LONG = "\n\n".join(f"Bước {i}: " + "rửa sạch, ướp gia vị rồi kho nhỏ lửa. " * 12 for i in (1, 2, 3))


def test_long_answers_are_read_in_parts_of_whole_sentences() -> None:
    parts = spoken_parts(LONG + "\n/helpful_3 /nothelpful_3")
    assert len(parts) >= 3 and all(len(p) <= PART_CHARS for p in parts)
    assert " ".join(parts) == " ".join(LONG.split())  # every word once, in order
    assert all(p.endswith(".") for p in parts)
    assert spoken_parts("x" * 1300) == ["x" * 600, "x" * 600, "x" * 100]


async def test_voice_on_sends_the_answer_as_voice_notes_after_its_text(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    openai_server.reply_fn = lambda _messages: LONG
    bot = await start_bot()
    bot.fake.push_message(901, "/family set voice on")
    texts = await bot.bot_texts(901, 2)
    assert "every answer also comes as a voice message" in texts[-1]
    bot.fake.push_message(901, "Kho cá thế nào?")
    await bot.fake.until(lambda: len(bot.fake.sent("sendVoice", 901)) >= 3)
    spoken = [r.body["input"] for r in openai_server.requests(SPEECH)]
    assert len(spoken) >= 3 and all(len(s) <= PART_CHARS for s in spoken)
    voices = [c.files["voice"][1] for c in bot.fake.sent("sendVoice", 901)]
    assert voices == [b"OggS" + s.encode() for s in spoken]
    calls = [c.method for c in bot.fake.calls if c.method in ("sendMessage", "sendVoice")]
    assert calls.index("sendVoice") > calls.index("sendMessage", 2)  # the text went first
    assert "Bước 3" in bot.fake.bot_messages(901)[2].text
    await bot.hearth.services.answers.calls.flush()
    rows = await bot.rows(
        "SELECT count(*) AS n FROM llm_calls WHERE purpose = 'speak' AND family_id IS NOT NULL"
    )
    assert rows == [{"n": len(spoken)}]


async def test_without_speech_the_text_goes_alone_and_the_family_is_told_once(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    bot = await start_bot(LLM_CAPABILITIES="chat")
    bot.fake.push_message(902, "/family set voice on")
    texts = await bot.bot_texts(902, 2)
    assert "can't read answers aloud" in texts[-1]
    for question in ("Kho cá thế nào?", "Luộc rau thế nào?"):
        bot.fake.push_message(902, question)
    texts = await bot.bot_texts(902, 4)
    assert "chưa đọc to được" in texts[2] and "chưa đọc to được" not in texts[3]
    assert not bot.fake.sent("sendVoice") and not openai_server.requests(SPEECH)


async def test_a_speech_endpoint_that_hangs_leaves_the_text_answer(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    openai_server.script(*[delay(10, path=SPEECH) for _ in range(5)])
    bot = await start_bot(LLM_TIMEOUT_S="0.3", LLM_MAX_TOTAL_S="1")
    bot.fake.push_message(903, "/family set voice on")
    await bot.bot_texts(903, 2)
    bot.fake.push_message(903, "Kho cá thế nào?")
    texts = await bot.bot_texts(903, 3)
    assert "Fake answer about: Kho cá thế nào?" in texts[-1]
    assert openai_server.requests(SPEECH)  # asked, given up at the deadline
    assert not bot.fake.sent("sendVoice")


async def test_voice_off_and_a_bad_value(start_bot: Start, openai_server: OpenAIServer) -> None:
    bot = await start_bot()
    bot.fake.push_message(904, "/family set voice maybe")
    texts = await bot.bot_texts(904, 2)
    assert "on (bật) hoặc off (tắt)" in texts[-1]
    bot.fake.push_message(904, "/family set voice tắt")
    bot.fake.push_message(904, "Kho cá thế nào?")
    await bot.bot_texts(904, 4)
    assert not bot.fake.sent("sendVoice") and not openai_server.requests(SPEECH)
