"""Vietnamese-aware word matching: fold diacritics, drop filler words, spot constraints.

Matching is diacritics-insensitive (đ→d, tone marks dropped) so a family typing without
accents still matches, but two words that both carry marks must agree exactly: "cá" (fish)
does not match "cà" (aubergine), while an unaccented "ca" matches either.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.core.i18n import EN_WORDS, VI_PLAIN_WORDS, has_vietnamese_marks


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)

# Folded filler words that carry no topic (question words, pronouns, particles).
VI_STOP = _wordset(
    """
    la lam the nao gi sao khong co duoc nhu cho cua voi va nhung mot cac cai thi ma
    minh toi em anh chi oi a nhe nha roi chua dang se phai nen hay cach ra vao di
    nay do kia day ay bi bo duoc khi neu de tu tai trong ngoai len xuong o hoi biet
    muon can giup voi ban ai may bao nhieu lau
    """
)
EN_STOP = _wordset(
    """
    the a an is are was were be how what why when where who which do does did can could
    should would will to of for with and or my our your i you we it its this that these
    those in on at by from about make made please thanks hello hi me us they them their
    there here any some much many way ways tell know want need good best
    """
)
EN_EXTRA = _wordset(
    """
    cook cooking recipe dish make prepare eat food fish pork chicken beef soup rice
    noodle noodles braised grandma grandpa mom dad kids holiday custom new year
    """
)

# Folded phrases that mark a fact or profile line as a constraint (always kept).
CONSTRAINT_MARKERS = (
    "khong an",
    "khong uong",
    "khong dung",
    "khong co lo",
    "khong co bep",
    "khong the an",
    "kieng",
    "di ung",
    "an chay",
    "chay truong",
    "an kieng",
    "tieu duong",
    "huyet ap",
    "gout",
    "benh than",
    "mang thai",
    "co bau",
    "cho con bu",
    "it cay",
    "khong cay",
    "khong an cay",
    "so cay",
    "allerg",
    "vegetarian",
    "vegan",
    "halal",
    "kosher",
    "gluten",
    "lactose",
    "diabet",
    "pregnan",
    "no oven",
    "no microwave",
    "does not eat",
    "doesn't eat",
    "dont eat",
    "don't eat",
    "can't eat",
    "cannot eat",
    "avoid",
    "intoleran",
    "no pork",
    "no beef",
    "no chilli",
    "no chili",
    "no spicy",
)


def fold(text: str) -> str:
    """Lower-case, strip Vietnamese marks, đ→d: the form every comparison uses."""
    if len(text) <= 24:
        return _fold_short(text)
    return _fold(text)


@lru_cache(maxsize=65536)
def _fold_short(text: str) -> str:
    return _fold(text)


class _FoldTable(dict[int, int | str | None]):
    """str.translate table after NFD: combining marks (category Mn) dropped, đ → d.

    Filled on first sight of each character (up to a bound, so text full of rare
    characters cannot grow it without end), so translate() mostly runs in C."""

    def __missing__(self, code: int) -> int | str | None:
        value: int | str | None = None if unicodedata.category(chr(code)) == "Mn" else code
        if len(self) < 8192:
            self[code] = value
        return value


_FOLD_TABLE = _FoldTable({ord("đ"): "d"})  # lower() has turned Đ into đ already


def _fold(text: str) -> str:
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    return unicodedata.normalize("NFD", lowered).translate(_FOLD_TABLE)


def words(text: str) -> list[str]:
    """Lower-cased words of a text, marks kept (NFC)."""
    return [w.lower() for w in _WORD_RE.findall(unicodedata.normalize("NFC", text))]


@dataclass(frozen=True, slots=True)
class Word:
    """A word as typed (lower-case) and folded."""

    raw: str
    folded: str

    @property
    def marked(self) -> bool:
        """Carries Vietnamese marks, so it must match exactly another marked word."""
        return self.raw != self.folded


def content_words(text: str) -> list[Word]:
    """Topic words: filler words and single letters dropped."""
    return list(_content_words(text))


@lru_cache(maxsize=65536)
def _topic(raw: str) -> str | None:
    """The folded form of a (lower-case) word, or None for a filler word, letter or number."""
    folded = fold(raw)
    if len(folded) < 2 or folded in VI_STOP or folded in EN_STOP or folded.isdigit():
        return None
    return folded


@lru_cache(maxsize=4096)
def _content_words(text: str) -> tuple[Word, ...]:
    out = []
    for raw in words(text):
        folded = _topic(raw)
        if folded is not None:
            out.append(Word(raw, folded))
    return tuple(out)


@lru_cache(maxsize=4096)
def _word_index(text: str) -> dict[str, set[str]]:
    """folded word → the spellings it has in the text (entries are measured again and again).

    Shared through the cache: read it, never change it."""
    index: dict[str, set[str]] = {}
    for raw in words(text):
        folded = _topic(raw)
        if folded is None:
            continue
        spellings = index.get(folded)
        if spellings is None:
            index[folded] = {raw}
        else:
            spellings.add(raw)
    return index


def same_word(a: Word, b: Word) -> bool:
    """Diacritics-insensitive unless both words carry marks (then they must agree)."""
    if a.folded != b.folded:
        return False
    return not (a.marked and b.marked) or a.raw == b.raw


def overlap(query: list[Word], text: str) -> list[str]:
    """The query words found in a text (folded, in query order, unique)."""
    found: list[str] = []
    index = _word_index(text)
    for q in query:
        if q.folded in found:
            continue
        spellings = index.get(q.folded)
        if not spellings:
            continue
        # same_word: equal when folded, unless both carry marks and the marks differ
        if not q.marked or q.raw in spellings or q.folded in spellings:
            found.append(q.folded)
    return found


@lru_cache(maxsize=4096)
def _all_words(text: str) -> tuple[Word, ...]:
    """Every word of a text, typed and folded (the question is matched against each term)."""
    return tuple(Word(w, fold(w)) for w in words(text))


@lru_cache(maxsize=1024)
def _starts(text: str) -> dict[str, tuple[int, ...]]:
    """folded word → where it occurs among _all_words(text); read it, never change it."""
    index: dict[str, list[int]] = {}
    for i, word in enumerate(_all_words(text)):
        index.setdefault(word.folded, []).append(i)
    return {k: tuple(v) for k, v in index.items()}


def contains_phrase(haystack: str, phrase: str) -> bool:
    """Whole-word phrase match, diacritics-insensitive unless both sides carry marks.

    'ca kho' and 'cá kho' are found in 'Cá kho tộ'; 'cà kho' is not.
    """
    needle = _all_words(phrase)
    if not needle:
        return False
    hay = _all_words(haystack)
    n = len(needle)
    # a match can only start where the first word matches when folded
    return any(
        all(same_word(needle[i], hay[start + i]) for i in range(n))
        for start in _starts(haystack).get(needle[0].folded, ())
        if start + n <= len(hay)
    )


_CONSTRAINT_RE = re.compile("|".join(re.escape(m) for m in CONSTRAINT_MARKERS))
_WORD_OR_QUOTE_RE = re.compile(r"[^\W_]+|'", re.UNICODE)


@lru_cache(maxsize=4096)
def is_constraint(text: str) -> bool:
    """A fact the model must always see: allergies, 'không ăn …', diet, missing tools.

    Cached: a family's facts are checked again for every question."""
    folded = " " + " ".join(fold(w) for w in _WORD_OR_QUOTE_RE.findall(text.lower())) + " "
    folded = folded.replace(" ' ", "'")
    # any marker as a substring of either form
    return (
        _CONSTRAINT_RE.search(folded) is not None or _CONSTRAINT_RE.search(fold(text)) is not None
    )


