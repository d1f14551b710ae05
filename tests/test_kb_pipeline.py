"""/kb and /suggest through the lead's Pipeline.handle, and a verbatim answer end to end."""

from __future__ import annotations

from bot.app import Hearth
from handlers import kb as kb_handlers
from handlers import review as review_handlers
from knowledge.store import KnowledgeBase
from tests.support import RecordingOutbox, msg


def wire(hearth: Hearth) -> None:
    """Until bot/app.py builds the KnowledgeBase and registers these handlers itself."""
    if hearth.services.kb is None:
        hearth.services.kb = KnowledgeBase(hearth.services.db)
    if hearth.pipeline.registry.find("kb") is None:
        kb_handlers.register(hearth.pipeline.registry)
        review_handlers.register(hearth.pipeline.registry)


async def test_curate_then_answer_verbatim(hearth: Hearth) -> None:
    wire(hearth)
    out = RecordingOutbox()
    await hearth.pipeline.handle(
        msg(
            "/kb add Cá kho tộ | Cá basa, nước màu, kho lửa liu riu 2 tiếng #nguyên_văn",
            chat="home",
            user="ba",
            user_name="Bà nội",
        ),
        out,
    )
    assert "#1" in out.last.text
    await hearth.pipeline.handle(msg("bà ơi cá kho tộ làm sao ạ", chat="home", user="ba"), out)
    answer = out.last.text
    assert "kho lửa liu riu 2 tiếng" in answer and "Bà nội" in answer


async def test_group_member_gets_suggest_hint_and_can_suggest(hearth: Hearth) -> None:
    wire(hearth)
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg("/kb add Phở | ninh xương", chat="g", kind="group"), out)
    assert "/suggest" in out.last.text
    await hearth.pipeline.handle(msg("/goiy Phở | ninh xương", chat="g", kind="group"), out)
    assert "#1" in out.last.text
    await hearth.pipeline.handle(
        msg("/approve 1", chat="g", kind="group", user="mom", is_chat_admin=True), out
    )
    assert "Phở" in out.last.text
    await hearth.pipeline.handle(msg("/kb search pho", chat="g", kind="group"), out)
    assert "#1 · Phở" in out.last.text
