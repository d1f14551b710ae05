"""Constraints that understand people: who avoids what, why, and uses that are not uses.

A constraint comes from the profile (diet, note), a remembered fact ("Bà nội không ăn
ớt", "Ông ngoại ăn chay", "Bé dị ứng tôm", "Ông bị tiểu đường") or the question itself
("không ớt", "no chilli"). It names who (the words before its marker; none for the whole
family) and why (the marker and what follows), and the words that break it: the lexicon's
forms of the food avoided and, for a word that stands for a group ("thịt", "cay", "hải
sản"), of every food in it; a diet or a condition names its groups itself (vegetarian:
meat, fish, seafood; diabetes: sweet; high blood pressure: salty).

An entry breaks a constraint only where it uses such a word: "không ớt", "bỏ ớt",
"without chilli" are not uses.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

from knowledge.lexicon import Token, lexicon, tokens
from knowledge.question import FILLER, analyse

Form = tuple[Token, ...]
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)

# marker (folded syllables) → (kind, groups it rules out)
CONDITIONS: dict[tuple[str, ...], tuple[str, tuple[str, ...]]] = {
    ("an", "chay"): ("vegetarian", ("meat", "fish", "seafood")),
    ("chay", "truong"): ("vegetarian", ("meat", "fish", "seafood")),
    ("vegetarian",): ("vegetarian", ("meat", "fish", "seafood")),
    ("vegan",): ("vegetarian", ("meat", "fish", "seafood", "egg", "dairy")),
    ("tieu", "duong"): ("diabetes", ("sweet",)),
    ("dai", "thao", "duong"): ("diabetes", ("sweet",)),
    ("diabete",): ("diabetes", ("sweet",)),
    ("diabetic",): ("diabetes", ("sweet",)),
    ("huyet", "ap"): ("pressure", ("salty",)),
    ("hypertension",): ("pressure", ("salty",)),
    ("blood", "pressure"): ("pressure", ("salty",)),
    ("gout",): ("gout", ("organ", "seafood", "alcohol")),
    ("gut",): ("gout", ("organ", "seafood", "alcohol")),
    ("mang", "thai"): ("pregnancy", ("raw", "alcohol")),
    ("co", "bau"): ("pregnancy", ("raw", "alcohol")),
    ("ba", "bau"): ("pregnancy", ("raw", "alcohol")),
    ("pregnant",): ("pregnancy", ("raw", "alcohol")),
}
# marker → kind; what follows it is avoided
AVOID_MARKERS: dict[tuple[str, ...], str] = {
    ("di", "ung", "voi"): "allergy",
    ("di", "ung"): "allergy",
    ("allergic", "to"): "allergy",
    ("allergic",): "allergy",
    ("khong", "an", "duoc"): "avoid",
    ("khong", "the", "an"): "avoid",
    ("khong", "an"): "avoid",
    ("khong", "uong"): "avoid",
    ("khong", "dung"): "avoid",
    ("kieng", "an"): "avoid",
    ("kieng",): "avoid",
    ("doesn", "t", "eat"): "avoid",
    ("does", "not", "eat"): "avoid",
    ("don", "t", "eat"): "avoid",
    ("dont", "eat"): "avoid",
    ("can", "t", "eat"): "avoid",
    ("cannot", "eat"): "avoid",
    ("avoid",): "avoid",
    ("no",): "avoid",
    ("it",): "avoid",  # "ít cay", "ít đường": only with its mark (see _marker_ok)
    ("khong",): "avoid",  # "không hành", "không cay"
}
MAX_MARKER = 3
ENTRY_NEGATORS = frozenset({"khong", "without", "no", "chang", "khoi", "tru", "thay", "skip"})
JOINERS = frozenset({"va", "hoac", "and", "or", "voi", "hay"})


@dataclass(frozen=True, slots=True)
class Constraint:
    """One person's (or the family's) rule about food, and the words that break it."""

    text: str  # as written
    who: str  # "Bà nội"; "" for the whole family
    why: str  # "không ăn ớt", "ăn chay", "bị tiểu đường"
    kind: str  # avoid, allergy, vegetarian, diabetes, pressure, gout, pregnancy
    origin: str  # profile, fact, question
    targets: tuple[Form, ...]
    key: str = ""  # the profile key it came from (diet, note)

    @property
    def label(self) -> str:
        """How the prompt names it: "diet: ăn chay", or the fact as written."""
        return f"{self.key}: {self.text}" if self.key else self.text


def _marker_ok(marker: tuple[str, ...], toks: tuple[Token, ...], i: int) -> bool:
    if marker == ("it",):
        return toks[i].raw == "ít"
    return True


def _match(toks: tuple[Token, ...], i: int, phrase: tuple[str, ...]) -> bool:
    return tuple(t.key for t in toks[i : i + len(phrase)]) == phrase


def _group_forms(groups: tuple[str, ...] | frozenset[str]) -> list[Form]:
    """Every form of the groups' foods, plain ingredients before dishes ("thịt" before
    "thịt kho"), so a warning names the ingredient."""
    lex = lexicon()
    ids = dict.fromkeys(c for g in sorted(groups) for c in lex.in_group(g))
    ordered = sorted(ids, key=lambda c: lex.concepts[c].kind != "ingredient")
    return [f.toks for c in ordered for f in lex.forms_of(c)]


def _targets_after(toks: tuple[Token, ...], start: int) -> tuple[list[Form], int]:
    """The foods named after a marker ("tôm và cua"), as forms, and where they end."""
    lex = lexicon()
    i = start
    forms: list[Form] = []
    end = start
    while i < len(toks):
        spans = lex.spans(toks[i : i + 6])
        span = spans[0] if spans and spans[0].start == 0 else None
        kinds = {lex.concepts[c].kind for c in span.concepts} if span else set()
        if span is not None and kinds & {"ingredient", "dish"}:
            for concept_id in span.concepts:
                concept = lex.concepts[concept_id]
                forms.extend(f.toks for f in lex.forms_of(concept_id))
                forms.extend(_group_forms(concept.covers))
            i += span.end
            end = i
        elif not forms and toks[i].plain in FILLER:
            i += 1  # "dị ứng với tôm", "allergic to the peanuts"
            continue
        elif not forms and not toks[i].plain.isdigit():
            forms.append((toks[i],))  # a food the lexicon does not know: as written
            i += 1
            end = i
        else:
            break
        if i < len(toks) and toks[i].plain in JOINERS:
            i += 1
        else:
            break
    return forms, end


def _words_with_spans(text: str) -> tuple[tuple[Token, ...], list[tuple[int, int]]]:
    """tokens(text) and where each one stands in the NFC text."""
    nfc = unicodedata.normalize("NFC", text)
    spans: list[tuple[int, int]] = []
    for match in _WORD_RE.finditer(nfc):
        parts = len(tokens(match.group()))
        spans.extend([match.span()] * parts)
    return tokens(nfc), spans


@lru_cache(maxsize=2048)
def parse(text: str, origin: str) -> Constraint | None:
    """The constraint a line states, or None ("Con út học lớp 3" states none)."""
    nfc = unicodedata.normalize("NFC", text).strip()
    toks, spans = _words_with_spans(nfc)
    for i in range(len(toks)):
        for n in range(MAX_MARKER, 0, -1):
            phrase = tuple(t.key for t in toks[i : i + n])
            if len(phrase) < n:
                continue
            if phrase in CONDITIONS:
                kind, groups = CONDITIONS[phrase]
                why = nfc[spans[i][0] :].strip(" .")
                return Constraint(
                    nfc, _who(nfc, spans, i), why, kind, origin, tuple(_group_forms(groups))
                )
            if phrase in AVOID_MARKERS and _marker_ok(phrase, toks, i):
                forms, end = _targets_after(toks, i + n)
                if not forms:
                    continue
                why = nfc[spans[i][0] : spans[end - 1][1]].strip(" .")
                kind = AVOID_MARKERS[phrase]
                return Constraint(nfc, _who(nfc, spans, i), why, kind, origin, tuple(forms))
    return None


def _who(text: str, spans: list[tuple[int, int]], marker: int) -> str:
    """The words before the marker, without fillers such as "bị", "is", "thì"."""
    words = text[: spans[marker][0]].split() if marker else []
    while words and words[-1].lower().strip(",.:") in {
        "bị",
        "bi",
        "is",
        "thì",
        "có",
        "has",
        "hay",
        "đang",
    }:
        words.pop()
    return " ".join(words).strip(",.: ")


def family_constraints(profile: dict[str, str], facts: list[str]) -> list[Constraint]:
    """The family's constraints from its profile (diet, note) and remembered facts."""
    found: list[Constraint] = []
    for key in ("diet", "note"):
        value = (profile.get(key) or "").strip()
        parsed = parse(value, "profile") if value else None
        if parsed is None and key == "diet" and value:
            parsed = parse("ăn " + value, "profile") if "chay" in value.lower() else None
        if parsed is not None:
            found.append(replace(parsed, text=value, key=key))
    for text in facts:
        parsed = parse(text, "fact")
        if parsed is not None:
            found.append(parsed)
    return found


