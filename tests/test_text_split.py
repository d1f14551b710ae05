"""The shared splitter: pieces fit, words stay whole, nothing is lost."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.platforms.text_split import split_message, utf16_len


def _words(pieces: list[str]) -> list[str]:
    return " ".join(pieces).split()


def test_short_text_is_one_piece() -> None:
    assert split_message("  cá kho tộ  ", 4096) == ["cá kho tộ"]


def test_blank_text_gives_nothing() -> None:
    assert split_message(" \n ", 10) == []


def test_prefers_paragraph_boundary() -> None:
    para1 = "Bước một. Ướp cá với nước mắm."
    para2 = "Bước hai. Kho lửa nhỏ."
    pieces = split_message(f"{para1}\n\n{para2}", len(para1) + 10)
    assert pieces == [para1, para2]


def test_falls_back_to_sentence_then_word() -> None:
    text = "Một câu ngắn. Một câu khác dài hơn nhiều so với câu trước đó"
    pieces = split_message(text, 20)
    assert pieces[0] == "Một câu ngắn."
    assert all(len(p) <= 20 for p in pieces)
    assert _words(pieces) == text.split()


def test_6000_chars_become_two_pieces_at_4096() -> None:
    paragraph = ("Kho cá với nước dừa cho đến khi sánh lại. " * 10).strip()
    text = "\n\n".join([paragraph] * 15)[:6000].rsplit(" ", 1)[0]
    pieces = split_message(text, 4096)
    assert len(pieces) == 2
    assert all(len(p) <= 4096 for p in pieces)
    assert pieces[0].endswith(".")
    assert _words(pieces) == text.split()


def test_word_longer_than_limit_is_cut_only_then() -> None:
    url = "https://example.com/" + "a" * 50
    pieces = split_message(f"xem {url} nhé", 30)
    assert all(len(p) <= 30 for p in pieces)
    assert "".join(pieces).replace(" ", "") == f"xem{url}nhé"


def test_utf16_measure_counts_emoji_twice() -> None:
    text = "😀" * 10
    pieces = split_message(text, 6, measure=utf16_len)
    assert all(utf16_len(p) <= 6 for p in pieces)
    assert "".join(pieces) == text


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_message("x", 0)


_alphabet = st.sampled_from([*"abcđêơ ư.!?\n😀", "\n\n", " "])


@settings(max_examples=300, deadline=None)
@given(st.lists(_alphabet, max_size=400).map("".join), st.integers(min_value=4, max_value=60))
def test_property_nothing_lost_and_all_fit(text: str, limit: int) -> None:
    pieces = split_message(text, limit, measure=utf16_len)
    assert all(p and utf16_len(p) <= limit for p in pieces)
    assert all(p == p.strip() for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())
    if all(utf16_len(w) <= limit for w in text.split()):
        # No word was cut: the pieces hold exactly the original words, in order.
        assert _words(pieces) == text.split()
