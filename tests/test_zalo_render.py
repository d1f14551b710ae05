"""Splitting and rendering for Zalo's plain 2000-character messages."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.types import Button, Reply
from bot.platforms.zalo.render import (
    LIMIT,
    MAX_INLINE_DOCUMENT_CHARS,
    buttons_line,
    render_reply,
    split_message,
)

FEEDBACK = (
    Button("👍", "fb:up:12", "/hay_12"),
    Button("👎", "fb:down:12", "/chuahay_12"),
    Button("📌", "fb:save:12", "/luu_12"),
)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_short_text_is_one_message() -> None:
    assert split_message("  Xin chào cả nhà!  ", LIMIT) == ["Xin chào cả nhà!"]
    assert split_message("   ", LIMIT) == []


def test_splits_on_paragraphs_first() -> None:
    paragraphs = [f"Đoạn {i}: " + "nấu canh chua cá lóc. " * 30 for i in range(6)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    chunks = split_message(text, LIMIT)
    assert all(len(c) <= LIMIT for c in chunks)
    for chunk in chunks:
        assert chunk.startswith("Đoạn ")  # every cut fell between paragraphs
        assert chunk.endswith(".")


def test_falls_back_to_sentences_then_words_then_hard_cut() -> None:
    sentences = " ".join(f"Câu số {i} nói về cách kho cá." for i in range(200))
    chunks = split_message(sentences, LIMIT)
    assert all(len(c) <= LIMIT for c in chunks)
    assert all(c.endswith(".") for c in chunks)
    words = " ".join(["bánh"] * 1000)
    assert all(c.endswith("bánh") for c in split_message(words, LIMIT))
    unbroken = "x" * 4500
    assert [len(c) for c in split_message(unbroken, LIMIT)] == [2000, 2000, 500]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from([*"aăâbcdđeêoôơuư .!?\n", "\n\n", "ạ", "ỗ", "canh ", "chua. "]),
        max_size=3000,
    ).map("".join),
    st.integers(min_value=20, max_value=2500),
)
def test_split_keeps_every_character_and_respects_the_limit(text: str, limit: int) -> None:
    chunks = split_message(text, limit)
    assert all(0 < len(c) <= limit for c in chunks)
    assert _squash("".join(chunks)) == _squash(text)


def test_buttons_become_numbered_commands_under_the_last_part() -> None:
    assert buttons_line(FEEDBACK) == "👍 /hay_12 · 👎 /chuahay_12 · 📌 /luu_12"
    text = "\n\n".join(["Một đoạn văn khá dài về món ăn gia đình. " * 20] * 6)
    messages = render_reply(Reply(text=text, buttons=FEEDBACK, answer_id=12))
    assert len(messages) >= 3
    assert all(len(m) <= LIMIT for m in messages)
    assert messages[-1].endswith("👍 /hay_12 · 👎 /chuahay_12 · 📌 /luu_12")
    assert all("/hay_12" not in m for m in messages[:-1])


def test_footer_that_does_not_fit_goes_in_its_own_message() -> None:
    text = "y" * LIMIT
    messages = render_reply(Reply(text=text, buttons=FEEDBACK))
    assert messages == ["y" * LIMIT, "👍 /hay_12 · 👎 /chuahay_12 · 📌 /luu_12"]


def test_small_text_document_is_sent_inline() -> None:
    body = "title,body\nPhở,Nấu nước dùng 8 tiếng\n"
    reply = Reply(text="Đây là bản xuất:", document=("kb.csv", body.encode()))
    messages = render_reply(reply)
    assert messages[0] == "Đây là bản xuất:"
    assert messages[1].startswith("📄 kb.csv")
    assert "Phở,Nấu nước dùng 8 tiếng" in messages[1]


@pytest.mark.parametrize(
    "data",
    [("z" * (MAX_INLINE_DOCUMENT_CHARS + 1)).encode(), b"\xff\xfe\x00binary"],
)
def test_large_or_binary_document_gets_a_polite_note(data: bytes) -> None:
    messages = render_reply(Reply(text="", document=("family.json", data)))
    assert len(messages) == 1
    assert "hearth kb export" in messages[0]
    assert "Telegram" in messages[0]
    assert "z" * 50 not in messages[0]


def test_note_follows_the_reply_language() -> None:
    reply = Reply(text="", document=("x.bin", b"\x00" * 10_000), meta={"lang": "en"})
    (note,) = render_reply(reply)
    assert note.startswith("📄 x.bin (9 KB) is too large")
