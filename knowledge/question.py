"""What a question is about: its topic units, what it asks to leave out, small talk, health.

A unit is a word or a lexicon phrase ("cá kho", "tiểu đường", "square sticky rice cake")
with a weight (a dish or an illness tells much, a person or "today" nothing) and every
form that says the same thing in Vietnamese or English. "không ớt", "bỏ ớt", "no chilli"
mark the ingredient as left out: it is not searched for, and a source using it is flagged.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from functools import lru_cache

from knowledge.lexicon import Concept, Span, Token, lexicon, tokens
from knowledge.normalize import STOPWORDS


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# filler words of questions (folded); the search's own stopwords and a few more
FILLER = STOPWORDS | _wordset(
    """
    bi ma de khi neu tai trong nhe nha a oi ai dau bao nhieu lau sao voi duoc can muon
    giup hoi biet toi ban chi nao gi vay ha u un nhi ne kia day do nay gium phai qua di
    ghe that luon
    tell know want need way ways best much many its them they their us some hearth
    has have had having he she him his her hers s t ll ve re d m up after getting gets got
    happen happens happened also just really still into then than very too thing things
    might must shall anything something everything someone anyone
    """
)
NEGATORS = (
    ("khong", "co"),
    ("khong", "cho"),
    ("khong", "bo"),
    ("khong", "dung"),
    ("khong", "an"),
    ("khong", "can"),
    ("khong",),
    ("bo",),
    ("it",),
    ("tru",),
    ("kieng",),
    ("no",),
    ("without",),
    ("not",),
    ("skip",),
    ("minus",),
    ("less",),
    ("leave", "out"),
    ("hold", "the"),
)
NEGATOR_MARKS = {"bo": ("bỏ", "bo"), "it": ("ít",)}  # "bò" is beef, "it" a pronoun
AFTER_NEGATORS = ("free",)  # "gluten free", "sugar free"
AVOIDABLE = frozenset({"ingredient", "dish"})
TOPIC_MIN_WEIGHT = 0.8  # dish, custom, health, ingredient, tool, home, method, any word
MAX_EXPANSIONS = 16
NAMED_KINDS = frozenset({"dish", "custom"})
CONJUNCTIONS = frozenset({"va", "hay", "hoac", "and", "or", "vs", "versus"})


@dataclass(frozen=True, slots=True)
class Unit:
    """One thing the question names, with the forms that say it."""

    text: str  # as typed
    kind: str  # a lexicon kind, or "word"
    weight: float
    forms: tuple[tuple[Token, ...], ...]  # as typed first, then synonyms and translations
    groups: frozenset[str] = frozenset()
    negated: bool = False
    concept: int | None = None  # the one lexicon concept it is, when not ambiguous
    translated: frozenset[int] = frozenset()  # positions in `forms` in the other language

    @property
    def typed(self) -> tuple[Token, ...]:
        """The unit as the family typed it."""
        return self.forms[0]


@dataclass(frozen=True, slots=True)
class Question:
    """A question, analysed once (cached by its text)."""

    text: str
    units: tuple[Unit, ...]
    search_text: str  # the question without what it asks to leave out
    expansions: tuple[str, ...]  # index terms of the same words in the other language …
    synonyms: tuple[str, ...] = ()  # … and of other words in the question's own language
    choices: frozenset[int] = frozenset()  # positions in `units` of dishes asked side by side

    @property
    def topic(self) -> tuple[Unit, ...]:
        """The units that say what the question is about."""
        return tuple(u for u in self.units if u.weight > 0 and not u.negated)

    @property
    def avoided(self) -> tuple[Unit, ...]:
        """Ingredients the question asks to leave out ("không ớt", "no chilli")."""
        return tuple(u for u in self.units if u.negated)

    @property
    def weight(self) -> float:
        """How much there is to be about (0: nothing to look up)."""
        return sum(u.weight for u in self.topic)

    @property
    def topical(self) -> bool:
        """Names something to look up (a dish, a custom, an illness, a tool, any other word);
        "nấu gì hôm nay?" does not."""
        return any(u.weight >= TOPIC_MIN_WEIGHT for u in self.topic)

    @property
    def small_talk(self) -> bool:
        """No topic and no request at all: greetings, thanks, the weather."""
        return not self.topical and not any(u.kind == "generic" for u in self.topic)

    @property
    def health(self) -> bool:
        """The question is about an illness, an injury or a body condition."""
        return any(u.kind == "health" for u in self.topic)


def _negated(toks: tuple[Token, ...], start: int, end: int) -> tuple[bool, int]:
    """Whether a negator stands just before tokens [start, end) (fillers may sit between),
    or "free" just after; and where the negator starts (to leave it out of the search)."""
    j = start
    while j > 0 and toks[j - 1].plain in FILLER and toks[j - 1].plain not in ("khong", "no"):
        j -= 1
        if start - j > 2:
            break
    for negator in NEGATORS:
        n = len(negator)
        if j - n < 0 or tuple(t.plain for t in toks[j - n : j]) != negator:
            continue
        last = toks[j - 1]
        allowed = NEGATOR_MARKS.get(last.plain)
        if n == 1 and allowed is not None and last.raw not in allowed:
            continue
        return True, j - n
    if end < len(toks) and toks[end].plain in AFTER_NEGATORS:
        return True, start
    return False, start


def _unit(toks: tuple[Token, ...], span: Span, concepts: list[Concept]) -> Unit:
    typed = toks[span.start : span.end]
    text = " ".join(t.raw for t in typed)
    lex = lexicon()
    if len(concepts) == 1:
        concept = concepts[0]
        others = [f for f in lex.forms_of(concept.id) if f.keys != tuple(t.key for t in typed)]
        translated = frozenset(n for n, f in enumerate(others, 1) if f.lang not in span.langs)
        forms = (typed, *(f.toks for f in others))
        return Unit(
            text, concept.kind, concept.weight, forms, concept.groups, False, concept.id, translated
        )
    weight = max(c.weight for c in concepts)
    kind = max(concepts, key=lambda c: c.weight).kind
    if all(c.weight > 0 for c in concepts):
        # "rice" is cơm (cooked) or gạo (grain), "bugs" insects or weevils: every meaning's
        # forms say it, so either entry is found; none of them is left out for "không …"
        keys = tuple(t.key for t in typed)
        others = [f for c in concepts for f in lex.forms_of(c.id) if f.keys != keys]
        unique = list({f.keys: f for f in others}.values())
        translated = frozenset(n for n, f in enumerate(unique, 1) if f.lang not in span.langs)
        forms = (typed, *(f.toks for f in unique))
        return Unit(text, kind, weight, forms, frozenset(), False, None, translated)
    # "bo" without marks: beef, dad or butter — its own spelling only, as topical as the most
    return Unit(text, kind, weight, (typed,))


def _word(tok: Token) -> Unit:
    short = len(tok.plain) <= 2 and not tok.marked  # "cá", "gà" are words; "ok", "b" hardly
    weight = 0.0 if tok.plain.isdigit() else (0.5 if short else 1.0)
    return Unit(tok.raw, "word", weight, ((tok,),))


def _index_term(form: tuple[Token, ...]) -> str | None:
    """A form as one index term: a syllable, a bigram, or a phrase of bigrams."""
    plain = [t.plain for t in form]
    if not plain:
        return None
    if len(plain) == 1:
        # one folded syllable stands for many words ("hoi": hôi, hỏi, hội): the marked one
        return form[0].raw if form[0].marked else (plain[0] if len(plain[0]) >= 3 else None)
    pairs = [f"{a}_{b}" for a, b in itertools.pairwise(plain)]
    return " ".join(pairs)


@lru_cache(maxsize=2048)
def analyse(text: str) -> Question:
    """Units, left-out ingredients, the text to search and its cross-language expansions."""
    toks = tokens(text or "")
    lex = lexicon()
    placed: list[tuple[int, Unit]] = []
    dropped: set[int] = set()
    covered: set[int] = set()
    for span in lex.spans(toks, FILLER):
        if (
            placed
            and placed[-1][1].concept is not None
            and span.concepts == (placed[-1][1].concept,)
        ):
            covered.update(range(span.start, span.end))  # "mùi hôi" after "có mùi": one unit
            continue
        concepts = [lex.concepts[c] for c in span.concepts]
        unit = _unit(toks, span, concepts)
        if unit.kind in AVOIDABLE:
            negated, from_ = _negated(toks, span.start, span.end)
            if negated:
                unit = replace(unit, negated=True)
                dropped.update(range(from_, span.end))
        placed.append((span.start, unit))
        covered.update(range(span.start, span.end))
    for i, tok in enumerate(toks):
        if i not in covered and i not in dropped and tok.plain not in FILLER:
            placed.append((i, _word(tok)))
    placed.sort(key=lambda p: p[0])
    units = [u for _, u in placed]
    choices = _alternatives(toks, placed)
    expansions: dict[str, bool] = {}  # index term → a translation (not a synonym)
    for unit in sorted(units, key=lambda u: -u.weight):
        if unit.negated or unit.weight < TOPIC_MIN_WEIGHT:
            continue
        for n, form in enumerate(unit.forms[1:], start=1):
            term = _index_term(form)
            if term:
                expansions[term] = expansions.get(term, False) or n in unit.translated
    terms = list(expansions)[:MAX_EXPANSIONS]
    search_text = " ".join(t.raw for i, t in enumerate(toks) if i not in dropped)
    return Question(
        text,
        tuple(units),
        search_text,
        tuple(t for t in terms if expansions[t]),
        tuple(t for t in terms if not expansions[t]),
        choices,
    )


def _alternatives(toks: tuple[Token, ...], placed: list[tuple[int, Unit]]) -> frozenset[int]:
    """Positions in `units` of dishes or customs joined by "và", "hay", "or" … ("bánh xèo
    và cá kho, món nào dễ hơn?"): an entry about one of them answers its part."""
    found: set[int] = set()
    named = [(n, start, u) for n, (start, u) in enumerate(placed) if u.kind in NAMED_KINDS]
    for (n, start, unit), (m, later, _) in itertools.pairwise(named):
        between = toks[start + len(unit.typed) : later]
        if any(t.plain in CONJUNCTIONS for t in between) and all(
            t.plain in CONJUNCTIONS or t.plain in FILLER for t in between
        ):
            found.update((n, m))
    return frozenset(found)
