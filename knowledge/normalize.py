"""How Vietnamese families type, made comparable: one folded, lowercase, syllable form.

"Cá kho tộ", "CA KHO TO", "ca kho to" and the NFD spelling of the first all become the
syllables ["ca", "kho", "to"]. đ/Đ have no Unicode decomposition and are mapped by hand.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable

_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)
_ASCII_TOKEN_RE = re.compile(r"[a-z0-9]+")

# Words that carry no topic in a question; dropped from queries (never from the index)
# unless the query has nothing else.
STOPWORDS = frozenset(
    """
    a an the is are was be to of for in on at and or with how what why when where which who
    do does did can could should would i you we my our your me it this that please about
    make made get from some any there
    la lam sao the nao gi cach nhu co khong duoc cho voi va thi nay nhe oi
    ah vay roi minh em anh hay mot nhung cac cua o ve ra vao nua
    """.split()  # noqa: SIM905
)


def nfc_lower(text: str) -> str:
    """NFC and lowercase: the accented form, independent of how the text was composed."""
    return unicodedata.normalize("NFC", text).lower()


def _fold_table() -> dict[int, str | None]:
    """Every Latin letter with marks → its base letter; combining marks → nothing."""
    table: dict[int, str | None] = {}
    ranges = (range(0xC0, 0x250), range(0x1E00, 0x1F00))
    for cp in (c for r in ranges for c in r):
        ch = chr(cp)
        base = "".join(
            c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn"
        )
        if base and base != ch:
            table[cp] = base.lower()
    for cp in range(0x300, 0x370):
        table[cp] = None
    table.update({ord(k): v for k, v in {"đ": "d", "Đ": "d", "ð": "d", "ł": "l", "ø": "o"}.items()})
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Lowercase, strip every diacritic (đ→d too); Unicode form and case no longer matter."""
    return unicodedata.normalize("NFC", text).lower().translate(_FOLD)


def syllables(text: str) -> list[str]:
    """Folded syllables (ASCII letters and digits) in order."""
    return _ASCII_TOKEN_RE.findall(fold(text))


def accented(text: str) -> list[str]:
    """Lowercase NFC syllables that carry a diacritic (a typed accent is extra signal)."""
    return [t for t in _TOKEN_RE.findall(nfc_lower(text)) if not t.isascii()]


def bigrams(tokens: list[str]) -> list[str]:
    """Adjacent syllable pairs as one token, `ca_kho`, so phrases outrank scattered words."""
    return [f"{a}_{b}" for a, b in itertools.pairwise(tokens)]


def content_tokens(tokens: list[str]) -> list[str]:
    """The query's topic words: stopwords dropped unless nothing would remain."""
    kept = [t for t in tokens if t not in STOPWORDS]
    return kept or tokens


def deletions(term: str) -> set[str]:
    """All one-letter deletions of a term (the symmetric-delete typo neighbourhood)."""
    return {term[:i] + term[i + 1 :] for i in range(len(term))}


def within_one_edit(a: str, b: str) -> bool:
    """Damerau–Levenshtein distance ≤ 1 (one insertion, deletion, substitution or swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if la < lb else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def contains_phrase(haystack: list[str], needle: list[str]) -> bool:
    """True when `needle` occurs as a contiguous run of syllables in `haystack`."""
    n = len(needle)
    if n == 0 or n > len(haystack):
        return False
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def unique(items: Iterable[str]) -> list[str]:
    """Order-preserving de-duplication."""
    return list(dict.fromkeys(items))