def detect_question_language(text: str, preferred: str) -> tuple[str, str]:
    """(detected, answer): detected is 'vi', 'en' or 'mixed'; the answer is 'vi' or 'en'.

    Function words decide ("làm … thế nào" vs "how do I …"), so an English question that
    names a Vietnamese dish is answered in English; dish names alone count as Vietnamese.
    """
    preferred = "en" if (preferred or "vi")[:2].lower() == "en" else "vi"
    toks = words(text)
    if not toks:
        return preferred, preferred
    vi_func = en_func = vi_content = en_content = 0
    for w in toks:
        marked = has_vietnamese_marks(w)
        folded = fold(w)
        english = w in EN_STOP or w in EN_WORDS
        if marked:
            vi_func += folded in VI_STOP
            vi_content += folded not in VI_STOP
        elif english and (folded in VI_STOP or folded in VI_PLAIN_WORDS):
            continue  # 'a', 'the', 'an' … read as either language
        elif folded in VI_STOP:
            vi_func += 1
        elif english:
            en_func += 1
        elif w in EN_EXTRA:
            en_content += 1
        elif w in VI_PLAIN_WORDS:
            vi_content += 1
    vi_any, en_any = vi_func + vi_content, en_func + en_content
    if vi_func and en_func:
        if vi_func == en_func:
            return "mixed", preferred
        return "mixed", "vi" if vi_func > en_func else "en"
    if en_func:
        return ("mixed" if vi_any else "en"), "en"
    if vi_func:
        return ("mixed" if en_any else "vi"), "vi"
    if vi_any and en_any:
        return "mixed", preferred
    if vi_any:
        return "vi", "vi"
    if en_any:
        return "en", "en"
    return preferred, preferred
