"""Voice notes in, made visible: the transcript heads the answer; with no endpoint that can
listen, past the caps, or with a download or endpoint that stalls, a kind word instead."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.servers.openai_server import TRANSCRIPTIONS, OpenAIServer, delay, status
from tests.support.telegram import TelegramRun

Start = Callable[..., Awaitable[TelegramRun]]


async def test_a_voice_question_shows_its_transcript_before_the_answer(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    openai_server.transcription = "nấu canh chua thế nào"
    bot = await start_bot()
    bot.fake.push_message(601, "", voice=b"OggS voice question")
    texts = await bot.bot_texts(601, 2)
    heard, _, answer = texts[-1].partition("\n\n")
    assert heard == "🎙️ Lan hỏi: «nấu canh chua thế nào»"
    assert "Fake answer about: nấu canh chua thế nào" in answer
    # the history and the answer log read what was said; the call counts for the family
    await bot.wait_rows(
        "SELECT text FROM messages WHERE role = 'user'",
        expect=[{"text": "nấu canh chua thế nào"}],
    )
    logged = await bot.rows("SELECT question FROM answers")
    assert logged == [{"question": "nấu canh chua thế nào"}]
    await bot.hearth.services.answers.calls.flush()
    calls = await bot.rows("SELECT purpose, family_id IS NOT NULL AS mine FROM llm_calls")
    assert {"purpose": "transcribe", "mine": 1} in calls


async def test_an_english_speaker_sees_the_transcript_in_english(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    openai_server.transcription = "how do I cook sour soup"
    bot = await start_bot()
    bot.fake.push_message(602, "/family set language en")
    await bot.bot_texts(602, 2)
    bot.fake.push_message(602, "", voice=b"OggS")
    texts = await bot.bot_texts(602, 3)
    assert texts[-1].startswith("🎙️ Lan asked: “how do I cook sour soup”")


async def test_no_transcription_endpoint_says_what_to_do_instead(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    bot = await start_bot(LLM_CAPABILITIES="chat")
    bot.fake.push_message(603, "", voice=b"OggS")
    texts = await bot.bot_texts(603, 2)
    assert "gõ câu hỏi" in texts[-1] and "người quản lý Hearth" in texts[-1]
    assert not openai_server.requests(TRANSCRIPTIONS)
    assert not bot.fake.sent("getFile")  # nothing downloaded for nothing


async def test_strict_privacy_keeps_voice_off_a_cloud_endpoint(
    start_bot: Start, openai_server: OpenAIServer
) -> None:
    bot = await start_bot(LLM_LOCAL="0")  # the only endpoint counts as a cloud one
    bot.fake.push_message(604, "/family set privacy strict")
    await bot.bot_texts(604, 2)
    bot.fake.push_message(604, "", voice=b"OggS private voice")
    texts = await bot.bot_texts(604, 3)
    assert "strict" in texts[-1] and "tại chỗ" in texts[-1]
    assert not openai_server.requests(TRANSCRIPTIONS)


async def test_an_overlong_voice_note_is_refused_before_it_is_downloaded(start_bot: Start) -> None:
    bot = await start_bot(HEARTH_VOICE_MAX_SECONDS="60")
    bot.fake.push_message(605, "", voice=b"OggS long", voice_seconds=61)
    texts = await bot.bot_texts(605, 2)
    assert "dài quá (tối đa 60 giây)" in texts[-1]
    assert not bot.fake.sent("getFile")


async def test_an_oversize_voice_note_is_refused(start_bot: Start) -> None:
    bot = await start_bot(HEARTH_MEDIA_MAX_BYTES="100")
    bot.fake.push_message(606, "", voice=b"OggS" + b"x" * 200)
    texts = await bot.bot_texts(606, 2)
    assert "lớn quá (tối đa 100 bytes)" in texts[-1]
    assert not bot.fake.sent("getFile")


async def test_a_download_that_hangs_is_given_up_at_its_deadline(start_bot: Start) -> None:
    bot = await start_bot(HEARTH_MEDIA_FETCH_S="0.3")
    bot.fake.slow_next("getFile", 3.0)
    bot.fake.push_message(607, "", voice=b"OggS")
    texts = await bot.bot_texts(607, 2)
    assert "lâu quá" in texts[-1]


@pytest.mark.parametrize("fault", ["fails", "hangs"])
async def test_a_transcription_endpoint_that_fails_or_hangs_gets_a_kind_word(
    start_bot: Start, openai_server: OpenAIServer, fault: str
) -> None:
    if fault == "fails":
        openai_server.script(*[status(500, path=TRANSCRIPTIONS) for _ in range(10)])
    else:
        openai_server.script(*[delay(10, path=TRANSCRIPTIONS) for _ in range(10)])
    bot = await start_bot(LLM_TIMEOUT_S="0.3", LLM_MAX_TOTAL_S="1")
    bot.fake.push_message(608, "", voice=b"OggS")
    texts = await bot.bot_texts(608, 2)
    assert "không trả lời" in texts[-1]
    await bot.wait_rows(
        "SELECT status FROM messages WHERE role = 'user'", expect=[{"status": "answered"}]
    )
