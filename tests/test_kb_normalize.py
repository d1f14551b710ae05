"""Normalisation: Unicode form, case and diacritics never matter; typo distance is exact."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from knowledge.normalize import (
    accented,
    bigrams,
    content_tokens,
    deletions,
    fold,
    syllables,
    within_one_edit,
)

VI_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂBCDĐEÊGHIKLMNOÔƠPQRSTUƯVXY"
TONES = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]
syllable = st.builds(
    lambda letters, tone: unicodedata.normalize("NFC", letters[:1] + tone + letters[1:]),
    st.text(alphabet=VI_LETTERS, min_size=1, max_size=6),
    st.sampled_from(TONES),
)
phrase = st.lists(syllable, min_size=1, max_size=6).map(" ".join)


@given(phrase)
def test_form_and_case_do_not_matter(text: str) -> None:
    nfd = unicodedata.normalize("NFD", text)
    assert fold(nfd) == fold(text) == fold(text.upper()) == fold(text.lower())
    assert syllables(nfd) == syllables(text)
    assert all(t.isascii() for t in syllables(text))


def test_known_spellings() -> None:
    assert syllables("Cá Kho Tộ") == ["ca", "kho", "to"]
    assert syllables("ĐẬU HŨ, đậu phụ!") == ["dau", "hu", "dau", "phu"]
    assert syllables(unicodedata.normalize("NFD", "Đường")) == ["duong"]
    assert syllables("Nước mắm (1:1:4)") == ["nuoc", "mam", "1", "1", "4"]
    assert accented("Cá kho TỘ ca") == ["cá", "tộ"]
    assert bigrams(["ca", "kho", "to"]) == ["ca_kho", "kho_to"]
    assert content_tokens(["lam", "sao", "nau", "pho"]) == ["nau", "pho"]
    assert content_tokens(["la", "gi"]) == ["la", "gi"]  # nothing else left: keep them


@given(st.text(alphabet="abcdeghk", min_size=1, max_size=8), st.data())
def test_one_edit_matches_the_definition(word: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(word) - 1))
    c = data.draw(st.sampled_from("abcdeghk"))
    for variant in (
        word[:i] + word[i + 1 :],
        word[:i] + c + word[i:],
        word[:i] + c + word[i + 1 :],
    ):
        assert within_one_edit(word, variant) and within_one_edit(variant, word)
    if len(word) >= 2 and i + 1 < len(word):
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        assert within_one_edit(word, swapped)
    assert word[:i] + word[i + 1 :] in deletions(word)


def test_two_edits_are_not_one() -> None:
    assert within_one_edit("chung", "chuong")  # one inserted letter
    assert not within_one_edit("chung", "chuyen")
    assert not within_one_edit("kho", "khong")
    assert not within_one_edit("abcd", "badc")
