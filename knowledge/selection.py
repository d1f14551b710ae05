"""Which search hits answer the question: a floor you can state, one entry per dish, family first.

Coverage is the share of what the question is about (its topic units, weighted: a dish or
an illness counts much, "recipe" little, a person or "today" nothing) that an entry says,
in its title, aliases or tags (fully) or its body (partly), in any form the lexicon knows
("square sticky rice cake" is "bánh chưng"). One shared syllable is never enough:

- an entry is sent when it covers at least COVERAGE_FLOOR of the question and at least
  RELATIVE_FLOOR of what the best hit covers; its title or alias named in the question
  (a strong hit, or the title's own words: "phở gà" of "Phở gà của mẹ") passes too; when
  no hit's words answer at all, the nearest by meaning (vectors, when the endpoint embeds)
  is sent if its cosine reaches SEMANTIC_MIN;
- family first, relative to the best hit: a family entry whose head names every dish,
  custom or illness the best hit's head names passes with FAMILY_RELATIVE of its coverage;
- in a health question, an entry whose head names the illness passes, and when one does,
  entries that do not mention it are left out;
- two hits about the same dish or custom (a title phrase in common and similar bodies, or
  one's title among the other's names) are one: the family's own version wins, even when
  its own words cover less of the question (it is the dish of a shared entry that does);
- the family's entries go first (each ranked as the best shared entry of its dish would
  be), then by coverage (steps of ORDER_STEP) and search rank.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from knowledge.entry_words import EntryWords, HeadWords, body_keys, entry_words, head_words
from knowledge.lexicon import Token
from knowledge.normalize import fold
from knowledge.question import FILLER, Question, Unit
from knowledge.types import Entry, SearchHit

COVERAGE_FLOOR = 0.5
RELATIVE_FLOOR = 0.7
STRONG_COVERAGE = 0.6  # a hit whose title the question names covers at least this
SEMANTIC_MIN = 0.5  # cosine of the one vector hit sent when no hit's words answer
SAME_BODY = 0.35  # overlap coefficient of two bodies' words that makes them one dish
MAX_SOURCES = 3
# a family entry that names in its head the dish, custom or illness the best hit names passes
# with this share of the best hit's coverage (and at least FAMILY_FLOOR of the question)
FAMILY_RELATIVE = 0.5
FAMILY_FLOOR = 0.3
NAMED_KINDS = frozenset({"dish", "custom", "health"})
ORDER_STEP = 0.05  # coverages this close are equal when ordering; search rank decides
# words any title may have ("Cách làm …", "… của mẹ", "… nhà mình")
TITLE_WORDS = frozenset(
    (
        *("cách", "làm", "nấu", "món", "của", "nhà", "mình", "kiểu", "cho", "với", "và", "ngày"),
        *("the", "a", "an", "of", "how", "to", "make", "my", "our"),
    )
)
# the same as folded syllables, for pairs: "Cách làm" is no dish ("to" is, as "tộ")
TITLE_KEYS = frozenset(
    [
        "cach",
        "lam",
        "nau",
        "mon",
        "cua",
        "nha",
        "minh",
        "kieu",
        "cho",
        "voi",
        "va",
        "ngay",
        "the",
        "of",
        "how",
        "make",
        "my",
        "our",
        "and",
        "with",
        "for",
    ]
)
# how fully a form occurs: as a phrase in the head; in the body often, or once in passing
HEAD, BODY, BODY_ONCE, PART_HEAD, PART_BODY, PART_WORD = 1.0, 0.6, 0.35, 0.8, 0.4, 0.25
WORD_BODY, WORD_BODY_ONCE = 0.45, 0.3  # a lone word in a body never reaches the floor


def _form_quality(form: tuple[Token, ...], words: EntryWords, typed: bool) -> float:
    """How fully one form of a unit occurs in the entry (1: as a phrase in its head)."""
    if not all(words.agrees(t) for t in form):
        return 0.0
    keys = tuple(words.correct(t) if typed else t.key for t in form)
    if len(keys) == 1:
        key = keys[0]
        if key in words.head:
            return HEAD
        times = words.body.get(key, 0)
        return WORD_BODY if times >= 2 else (WORD_BODY_ONCE if times else 0.0)
    pairs = list(itertools.pairwise(keys))
    in_head = sum(p in words.head_pairs for p in pairs)
    if in_head == len(pairs):
        return HEAD
    in_body = sum(p in words.body_pairs for p in pairs)
    if in_body == len(pairs):
        return BODY if min(words.body_pairs[p] for p in pairs) >= 2 else BODY_ONCE
    if not typed:
        return 0.0  # another form counts only whole: "fish in clay pot" is not "clay pot"
    share_head = in_head / len(pairs)
    share_body = in_body / len(pairs)
    share_words = sum(k in words.head for k in keys) / len(keys)
    return max(PART_HEAD * share_head, PART_BODY * share_body, PART_WORD * share_words)


def unit_quality(unit: Unit, words: EntryWords) -> float:
    """The best of the unit's forms in the entry."""
    best = 0.0
    for n, form in enumerate(unit.forms):
        best = max(best, _form_quality(form, words, typed=n == 0))
        if best >= HEAD:
            break
    return best


