"""Answers read aloud: with `/family set voice on`, each answer also goes out as voice notes
(the model client's `speak`, Ogg/Opus), long answers in parts; the text is always sent too.
With no speech endpoint the family gets the text alone and is told once."""

from __future__ import annotations

import logging
import re

from bot.core.errors import LLMUnavailable
from bot.core.i18n import tr
from bot.core.types import Reply
from handlers.base import Ctx, Services

log = logging.getLogger(__name__)

PART_CHARS = 600  # about 40 seconds read aloud
MAX_PARTS = 6
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")


def spoken_parts(text: str, limit: int = PART_CHARS) -> list[str]:
    """The answer in pieces a speech model reads well: paragraphs, then sentences, then
    words, each at most `limit` characters; lines of commands (/helpful_1 …) are left out."""
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("/")]
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", "\n".join(lines)):
        for sentence in _SENTENCE.split(" ".join(paragraph.split())):
            while len(sentence) > limit:
                cut = sentence.rfind(" ", 0, limit)
                cut = cut if cut > 0 else limit
                pieces.append(sentence[:cut])
                sentence = sentence[cut:].strip()
            if sentence:
                pieces.append(sentence)
    parts: list[str] = []
    for piece in pieces:
        if parts and len(parts[-1]) + 1 + len(piece) <= limit:
            parts[-1] += " " + piece
        else:
            parts.append(piece)
    return parts


def voice_setup_note(ctx: Ctx) -> str:
    """Said when voice replies are switched on: whether Hearth can speak at all here."""
    llm = ctx.services.llm
    if llm is not None and llm.can("speech"):
        return ctx.t(
            "\nTừ giờ mỗi câu trả lời sẽ có thêm tin nhắn thoại đọc to.",
            "\nFrom now on every answer also comes as a voice message.",
        )
    return "\n" + _no_speech(ctx.lang)


class VoiceOut:
    """Adds voice notes to answers of families that asked for them (state: who was told)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._told: set[int] = set()

    async def add_voice(
        self, family_id: int, lang: str, profile: dict[str, str], reply: Reply
    ) -> None:
        """Read `reply` aloud into `reply.voice` when the family's `voice` is on."""
        if profile.get("voice") != "on" or reply.answer_id is None or not reply.text.strip():
            return
        llm = self.services.llm
        local = profile.get("privacy") == "strict"
        if llm is None or not llm.can("speech", local_only=local):
            self._tell_once(family_id, lang, reply)
            return
        notes: list[bytes] = []
        for part in spoken_parts(reply.text)[:MAX_PARTS]:
            try:
                audio = await llm.speak(part, local_only=local, family_id=family_id)
            except LLMUnavailable as exc:  # the text still goes out, whole
                log.warning("speech failed for family %s: %s", family_id, exc)
                break
            if audio is None:
                self._tell_once(family_id, lang, reply)
                break
            notes.append(audio)
        reply.voice = tuple(notes)

    def _tell_once(self, family_id: int, lang: str, reply: Reply) -> None:
        if family_id not in self._told:
            self._told.add(family_id)
            reply.text += "\n\n" + _no_speech(lang)


def _no_speech(lang: str) -> str:
    return tr(
        lang,
        "(Hearth chưa đọc to được vì chưa có máy chủ chuyển chữ thành giọng nói; mình gửi chữ "
        "thôi. Nhờ người quản lý Hearth thêm một máy chủ như vậy nếu nhà mình muốn nghe.)",
        "(Hearth can't read answers aloud yet: there is no text-to-speech endpoint, so you get "
        "the text only. Ask whoever runs Hearth to add one if your family wants to listen.)",
    )
