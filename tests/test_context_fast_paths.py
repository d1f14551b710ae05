"""The fast text helpers of the rewriter agree with their plain, obviously-right versions.

Each reference below is the straightforward form the helper had before it was made fast
(character loops, one substring test per marker, every start position tried).
"""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.guard import INJECTION_MARKERS, looks_like_injection
from knowledge.relevance import (
    CONSTRAINT_MARKERS,
    Word,
    contains_phrase,
    fold,
    is_constraint,
    same_word,
    words,
)
from knowledge.tokens import estimate_tokens

VI = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
CHARS = st.one_of(
    st.sampled_from(VI + VI.upper()),
    st.sampled_from(" \n\t\u00a0.,!?'⟦⟧_0123456789"),
    st.sampled_from(["\u0301", "\u0323", "Đ", "đ", "²", "Ⅻ"]),
    st.characters(),
)
TEXT = st.lists(CHARS, max_size=60).map("".join)
PHRASES = st.lists(
    st.sampled_from(
        ["cá", "ca", "cà", "kho", "tộ", "phở", "pho", "Tết", "tet", "mâm", "ngũ", "quả"]
    )
)


def _fold_reference(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def _estimate_reference(text: str) -> int:
    total = 0
    for piece in re.findall(r"[^\W\d_]+|\d+|\n|[^\w\s]|_", text):
        first = piece[0]
        if first == "\n":
            total += 1
        elif first.isdigit():
            total += (len(piece) + 2) // 3
        elif first.isalpha():
            if piece.isascii():
                total += 1 + len(piece) // 4
            else:
                non_ascii = sum(1 for ch in piece if ord(ch) > 127)
                total += 1 + non_ascii + (len(piece) >= 3) + (len(piece) >= 6)
        else:
            total += 1
    return total


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_fold_matches_the_character_loop(text):
    assert fold(text) == _fold_reference(text)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_estimate_matches_the_piece_loop(text):
    assert estimate_tokens(text) == _estimate_reference(text)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(INJECTION_MARKERS), TEXT, TEXT, st.sampled_from([" ", "\n ", "\u00a0"]))
def test_injection_check_matches_one_substring_test_per_marker(marker, before, after, gap):
    for text in (before, before + marker.replace(" ", gap).upper() + after):
        folded = " ".join(fold(text).split())
        assert looks_like_injection(text) == any(m in folded for m in INJECTION_MARKERS)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(CONSTRAINT_MARKERS), TEXT, st.booleans())
def test_constraint_check_matches_one_substring_test_per_marker(marker, text, add):
    text = text + " " + marker if add else text
    spaced = " " + " ".join(fold(w) for w in re.findall(r"[^\W_]+|'", text.lower())) + " "
    spaced = spaced.replace(" ' ", "'")
    expected = any(m in spaced or m in fold(text) for m in CONSTRAINT_MARKERS)
    assert is_constraint(text) == expected


@settings(max_examples=300, deadline=None)
@given(PHRASES, PHRASES)
def test_phrase_match_matches_trying_every_start(hay_words, needle_words):
    haystack, phrase = " ".join(hay_words), " ".join(needle_words)
    needle = [Word(w, fold(w)) for w in words(phrase)]
    hay = [Word(w, fold(w)) for w in words(haystack)]
    n = len(needle)
    expected = bool(needle) and any(
        all(same_word(needle[i], hay[start + i]) for i in range(n))
        for start in range(len(hay) - n + 1)
    )
    assert contains_phrase(haystack, phrase) == expected