@lru_cache(maxsize=4096)
def _positions(text: str) -> tuple[tuple[Token, ...], dict[str, tuple[int, ...]]]:
    toks = tokens(text)
    where: dict[str, list[int]] = {}
    for i, tok in enumerate(toks):
        where.setdefault(tok.key, []).append(i)
    return toks, {k: tuple(v) for k, v in where.items()}


def _agrees(typed: Token, written: Token) -> bool:
    if typed.key != written.key:
        return False
    return not (typed.marked and written.marked) or typed.raw == written.raw


def _negated_at(toks: tuple[Token, ...], i: int, n: int) -> bool:
    """A negator just before the word ("không ớt", "bỏ ớt", "không cho ớt"), or "free" after."""
    j, looked = i, 0
    while j > 0 and looked < 3:
        j -= 1
        looked += 1
        tok = toks[j]
        if tok.plain in ENTRY_NEGATORS or tok.raw == "bỏ":
            return True
        if tok.plain not in FILLER and tok.plain not in ("an", "uong", "dung", "can", "cho"):
            break
    # "gluten free"; "nước mắm chay", "chả chay": the vegetarian version
    return i + n < len(toks) and toks[i + n].plain in ("free", "chay", "vegan", "vegetarian")


def used_word(constraint: Constraint, text: str) -> str | None:
    """The first word of the text that breaks the constraint (as the text writes it)."""
    toks, where = _positions(text)
    first: tuple[int, int] | None = None  # (where, how long)
    for form in constraint.targets:
        n = len(form)
        for i in where.get(form[0].key, ()):
            if first is not None and i >= first[0]:
                break
            if i + n > len(toks) or not all(_agrees(form[j], toks[i + j]) for j in range(n)):
                continue
            if not _negated_at(toks, i, n):
                first = (i, n)
                break
    if first is None:
        return None
    i, n = first
    return " ".join(t.raw for t in toks[i : i + n])


@lru_cache(maxsize=1024)
def question_constraints(text: str) -> tuple[Constraint, ...]:
    """What the question itself asks to leave out ("cá kho không ớt", "no chilli")."""
    lex = lexicon()
    found = []
    for unit in analyse(text).avoided:
        forms = list(unit.forms)
        if unit.concept is not None:
            forms += _group_forms(lex.concepts[unit.concept].covers)
        found.append(Constraint(text, "", unit.text, "avoid", "question", tuple(forms)))
    return tuple(found)