def coverage(question: Question, words: EntryWords) -> tuple[float, list[str]]:
    """The weighted share of the question's topic the entry covers, and the units it covers.

    Dishes or customs asked side by side ("bánh xèo và cá kho, món nào dễ hơn?") are
    alternatives: an entry about one of them covers that part of the question."""
    topic = question.topic
    if question.weight <= 0:
        return 0.0, []
    named = [u for n, u in enumerate(question.units) if n in question.choices and u in topic]
    total = sum(u.weight for u in topic if u not in named)
    got = 0.0
    matched: list[str] = []
    best_named = (0.0, 0.0)  # (got, weight) of the best-covered dish or custom
    for unit in topic:
        quality = unit_quality(unit, words)
        if quality > 0:
            matched.append(unit.text)
        if unit in named:
            best_named = max(best_named, (unit.weight * quality, unit.weight))
        else:
            got += unit.weight * quality
    if named:
        got += best_named[0]
        total += best_named[1] if best_named[0] else max(u.weight for u in named)
    return (got / total if total else 0.0), matched


def _named(question: Question, words: EntryWords) -> int:
    """Weightless units (people) in the entry's head: a tie-break, never a reason."""
    return sum(1 for u in question.units if u.weight == 0 and unit_quality(u, words) >= HEAD)


def _content(keys: Iterable[str]) -> set[str]:
    return {k for k in keys if k not in FILLER and not k.isdigit()}


def _title_core(words: HeadWords) -> tuple[str, ...]:
    """The title without the words any title may have ("Cách làm …", "… của mẹ")."""
    return tuple(
        k for k, raw in zip(words.title, words.title_raw, strict=True) if raw not in TITLE_WORDS
    )


def same_dish(a: SearchHit, b: SearchHit) -> bool:
    """Two entries about the same dish or custom (one of them is enough to send)."""
    wa, wb = head_words(a.entry), head_words(b.entry)
    ta, tb = _title_core(wa), _title_core(wb)
    for short, other in ((ta, wb), (tb, wa)):
        if len(short) >= 2 and any(_contains(part, short) for part in other.head_parts):
            return True
    shared = {p for p in wa.head_pairs & wb.head_pairs if not TITLE_KEYS.intersection(p)}
    if not shared:
        return False
    ba, bb = _content(body_keys(a.entry.body)), _content(body_keys(b.entry.body))
    if not ba or not bb:
        return True
    return len(ba & bb) / min(len(ba), len(bb)) >= SAME_BODY


