"""The outbox against the loopback Bot API: splitting, previews, flood control, fallbacks."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError

from bot.core.types import Button, Reply
from bot.platforms.telegram_outbox import ChatClocks, Pacing, TelegramOutbox
from bot.platforms.telegram_render import keyboard, to_html
from tests.servers.telegram_api import TOKEN, FakeTelegram, parse_html, utf16_len

CHAT = 4242
BUTTONS = (
    Button("👍", "fb:up:7", "/hay_7"),
    Button("👎", "fb:down:7", "/chuahay_7"),
    Button("📌", "fb:save:7", "/luu_7"),
)


@pytest.fixture
async def bot(
    telegram_api: tuple[FakeTelegram, str, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Bot]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as build_application sets it
    _, base, file_base = telegram_api
    async with Bot(TOKEN, base_url=base, base_file_url=file_base) as live:
        yield live


@pytest.fixture
def fake(telegram_api: tuple[FakeTelegram, str, str]) -> FakeTelegram:
    return telegram_api[0]


def outbox(bot: Bot, pacing: Pacing | None = None, chat: int = CHAT) -> TelegramOutbox:
    return TelegramOutbox(
        bot, str(chat), clocks=ChatClocks(pacing or Pacing.off()), is_group=chat < 0
    )


def long_answer(chars: int = 6000) -> str:
    paragraph = "Cá kho tộ cần lửa nhỏ & kiên nhẫn <đừng vội>; nước màu thắng vừa tới. " * 6
    text = ""
    while len(text) < chars:
        text += paragraph.strip() + "\n\n"
    return text[:chars].rsplit(" ", 1)[0]


async def test_6000_chars_arrive_whole_in_two_messages(bot: Bot, fake: FakeTelegram) -> None:
    text = long_answer()
    ids = await outbox(bot).send(Reply(text, BUTTONS))
    messages = fake.bot_messages(CHAT)
    assert [str(m.message_id) for m in messages] == ids
    assert len(messages) == 2
    visible = [parse_html(m.text) for m in messages]
    assert all(utf16_len(v) <= 4096 for v in visible)
    assert " ".join(visible).split() == text.split()  # nothing lost, no word cut
    assert messages[0].reply_markup is None and messages[1].reply_markup is not None


async def test_preview_then_final_edits_the_same_message(bot: Bot, fake: FakeTelegram) -> None:
    box = outbox(bot)
    await box.typing()
    await box.preview("Cá kho")
    await box.preview("Cá kho tộ là")
    ids = await box.send(Reply("Cá kho tộ là **món** ngon <3", BUTTONS))
    messages = fake.bot_messages(CHAT)
    assert len(messages) == 1 and ids == [str(messages[0].message_id)]
    assert messages[0].text == "Cá kho tộ là <b>món</b> ngon &lt;3"
    assert messages[0].edits == 2
    assert fake.sent("sendChatAction", CHAT)


async def test_previews_are_paced_per_chat(bot: Bot, fake: FakeTelegram) -> None:
    box = outbox(bot, Pacing(private_s=1.0, group_s=3.0, final_s=0.0))
    text = ""
    started = time.monotonic()
    while time.monotonic() - started < 2.5:
        text += "chữ "
        await box.preview(text)
        await asyncio.sleep(0.02)
    calls = fake.sent("sendMessage", CHAT) + fake.sent("editMessageText", CHAT)
    assert 2 <= len(calls) <= 3  # one send and at most one edit per second, not one per token
    gaps = [b.at - a.at for a, b in itertools.pairwise(calls)]
    assert all(gap >= 0.95 for gap in gaps)


async def test_a_429_on_edit_is_waited_out_and_the_answer_arrives(
    bot: Bot, fake: FakeTelegram
) -> None:
    box = outbox(bot)
    await box.preview("Đang trả lời")
    fake.fail_next("editMessageText", code=429, retry_after=1)
    started = time.monotonic()  # before the 429 arrives, so a slow machine cannot shorten it
    await box.preview("Đang trả lời thêm")  # flood control: preview pauses, nothing raised
    await box.send(Reply("Câu trả lời đầy đủ.", BUTTONS))
    assert time.monotonic() - started >= 0.95  # the retry_after was respected
    [message] = fake.bot_messages(CHAT)
    assert message.text == "Câu trả lời đầy đủ." and message.reply_markup
    assert len(fake.sent("editMessageText", CHAT)) == 2


async def test_a_429_on_the_final_edit_is_retried(bot: Bot, fake: FakeTelegram) -> None:
    box = outbox(bot)
    await box.preview("Đang trả lời")
    fake.fail_next("editMessageText", code=429, retry_after=1)
    await box.send(Reply("Xong rồi.", BUTTONS))
    [message] = fake.bot_messages(CHAT)
    assert message.text == "Xong rồi."


async def test_server_errors_are_retried_a_bounded_number_of_times(
    bot: Bot, fake: FakeTelegram
) -> None:
    quick = Pacing(0.0, 0.0, 0.0, retry_s=0.05)
    fake.fail_next("sendMessage", code=502, retry_after=None, times=2)
    await outbox(bot, quick).send(Reply("Vẫn tới nơi."))
    assert [m.text for m in fake.bot_messages(CHAT)] == ["Vẫn tới nơi."]
    fake.fail_next("sendMessage", code=500, retry_after=None, times=50)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await outbox(bot, quick).send(Reply("Không tới được."))
    assert len(fake.sent("sendMessage", CHAT)) == 3 + 5


async def test_html_rejected_falls_back_to_plain_text(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail_next(
        "sendMessage",
        code=400,
        description='Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 3',
    )
    await outbox(bot).send(Reply("a **b** <x>", BUTTONS))
    [message] = fake.bot_messages(CHAT)
    assert message.parse_mode is None and message.text == "a **b** <x>"
    assert message.reply_markup is not None


async def test_other_bad_requests_are_not_hidden(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail_next("sendMessage", code=400, description="Bad Request: chat not found")
    with pytest.raises(BadRequest, match="not found"):
        await outbox(bot).send(Reply("x"))


async def test_final_text_equal_to_preview_still_gets_its_buttons(
    bot: Bot, fake: FakeTelegram
) -> None:
    box = outbox(bot)
    await box.preview("Giống hệt")
    await box.send(Reply("Giống hệt", BUTTONS))
    [message] = fake.bot_messages(CHAT)
    assert message.reply_markup is not None


async def test_documents_are_uploaded(bot: Bot, fake: FakeTelegram) -> None:
    ids = await outbox(bot).send(Reply("Dữ liệu của gia đình:", document=("family.json", b"{}")))
    assert len(ids) == 2
    document = fake.bot_messages(CHAT)[-1].document
    assert document == ("family.json", b"{}")


async def test_group_answers_are_paced(bot: Bot, fake: FakeTelegram) -> None:
    box = outbox(bot, Pacing(private_s=1.0, group_s=3.0, final_s=0.5), chat=-100777)
    await box.send(Reply(long_answer(9000)))
    sends = fake.sent("sendMessage", -100777)
    assert len(sends) == 3
    assert all(b.at - a.at >= 0.45 for a, b in itertools.pairwise(sends))


def test_html_escapes_user_text_and_renders_simple_markers() -> None:
    html = to_html("# Cá kho\n**Bước 1**: 2 < 3 & `nước màu` <b>not a tag</b>")
    assert html == (
        "<b>Cá kho</b>\n<b>Bước 1</b>: 2 &lt; 3 &amp; <code>nước màu</code> "
        "&lt;b&gt;not a tag&lt;/b&gt;"
    )
    assert parse_html(html)  # Telegram would accept it


def test_keyboard_drops_callback_data_telegram_would_refuse() -> None:
    markup = keyboard((Button("ok", "fb:up:1", "/hay_1"), Button("too long", "x" * 65, "/x")))
    assert markup is not None
    assert [b.text for b in markup.inline_keyboard[0]] == ["ok"]
    assert keyboard(()) is None


async def test_a_quick_answer_is_one_message_without_preview(bot: Bot, fake: FakeTelegram) -> None:
    box = outbox(bot, Pacing.unlimited())
    for i in range(30):
        await box.preview("Cá kho tộ " * (i + 1))
    await box.send(Reply("Cá kho tộ " * 30, BUTTONS))
    assert fake.sent("editMessageText", CHAT) == []
    assert len(fake.sent("sendMessage", CHAT)) == 1


async def test_a_quick_answer_comes_without_a_typing_indicator(
    bot: Bot, fake: FakeTelegram
) -> None:
    box = outbox(bot, Pacing.unlimited())
    await box.typing()
    await box.send(Reply("Có ngay.", BUTTONS))
    await asyncio.sleep(Pacing.unlimited().typing_after_s + 0.2)
    assert fake.sent("sendChatAction", CHAT) == []
    assert len(fake.sent("sendMessage", CHAT)) == 1


async def test_a_slow_answer_shows_typing_until_it_arrives(bot: Bot, fake: FakeTelegram) -> None:
    box = outbox(bot, Pacing(0.0, 0.0, 0.0, typing_after_s=0.2))
    await box.typing()
    await asyncio.sleep(0.5)  # the model is thinking
    await box.send(Reply("Xong.", BUTTONS))
    await box.close()
    [typing] = fake.sent("sendChatAction", CHAT)
    [message] = fake.sent("sendMessage", CHAT)
    assert typing.params["action"] == "typing" and typing.at < message.at


async def test_no_typing_indicators_while_too_many_answers_are_in_the_works(
    bot: Bot, fake: FakeTelegram
) -> None:
    clocks = ChatClocks(Pacing(0.0, 0.0, 0.0, typing_after_s=0.1, typing_busy=2))
    chats = [CHAT + n for n in range(3)]
    boxes = [TelegramOutbox(bot, str(c), clocks=clocks, is_group=False) for c in chats]
    for box in boxes:
        await box.typing()
    await asyncio.sleep(0.4)  # three slow answers: more than typing_busy
    assert [len(fake.sent("sendChatAction", c)) for c in chats] == [0, 0, 0]
    await boxes[0].send(Reply("Xong một.", BUTTONS))
    await boxes[0].close()
    await boxes[1].close()  # a turn that ended without a reply counts down too
    alone = TelegramOutbox(bot, str(CHAT + 9), clocks=clocks, is_group=False)
    await alone.typing()  # two in the works now: typing as usual
    await asyncio.sleep(0.4)
    assert len(fake.sent("sendChatAction", CHAT + 9)) == 1
    for box in (boxes[2], alone):
        await box.send(Reply("Xong.", BUTTONS))
        await box.close()
    assert clocks.answering == 0


async def test_no_previews_while_too_many_answers_are_in_the_works(
    bot: Bot, fake: FakeTelegram
) -> None:
    clocks = ChatClocks(Pacing(0.0, 0.0, 0.0, first_preview_s=0.0, typing_busy=2))
    boxes = [TelegramOutbox(bot, str(CHAT + n), clocks=clocks, is_group=False) for n in range(3)]
    assert boxes[0].wants_preview  # nothing in the works yet
    for box in boxes:
        await box.typing()
    assert not any(box.wants_preview for box in boxes)  # three: more than typing_busy
    await boxes[2].preview("Cá kho tộ là món")  # a stream begun before: no preview now
    assert fake.sent("sendMessage", CHAT + 2) == []
    await boxes[0].send(Reply("Xong một.", BUTTONS))
    await boxes[0].close()
    assert boxes[2].wants_preview  # two left: previews as usual
    await boxes[2].preview("Cá kho tộ là món ngon")
    assert len(fake.sent("sendMessage", CHAT + 2)) == 1
    for box in boxes[1:]:
        await box.send(Reply("Xong.", BUTTONS))
        await box.close()
    assert clocks.answering == 0


async def test_the_first_preview_waits_for_the_model_not_for_the_message(
    bot: Bot, fake: FakeTelegram
) -> None:
    box = outbox(bot, Pacing(0.0, 0.0, 0.0, first_preview_s=0.4, typing_after_s=5.0))
    await asyncio.sleep(0.5)  # the message waited its turn before the model was asked
    await box.typing()
    await box.preview("Cá kho tộ là món")  # streamed at once: no preview yet
    assert fake.sent("sendMessage", CHAT) == []
    await asyncio.sleep(0.45)  # still streaming after first_preview_s: now it shows
    await box.preview("Cá kho tộ là món ngon")
    assert len(fake.sent("sendMessage", CHAT)) == 1
    await box.send(Reply("Cá kho tộ là món ngon nhất.", BUTTONS))
    [message] = fake.bot_messages(CHAT)
    assert message.text == "Cá kho tộ là món ngon nhất." and message.edits == 1
    await box.close()


async def test_an_answer_waits_only_for_a_typing_indicator_already_on_its_way(
    bot: Bot, fake: FakeTelegram
) -> None:
    box = outbox(bot, Pacing(0.0, 0.0, 0.0, typing_after_s=0.1))
    fake.slow_next("sendChatAction", 0.3)
    await box.typing()
    await asyncio.sleep(0.2)  # the indicator is on its way (Telegram answers it at ~0.4 s)
    started = time.monotonic()
    await box.send(Reply("Xong.", BUTTONS))
    waited = time.monotonic() - started
    [typing] = fake.sent("sendChatAction", CHAT)
    [message] = fake.sent("sendMessage", CHAT)
    assert message.at - typing.at >= 0.25  # the answer came after the indicator, not under it
    assert waited < 0.8  # ... but did not wait for the next repeat or the full grace


async def test_no_typing_or_previews_while_the_answers_take_the_bots_budget(
    bot: Bot, fake: FakeTelegram
) -> None:
    """Calls in the last second at calls_busy_per_s: the answers need Telegram's ~30 a
    second, so no typing indicator or preview takes from it; a second later, as usual."""
    clocks = ChatClocks(
        Pacing(0.0, 0.0, 0.0, first_preview_s=0.0, typing_after_s=0.0, calls_busy_per_s=3)
    )
    for n in range(3):  # three answers go out within the second
        await TelegramOutbox(bot, str(CHAT + n), clocks=clocks, is_group=False).send(
            Reply("Xong.", BUTTONS)
        )
    box = TelegramOutbox(bot, str(CHAT + 9), clocks=clocks, is_group=False)
    assert not box.wants_preview
    await box.typing()
    await box.preview("Cá kho tộ là món")
    assert fake.sent("sendChatAction", CHAT + 9) == [] and fake.bot_messages(CHAT + 9) == []
    await asyncio.sleep(1.05)
    assert box.wants_preview
    await box.preview("Cá kho tộ là món ngon")
    assert len(fake.bot_messages(CHAT + 9)) == 1
    await box.send(Reply("Xong.", BUTTONS))
    await box.close()


def test_rate_limiting_off_keeps_no_budget() -> None:
    """TELEGRAM_RATE_LIMIT=off (a local Bot API server): the budget rule does not apply."""
    clocks = ChatClocks(Pacing.unlimited())
    for _ in range(1000):
        clocks.calling()
    assert not clocks.busy
