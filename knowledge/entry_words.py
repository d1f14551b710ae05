"""An entry's words as the relevance checks compare them, built once per entry text.

Head (title, aliases, tags) and body are kept apart: a question's dish in a title says more
than the same word somewhere in a recipe. Pairs of adjacent syllables stand for phrases;
a deletion index over the head finds a typed syllable one edit away ("chumg" → "chung").
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from knowledge.lexicon import Token, tokens
from knowledge.normalize import deletions, within_one_edit
from knowledge.types import Entry

Pair = tuple[str, str]
# initial consonants Vietnamese spelling confuses (they sound alike in the north or the
# south): "nem dán" is "nem rán", "xương xông" is "sương", "chà" is "trà"
CONFUSABLE_INITIALS = (("d", "r", "gi"), ("s", "x"), ("ch", "tr"), ("l", "n"))


@dataclass(frozen=True, slots=True)
class EntryWords:
    """The compared syllables of one entry."""

    title: tuple[str, ...]
    title_raw: tuple[str, ...]  # as written (lower case, marks kept)
    head_parts: tuple[tuple[str, ...], ...]  # title, each alias, each tag
    head: frozenset[str]
    head_pairs: frozenset[Pair]
    body: dict[str, int]  # syllable → how often the body has it
    body_pairs: dict[Pair, int]
    spellings: dict[str, frozenset[str]]  # folded syllable → how the entry writes it
    near: dict[str, frozenset[str]]  # deletion variant → head syllables

    def agrees(self, tok: Token) -> bool:
        """A marked syllable typed by the family is not contradicted by the entry's marks
        ("cà" against an entry that only writes "cá")."""
        if not tok.marked:
            return True
        written = self.spellings.get(tok.plain)
        return not written or tok.raw in written or tok.plain in written

    def correct(self, tok: Token) -> str:
        """A typed syllable the entry lacks, replaced by a head syllable one edit away that
        starts alike (with its marks, when typed with marks: "gừg" is "gừng", "mặn" is not
        "mất")."""
        key = tok.key
        if len(key) < 3 or key in self.head or key in self.body:
            return key
        found = set(self.near.get(key, ()))
        for variant in deletions(key):
            found.update(self.near.get(variant, ()))
        close = sorted(
            k
            for k in found
            if k[0] == key[0]  # the first letter carries the word: "đông" is not "xông"
            and within_one_edit(key, k)
            and (
                not tok.marked
                or any(within_one_edit(tok.raw, raw) for raw in self.spellings.get(k, ()))
            )
        )
        if close:
            return close[0]
        return self._initial_swapped(tok) or key

    def _initial_swapped(self, tok: Token) -> str | None:
        """A head syllable that differs from a syllable typed with marks only by a confusable
        initial consonant, marks agreeing ("dán" → "rán"); unmarked text is left alone, since
        its "d" may be an "đ" typed plainly ("dau" is "đau", not "rau")."""
        if not tok.marked:
            return None
        for group in CONFUSABLE_INITIALS:
            for typed in group:
                if not tok.raw.startswith(typed) or not tok.key.startswith(typed):
                    continue
                for other in group:
                    if other == typed:
                        continue
                    key = other + tok.key[len(typed) :]
                    raw = other + tok.raw[len(typed) :]
                    if key in self.head and raw in self.spellings.get(key, ()):
                        return key
        return None


def _pairs(keys: tuple[str, ...]) -> set[Pair]:
    return set(itertools.pairwise(keys))


@lru_cache(maxsize=4096)
def _words(title: str, aliases: tuple[str, ...], tags: tuple[str, ...], body: str) -> EntryWords:
    parts = [tokens(p) for p in (title, *aliases, *tags) if p]
    body_toks = tokens(body)
    head_keys = [tuple(t.key for t in part) for part in parts]
    body_keys = tuple(t.key for t in body_toks)
    spellings: dict[str, set[str]] = {}
    for tok in itertools.chain(*parts, body_toks):
        spellings.setdefault(tok.plain, set()).add(tok.raw)
    head = frozenset(k for part in head_keys for k in part)
    near: dict[str, set[str]] = {}
    for key in head:
        if len(key) >= 3:
            for variant in {key} | deletions(key):
                near.setdefault(variant, set()).add(key)
    return EntryWords(
        title=head_keys[0] if head_keys and title else (),
        title_raw=tuple(t.raw for t in parts[0]) if parts and title else (),
        head_parts=tuple(head_keys),
        head=head,
        head_pairs=frozenset(p for part in head_keys for p in _pairs(part)),
        body=dict(Counter(body_keys)),
        body_pairs=dict(Counter(itertools.pairwise(body_keys))),
        spellings={k: frozenset(v) for k, v in spellings.items()},
        near={k: frozenset(v) for k, v in near.items()},
    )


def entry_words(entry: Entry) -> EntryWords:
    """The entry's compared words (cached by its text: the same entries come back often)."""
    return _words(entry.title, tuple(entry.aliases), tuple(entry.tags), entry.body)


@dataclass(frozen=True, slots=True)
class HeadWords:
    """An entry's title and aliases alone (its names, not its tags): enough to tell most
    entries apart, and cheap (search compares the names of its hits; bodies only where
    the names share a phrase)."""

    title: tuple[str, ...]
    title_raw: tuple[str, ...]
    head_parts: tuple[tuple[str, ...], ...]
    head_pairs: frozenset[Pair]


@lru_cache(maxsize=8192)
def _head(title: str, aliases: tuple[str, ...]) -> HeadWords:
    parts = [tokens(p) for p in (title, *aliases) if p]
    keys = [tuple(t.key for t in part) for part in parts]
    return HeadWords(
        title=keys[0] if keys and title else (),
        title_raw=tuple(t.raw for t in parts[0]) if parts and title else (),
        head_parts=tuple(keys),
        head_pairs=frozenset(p for part in keys for p in _pairs(part)),
    )


def head_words(entry: Entry) -> HeadWords:
    """The entry's names as compared words (cached by their text)."""
    return _head(entry.title, tuple(entry.aliases))


@lru_cache(maxsize=4096)
def body_keys(body: str) -> frozenset[str]:
    """The distinct compared syllables of a body."""
    return frozenset(t.key for t in tokens(body))
