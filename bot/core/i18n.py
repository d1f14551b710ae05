"""Pick Vietnamese or English per user, and guess a text's language cheaply."""

from __future__ import annotations

import re
import unicodedata

VI_LETTERS = set("ăâđêôơưĂÂĐÊÔƠƯ")
# Frequent Vietnamese syllables that families type without diacritics.
VI_PLAIN_WORDS = frozenset(
    [
        "la",
        "lam",
        "the",
        "nao",
        "gi",
        "sao",
        "khong",
        "co",
        "duoc",
        "nhu",
        "cho",
        "cua",
        "voi",
        "va",
        "nhung",
        "mot",
        "hai",
        "ba",
        "bao",
        "nhieu",
        "nau",
        "an",
        "com",
        "ca",
        "kho",
        "thit",
        "rau",
        "canh",
        "bun",
        "pho",
        "banh",
        "me",
        "bo",
        "con",
        "chau",
        "ong",
        "ba",
        "noi",
        "ngoai",
        "nha",
        "minh",
        "toi",
        "em",
        "anh",
        "chi",
        "oi",
        "a",
        "nhe",
        "nha",
        "roi",
        "chua",
        "dang",
        "se",
        "phai",
        "nen",
        "hay",
        "cach",
        "mon",
        "ngay",
        "tet",
        "gio",
        "mua",
        "nuoc",
        "mam",
        "duong",
        "muoi",
        "tieu",
        "ot",
        "toi",
        "hanh",
        "cay",
        "hom",
        "nay",
        "mai",
        "tuan",
        "thang",
        "nam",
    ]
)
EN_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "is",
        "are",
        "how",
        "what",
        "why",
        "when",
        "where",
        "who",
        "which",
        "do",
        "does",
        "can",
        "could",
        "should",
        "would",
        "to",
        "of",
        "for",
        "with",
        "and",
        "or",
        "my",
        "our",
        "your",
        "i",
        "you",
        "we",
        "it",
        "this",
        "that",
        "in",
        "on",
        "at",
        "make",
        "cook",
        "recipe",
        "please",
        "thanks",
        "hello",
        "hi",
    ]
)
WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)


def tr(lang: str, vi: str, en: str, **kwargs: object) -> str:
    """Choose the user's language at the call site so both texts stay side by side."""
    text = vi if lang == "vi" else en
    return text.format(**kwargs) if kwargs else text


def has_vietnamese_marks(text: str) -> bool:
    """True when the text carries letters or tone marks only Vietnamese uses."""
    for ch in unicodedata.normalize("NFD", text):
        if ch in VI_LETTERS:
            return True
        if (
            unicodedata.category(ch) == "Mn"
            and ch in "\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b"
        ):
            return True
    return False


def detect_language(text: str, default: str = "vi") -> str:
    """'vi', 'en' or 'mixed' — good enough to answer in the language the user wrote in."""
    words = [w.lower() for w in WORD_RE.findall(text)]
    if not words:
        return default
    marked = has_vietnamese_marks(text)
    vi_hits = sum(1 for w in words if w in VI_PLAIN_WORDS)
    en_hits = sum(1 for w in words if w in EN_WORDS)
    if marked:
        return "mixed" if en_hits >= 3 and en_hits > len(words) // 2 else "vi"
    if en_hits > vi_hits:
        return "en"
    if vi_hits > en_hits:
        return "vi"
    return default


def reply_language(text: str, fallback: str | None) -> str:
    """The language to reply in: the text's own, else the member's or family's."""
    base = (fallback or "vi")[:2].lower()
    base = "en" if base == "en" else "vi"
    found = detect_language(text, default=base)
    return "vi" if found == "mixed" else found
