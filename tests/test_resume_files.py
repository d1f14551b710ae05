"""A voice note or document left unanswered by a crash is fetched again when it is resumed."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import build
from bot.core.errors import FileUnavailable
from bot.core.types import Attachment
from bot.turns import incoming_from, payload_of
from tests.conftest import model_settings
from tests.servers.openai_server import TRANSCRIPTIONS, OpenAIServer
from tests.support import DownOutbox, RecordingOutbox, msg


def voice(data: bytes, ref: str | None = "file-1") -> Attachment:
    async def fetch() -> bytes:
        return data

    return Attachment("voice", "voice.ogg", "audio/ogg", fetch, size=len(data), ref=ref)


def downloads(store: dict[str, bytes], asked: list[str]):  # type: ignore[no-untyped-def]
    """An adapter's fetch_for over a dict of platform files."""

    def fetch_for(ref: str, size: int | None) -> Callable[[], Awaitable[bytes]]:
        async def fetch() -> bytes:
            asked.append(ref)
            return store[ref]

        return fetch

    return fetch_for


async def test_the_payload_keeps_every_field_and_where_the_file_lives() -> None:
    inc = msg("", chat="c", user_name="Mẹ", thread_id="9", attachment=voice(b"OggS"))
    asked: list[str] = []
    again = incoming_from(payload_of(inc), downloads({"file-1": b"OggS again"}, asked))
    assert again.attachment is not None
    assert (again.attachment.kind, again.attachment.ref, again.attachment.size) == (
        "voice",
        "file-1",
        4,
    )
    assert await again.attachment.fetch() == b"OggS again"
    assert asked == ["file-1"]
    assert replace(again, attachment=None) == replace(inc, attachment=None)


async def test_a_file_that_cannot_be_fetched_again_says_so() -> None:
    # a row stored before files had a reference, and one with no adapter to fetch through
    old = json.dumps({**json.loads(payload_of(msg("", chat="c"))), "attachment_kind": "voice"})
    unfetchable = [(old, downloads({}, [])), (payload_of(msg("", attachment=voice(b"x"))), None)]
    for payload, fetch_for in unfetchable:
        inc = incoming_from(payload, fetch_for)
        assert inc.attachment is not None and inc.attachment.kind == "voice"
        with pytest.raises(FileUnavailable):
            await inc.attachment.fetch()


async def test_a_resumed_voice_note_is_transcribed_again(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    openai_server.transcription = "nấu canh chua thế nào"
    hearth = await build(model_settings(tmp_path, openai_server))
    try:
        await hearth.pipeline.handle(msg("/help", chat="v"), RecordingOutbox())
        # answered, but the reply could not be delivered: the message stays pending
        await hearth.pipeline.handle(msg("", chat="v", attachment=voice(b"OggS 1")), DownOutbox())
        assert len(openai_server.requests(TRANSCRIPTIONS)) == 1

        out = RecordingOutbox()
        asked: list[str] = []
        fetch_for = downloads({"file-1": b"OggS 1"}, asked)
        assert await hearth.pipeline.resume_pending("console", lambda _c: out, fetch_for) == 1
        assert asked == ["file-1"]
        assert len(openai_server.requests(TRANSCRIPTIONS)) == 2
        assert out.last.answer_id is not None
        assert "nấu canh chua thế nào" in out.last.text  # the loopback model echoes it
        assert out.closed == 1
    finally:
        await hearth.aclose()


async def test_a_resumed_voice_note_without_its_file_asks_to_send_it_again(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    hearth = await build(model_settings(tmp_path, openai_server))
    try:
        await hearth.pipeline.handle(msg("/help", chat="w"), RecordingOutbox())
        await hearth.pipeline.handle(msg("", chat="w", attachment=voice(b"OggS")), DownOutbox())
        out = RecordingOutbox()
        assert await hearth.pipeline.resume_pending("console", lambda _c: out) == 1
        assert any("gửi lại" in t for t in out.texts), out.texts
        assert len(openai_server.requests(TRANSCRIPTIONS)) == 1  # nothing to transcribe
        status = await hearth.services.db.scalar(
            "SELECT status FROM messages WHERE role = 'user' AND text NOT LIKE '/%' AND family_id ="
            " (SELECT id FROM families WHERE chat_id = 'w')"
        )
        assert status == "answered"  # told what happened: not retried forever
    finally:
        await hearth.aclose()
