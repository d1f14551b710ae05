"""Everyday family vocabulary in Vietnamese and English, so questions cross languages.

The data ships as knowledge/packs/lexicon.jsonl, one concept a line:
`{"kind": "dish", "vi": ["bánh chưng"], "en": ["square sticky rice cake"], "groups": [...]}`
(and "covers" for a word that stands for a whole group: "thịt" for every meat).
A concept's forms are synonyms across both languages (and regions: "heo"/"lợn"). The kind
says how much a word tells about a question's topic (a dish or an illness much, a person
or "today" nothing); groups say what a constraint avoids ("meat", "spicy", "sweet" …).

Forms are matched on folded syllables (English plurals stemmed), and a marked syllable
typed by the family must agree with a marked form: "cà" is not "cá".
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from knowledge.normalize import fold

KIND_WEIGHTS = {
    "dish": 1.2,
    "custom": 1.2,
    "health": 1.2,
    "ingredient": 1.0,
    "tool": 1.0,
    "home": 1.0,
    "method": 0.8,
    "generic": 0.2,
    "person": 0.0,
    "time": 0.0,
    "chat": 0.0,
}
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_ASCII_RE = re.compile(r"[a-z0-9]+")


def stem(key: str) -> str:
    """An English plural's singular (eggs → egg, chillies → chilly); Vietnamese syllables
    never end in -s, so they pass unchanged."""
    if len(key) <= 3 or not key.endswith("s"):
        return key
    if key.endswith("ies"):
        return key[:-3] + "y"
    if key.endswith(("shes", "ches", "xes", "sses", "oes")):
        return key[:-2]
    if key[-2] in "suia":
        return key
    return key[:-1]


@dataclass(frozen=True, slots=True)
class Token:
    """One syllable of a text: as typed (lower case, marks kept) and as compared."""

    raw: str
    key: str  # folded, stemmed
    plain: str  # folded, as indexed (no stemming)

    @property
    def marked(self) -> bool:
        """Typed with Vietnamese marks, so a marked form must agree exactly."""
        return self.raw != self.plain


@lru_cache(maxsize=8192)
def tokens(text: str) -> tuple[Token, ...]:
    """The syllables of a text, each as typed and folded (cached: entries repeat)."""
    out: list[Token] = []
    for word in _WORD_RE.findall(unicodedata.normalize("NFC", text).lower()):
        parts = _ASCII_RE.findall(fold(word))
        if len(parts) == 1:
            out.append(Token(word, stem(parts[0]), parts[0]))
        else:
            out.extend(Token(p, stem(p), p) for p in parts)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Concept:
    """One meaning and every way families write it."""

    id: int
    kind: str
    vi: tuple[str, ...]
    en: tuple[str, ...]
    groups: frozenset[str]
    covers: frozenset[str] = frozenset()  # "thịt" stands for every meat, "cay" for chilli

    @property
    def weight(self) -> float:
        """How much this word tells about what a question is about."""
        return KIND_WEIGHTS.get(self.kind, 1.0)


@dataclass(frozen=True, slots=True)
class Form:
    """One written form of a concept, as tokens."""

    concept: int
    lang: str
    toks: tuple[Token, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """The compared syllables."""
        return tuple(t.key for t in self.toks)


@dataclass(frozen=True, slots=True)
class Span:
    """Where a concept was found in a text: tokens [start, end) and the concepts it may be."""

    start: int
    end: int
    concepts: tuple[int, ...]
    langs: frozenset[str] = frozenset()  # the languages of the forms it matched


def _agrees(typed: Token, form: Token, lang: str) -> bool:
    """Same folded syllable; a syllable typed with marks has the same marks as a Vietnamese
    form ("mưa" is not "mua"; a form is written as Vietnamese writes it), and may be an
    English word ("phở" is "pho")."""
    if typed.key != form.key:
        return False
    if not typed.marked:
        return True
    return typed.raw == form.raw or (lang == "en" and not form.marked)


class Lexicon:
    """The concepts and an index of their forms by first syllable."""

    def __init__(self, concepts: list[Concept]) -> None:
        self.concepts = concepts
        self._by_first: dict[str, list[Form]] = {}
        self._groups: dict[str, list[int]] = {}
        for concept in concepts:
            for group in concept.groups:
                self._groups.setdefault(group, []).append(concept.id)
        for concept in concepts:
            for lang, texts in (("vi", concept.vi), ("en", concept.en)):
                for text in texts:
                    toks = tokens(text)
                    if toks:
                        form = Form(concept.id, lang, toks)
                        self._by_first.setdefault(toks[0].key, []).append(form)
        for forms in self._by_first.values():
            forms.sort(key=lambda f: -len(f.toks))

    def in_group(self, group: str) -> list[int]:
        """The concepts of a group ("meat": thịt, heo, bò, gà …)."""
        return list(self._groups.get(group, ()))

    def forms_of(self, concept_id: int) -> list[Form]:
        """Every form of a concept, Vietnamese first."""
        concept = self.concepts[concept_id]
        found = [Form(concept_id, "vi", tokens(t)) for t in concept.vi]
        return found + [Form(concept_id, "en", tokens(t)) for t in concept.en]

    def _at(self, toks: tuple[Token, ...], i: int) -> Span | None:
        """The longest concept form starting at token i (exact marks preferred)."""
        best: list[Form] = []
        for form in self._by_first.get(toks[i].key, ()):
            n = len(form.toks)
            if best and n < len(best[0].toks):
                break
            if i + n <= len(toks) and all(
                _agrees(toks[i + j], form.toks[j], form.lang) for j in range(n)
            ):
                best.append(form)
        if not best:
            return None
        n = len(best[0].toks)
        exact = [f for f in best if all(f.toks[j].raw == toks[i + j].raw for j in range(n))]
        chosen = exact or best
        concepts = tuple(dict.fromkeys(f.concept for f in chosen))
        return Span(i, i + n, concepts, frozenset(f.lang for f in chosen))

    def spans(self, toks: tuple[Token, ...], skip: frozenset[str] = frozenset()) -> list[Span]:
        """Concepts found left to right, longest first; one-syllable forms whose syllable
        is in `skip` (filler words such as 'me', 'can') are not concepts."""
        found: list[Span] = []
        i = 0
        while i < len(toks):
            span = self._at(toks, i)
            # a filler syllable is no concept ("me", "hoi"), unless typed with marks ("hôi")
            single_filler = (
                span is not None
                and span.end - span.start == 1
                and (toks[i].plain in skip and not toks[i].marked)
            )
            if span is not None and not single_filler:
                found.append(span)
                i = span.end
            else:
                i += 1
        return found


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The shipped lexicon (read once per process)."""
    item = resources.files("knowledge.packs").joinpath("lexicon.jsonl")
    concepts: list[Concept] = []
    for line in item.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        concepts.append(
            Concept(
                len(concepts),
                str(row["kind"]),
                tuple(row.get("vi") or ()),
                tuple(row.get("en") or ()),
                frozenset(row.get("groups") or ()),
                frozenset(row.get("covers") or ()),
            )
        )
    return Lexicon(concepts)
