"""Rough edges a new family hits in the chat: one greeting, the family's language honoured by
bare commands, pages past the end, English feedback commands under English answers."""

from __future__ import annotations

import asyncio

from bot.app import Hearth
from bot.core.types import Reply
from tests.support import RecordingOutbox, msg

GREETING = ("Xin chào cả nhà", "Hello everyone")


async def _say(hearth: Hearth, text: str, **kw: object) -> list[str]:
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg(text, **kw), out)  # type: ignore[arg-type]
    return out.texts


async def test_rough_edge_batdau_as_the_first_message_greets_once(hearth: Hearth) -> None:
    """Rough edge: `/batdau` (the Vietnamese /start) as the first message greeted twice: the
    first-run greeting, then /start's own."""
    texts = await _say(hearth, "/batdau")
    assert len(texts) == 1, texts


class SlowOutbox(RecordingOutbox):
    """An outbox whose sends take a while (a slow messenger), so the next message arrives
    while the first is still being answered."""

    async def send(self, reply: Reply) -> list[str]:
        await asyncio.sleep(0.2)
        return await super().send(reply)


async def test_rough_edge_two_first_messages_at_once_greet_once(hearth: Hearth) -> None:
    """Rough edge: a second message that arrived while the first was being greeted saw an
    ungreeted family too, and greeted again."""
    outs = [SlowOutbox(), SlowOutbox()]
    first = asyncio.create_task(hearth.pipeline.handle(msg("cá kho thế nào?"), outs[0]))
    await asyncio.sleep(0.05)  # the first is greeting now
    await hearth.pipeline.handle(msg("thịt kho thế nào?"), outs[1])
    await first
    greetings = [t for o in outs for t in o.texts if t.startswith(GREETING)]
    assert len(greetings) == 1, [o.texts for o in outs]


async def test_rough_edge_family_language_is_honoured_by_bare_commands(hearth: Hearth) -> None:
    """Rough edge: after `/family set language en`, `/help` stayed Vietnamese until the
    person wrote English (their last message and their app's language won)."""
    await _say(hearth, "chào bạn", language_code="vi")
    await _say(hearth, "/family set language en", language_code="vi")
    [help_text] = await _say(hearth, "/help", language_code="vi")
    assert help_text.startswith("Hearth commands") or "commands" in help_text.split("\n")[0], (
        help_text[:80]
    )


async def test_rough_edge_kb_list_past_the_end_says_so(hearth: Hearth) -> None:
    """Rough edge: `/kb list 99` with one page answered an empty list and "Page 99/1"."""
    await _say(hearth, "/kb add Canh chua | Me, cà chua, thơm")
    [reply] = await _say(hearth, "/kb list 99", language_code="en")
    assert "99" in reply and "1" in reply and "/kb list" in reply, reply
    assert reply.strip() != "Page 99/1" and not reply.startswith("\n"), reply
    assert "only 1 page" in reply, reply


async def test_rough_edge_english_answers_offer_english_feedback_commands(hearth: Hearth) -> None:
    """Rough edge: an English answer offered /hay_1 · /chuahay_1 · /luu_1; it now offers the
    English aliases, which work."""
    await _say(hearth, "/kb add Canh chua | Tamarind soup with tomato and pineapple")
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg("How do I cook canh chua?", language_code="en"), out)
    commands = [b.command for b in out.last.buttons]
    answer_id = out.last.answer_id
    assert commands == [f"/helpful_{answer_id}", f"/nothelpful_{answer_id}", f"/save_{answer_id}"]
    [thanks] = await _say(hearth, commands[0], language_code="en")
    assert "Thanks" in thanks, thanks
    vi = RecordingOutbox()
    await hearth.pipeline.handle(msg("Canh chua nấu thế nào?", language_code="vi"), vi)
    assert vi.last.buttons[0].command.startswith("/hay_")


async def test_rough_edge_why_of_an_answer_that_does_not_exist_says_so(hearth: Hearth) -> None:
    """Rough edge: `/why 999` in a family that has answers said "There is no answer to
    explain yet"; it now says there is no #999 and names the latest one."""
    await _say(hearth, "/kb add Canh chua | Me, cà chua, thơm")
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg("How do I cook canh chua?", language_code="en"), out)
    latest = out.last.answer_id
    [reply] = await _say(hearth, "/why 999", language_code="en")
    assert "no answer #999" in reply and f"/why {latest}" in reply, reply
    [vi] = await _say(hearth, "/why 999", language_code="vi")
    assert "#999" in vi and f"/why {latest}" in vi, vi