def _contains(hay: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(hay[i : i + n] == needle for i in range(len(hay) - n + 1))


@dataclass(frozen=True, slots=True)
class Chosen:
    """A hit that answers the question, and why."""

    hit: SearchHit
    rank: int  # its place in the search results, from 1
    coverage: float
    matched: tuple[str, ...]
    why: str


@dataclass(slots=True)
class Selection:
    """What to send, and what was left out with a reason (for /why)."""

    chosen: list[Chosen]
    skipped: list[dict[str, object]]


@dataclass(frozen=True, slots=True)
class _Scored:
    hit: SearchHit
    rank: int
    coverage: float
    matched: tuple[str, ...]
    named: int  # weightless units (people) its head names: a tie-break
    meaning: bool = False  # sent as the nearest by meaning (vectors), not for its words
    heads: frozenset[str] = frozenset()  # the question's dishes, customs, illnesses in its head
    health: float = 0.0  # how fully it says the question's illness (health questions)


def _title_named(question: Question, words: EntryWords) -> bool:
    """The title without the words any title may have ("Phở gà của mẹ" → "phở gà"), two
    syllables or more, occurs in the question as typed (marks agreeing)."""
    core = _title_core_raw(words)
    if len(core) < 2:
        return False
    typed = [t for u in question.topic for t in u.typed]
    keys = tuple(t.key for t in typed)
    n = len(core)
    for i in range(len(keys) - n + 1):
        if keys[i : i + n] == tuple(k for k, _ in core) and all(
            not t.marked or not _marked(raw) or t.raw == raw
            for t, (_, raw) in zip(typed[i : i + n], core, strict=True)
        ):
            return True
    return False


def _marked(raw: str) -> bool:
    return fold(raw) != raw


def _title_core_raw(words: EntryWords) -> tuple[tuple[str, str], ...]:
    """(key, as written) of the title's own words, up to "của" (whose it is: "… của mẹ")."""
    core: list[tuple[str, str]] = []
    for key, raw in zip(words.title, words.title_raw, strict=True):
        if raw == "của":
            break
        if raw not in TITLE_WORDS:
            core.append((key, raw))
    return tuple(core)


def _scored(question: Question, hits: list[SearchHit]) -> list[_Scored]:
    """Each distinct non-glossary hit with its coverage: a strong hit (its title or alias in
    the question, or its title's own words) covers at least STRONG_COVERAGE, and so does, in
    a health question, a hit whose head names the illness."""
    seen: set[int] = set()
    out: list[_Scored] = []
    named_units = [u for u in question.topic if u.kind in NAMED_KINDS]
    illness = [u for u in question.topic if u.kind == "health"]
    for rank, hit in enumerate(hits, start=1):
        entry = hit.entry
        if entry.is_term or entry.id in seen:
            continue
        seen.add(entry.id)
        words = entry_words(entry)
        cov, matched = coverage(question, words)
        heads = frozenset(u.text for u in named_units if _in_head(u, words))
        health = max((unit_quality(u, words) for u in illness), default=0.0)
        names_illness = any(u.text in heads for u in illness)
        if hit.strong or names_illness or _title_named(question, words):
            cov = max(cov, STRONG_COVERAGE)
        named = _named(question, words)
        out.append(_Scored(hit, rank, cov, tuple(matched), named, False, heads, health))
    return out


def _in_head(unit: Unit, words: EntryWords) -> bool:
    """The unit, in one of its forms, is a phrase of the entry's title, aliases or tags."""
    return unit_quality(unit, words) >= HEAD


def _passing(
    question: Question, scored: list[_Scored], skipped: list[dict[str, object]]
) -> list[_Scored]:
    """The hits above both floors (or the nearest by meaning when words found nothing); a
    family entry of the best hit's dish or custom with a lower floor (family first); in a
    health question whose illness some hit names, none that does not say it at all."""
    best_hit = max(scored, key=lambda s: (s.coverage, -s.rank), default=None)
    best = best_hit.coverage if best_hit is not None else 0.0
    nearest = _nearest_by_meaning([s.hit for s in scored]) if best < COVERAGE_FLOOR else None
    illness_named = question.health and any(s.health >= HEAD for s in scored)
    passed: list[_Scored] = []
    for s in scored:
        if illness_named and s.health <= 0:
            why = "says nothing of the illness the question is about"
            skipped.append(_skip(s.hit, "not_health", why, s.coverage))
        elif s.hit is nearest:
            passed.append(replace(s, meaning=True))
        elif _family_of_best(s, best_hit):
            passed.append(s)
        elif s.coverage < COVERAGE_FLOOR:
            why = f"covers {s.coverage:.0%} of the question (floor {COVERAGE_FLOOR:.0%})"
            skipped.append(_skip(s.hit, "floor", why, s.coverage))
        elif s.coverage < RELATIVE_FLOOR * best:
            why = f"covers {s.coverage:.0%}, the best hit {best:.0%}"
            skipped.append(_skip(s.hit, "relative", why, s.coverage))
        else:
            passed.append(s)
    return passed


def _family_of_best(s: _Scored, best: _Scored | None) -> bool:
    """A family entry that names in its head every dish, custom or illness of the question
    the best hit names, and covers at least FAMILY_RELATIVE of what the best hit covers:
    the family's version of that dish, first."""
    if best is None or s is best or s.hit.entry.family_id is None or not best.heads:
        return False
    if s.coverage < max(FAMILY_FLOOR, FAMILY_RELATIVE * best.coverage):
        return False
    return s.heads >= best.heads


def _family_versions(scored: list[_Scored], passed: list[_Scored]) -> list[_Scored]:
    """Family entries below the floor that are the family's version of a shared entry that
    passed ("Xông đất nhà mình" for "Xông đất đầu năm", "Cá rô kho tộ" for "Cá kho tộ"
    asked in English): the family's version wins."""
    chosen = {id(s) for s in passed}
    shared = [s for s in passed if s.hit.entry.family_id is None]
    return [
        s
        for s in scored
        if id(s) not in chosen
        and s.hit.entry.family_id is not None
        and any(same_dish(s.hit, g.hit) for g in shared)
    ]


def _why(s: _Scored, family_version: bool) -> str:
    if family_version:
        return f"the family's own version (covers {s.coverage:.0%})"
    if s.coverage < COVERAGE_FLOOR and s.hit.entry.family_id is not None:
        return f"the family's own entry of the same dish or custom (covers {s.coverage:.0%})"
    if s.meaning:
        return f"nearest in meaning (cosine {s.hit.cosine or 0.0:.2f})"
    return f"covers {s.coverage:.0%} of the question"


def select(question: Question, hits: list[SearchHit], limit: int = MAX_SOURCES) -> Selection:
    """The hits worth sending, best first, at most `limit` (see the module docstring)."""
    skipped: list[dict[str, object]] = []
    scored = _scored(question, hits)
    if not question.topical:  # small talk, or "nấu gì hôm nay?": nothing to look up
        reason = "small_talk" if question.small_talk else "no_topic"
        for s in scored:
            skipped.append(_skip(s.hit, reason, "nothing specific to look up"))
        return Selection([], skipped)
    passed = _passing(question, scored, skipped)
    versions = _family_versions(scored, passed)
    skipped[:] = [k for k in skipped if k["id"] not in {v.hit.entry.id for v in versions}]
    shared = [s for s in passed if s.hit.entry.family_id is None]

    def standing(s: _Scored, version: bool) -> float:
        """A family entry ranks as the best shared entry of its dish or custom would (the
        same dish, or the same dish, custom or illness named in both heads)."""
        if s.hit.entry.family_id is None:
            return s.coverage
        peers = [
            g.coverage
            for g in shared
            if (s.heads & g.heads) or (version and same_dish(s.hit, g.hit))
        ]
        return max([s.coverage, *peers])

    ordered = sorted(
        [(s, False) for s in passed] + [(v, True) for v in versions],
        key=lambda p: (
            p[0].hit.entry.family_id is None,
            p[0].health < HEAD if question.health else False,
            -round(standing(*p) / ORDER_STEP),
            -p[0].named,
            p[0].rank,
        ),
    )
    kept: list[Chosen] = []
    for s, family_version in ordered:
        twin = next((k for k in kept if same_dish(k.hit, s.hit)), None)
        if twin is not None:
            own = twin.hit.entry.family_id is not None
            mine = "the family's own version" if own else "a better match"
            why = f"same dish or custom as #{twin.hit.entry.id} ({mine})"
            skipped.append(_skip(s.hit, "family_version" if own else "duplicate", why))
        elif len(kept) >= limit:
            skipped.append(_skip(s.hit, "limit", f"beyond the best {limit}"))
        else:
            why = _why(s, family_version)
            kept.append(Chosen(s.hit, s.rank, round(s.coverage, 3), s.matched, why))
    return Selection(kept, skipped)


def _nearest_by_meaning(hits: list[SearchHit]) -> SearchHit | None:
    """The hit with the highest cosine, when it reaches SEMANTIC_MIN (vectors only)."""
    with_cos = [h for h in hits if h.cosine is not None and h.cosine >= SEMANTIC_MIN]
    return max(with_cos, key=lambda h: h.cosine or 0.0, default=None)


def _skip(hit: SearchHit, reason: str, why: str, cov: float | None = None) -> dict[str, object]:
    """A left-out hit for the record: a reason code (floor, relative, not_health,
    family_version, duplicate, limit, small_talk, no_topic), its English wording, and the coverage where it
    counts."""
    out: dict[str, object] = {"id": hit.entry.id, "title": hit.entry.title, "reason": reason}
    out["why"] = why
    if cov is not None:
        out["coverage"] = round(cov, 3)
    return out


def _head_syllables(entry: Entry) -> frozenset[str]:
    """The folded words of the title and aliases (a cheap first test of same_dish)."""
    return _folded_words(" ".join((entry.title, *entry.aliases)))


@lru_cache(maxsize=8192)
def _folded_words(text: str) -> frozenset[str]:
    return frozenset(fold(text).split()) - TITLE_KEYS


def family_first(hits: list[SearchHit]) -> list[SearchHit]:
    """Search order with each family entry moved above a shared entry of the same dish
    (scores stay in order: the family's takes the score of the one it passes)."""
    out = list(hits)
    first_shared = next((i for i, h in enumerate(out) if h.entry.family_id is None), len(out))
    for i in range(first_shared + 1, len(out)):
        if out[i].entry.family_id is None:
            continue
        mine = _head_syllables(out[i].entry)
        for j in range(i):
            shared = out[j]
            if (
                shared.entry.family_id is None
                and len(mine & _head_syllables(shared.entry)) >= 2
                and same_dish(shared, out[i])
            ):
                moved = replace(out.pop(i), score=max(out[i - 1].score, shared.score))
                out.insert(j, moved)
                break
    return out
