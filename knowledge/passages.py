"""A long entry cut to the passage that answers the question, within a token cap.

The body is split into sentences; each scores the weight of the question's units it says
(in any form the lexicon knows, and what the question asks to leave out, which the model
must see to adapt). The passage is the run of whole sentences within the cap with the
highest score, the earliest of equals: the start of the body when no sentence names
anything the title does not already say (a how-to question about a dish whose title
matched gets the ingredients and the first steps). Verbatim entries are never
cut: they go whole or not at all.
"""

from __future__ import annotations

import re
from functools import lru_cache

from knowledge.entry_words import entry_words
from knowledge.lexicon import Token, tokens
from knowledge.question import Question, Unit
from knowledge.selection import HEAD, unit_quality
from knowledge.tokens import estimate_tokens, trim_to_tokens
from knowledge.types import Entry

_SENTENCE_RE = re.compile(r"(?<=[.!?;…])\s+|\n+")
AVOIDED_WEIGHT = 0.5


@lru_cache(maxsize=1024)
def sentences(body: str) -> tuple[str, ...]:
    """The body's sentences, whitespace folded (cached: the same entries come back)."""
    parts = (" ".join(p.split()) for p in _SENTENCE_RE.split(body))
    return tuple(p for p in parts if p)


def _agrees(typed: Token, written: Token) -> bool:
    if typed.key != written.key:
        return False
    return not (typed.marked and written.marked) or typed.raw == written.raw


def _says(form: tuple[Token, ...], toks: tuple[Token, ...]) -> bool:
    """The form occurs in the sentence ("cá kho", not "cá khô")."""
    n = len(form)
    return any(
        all(_agrees(form[j], toks[i + j]) for j in range(n)) for i in range(len(toks) - n + 1)
    )


def _score(sentence: str, topic: tuple[Unit, ...], question: Question) -> float:
    toks = tokens(sentence)
    score = 0.0
    for unit in topic:
        if any(_says(f, toks) for f in unit.forms):
            score += unit.weight
    for unit in question.avoided:
        if any(_says(f, toks) for f in unit.forms):
            score += AVOIDED_WEIGHT
    return score


def passage(entry: Entry, question: Question, cap: int) -> tuple[str, bool]:
    """The part of the body to send (whitespace folded), and whether it was cut. What the
    entry's title or aliases already say does not pull the passage away from the start."""
    body = entry.body
    flat = " ".join(body.split())
    if estimate_tokens(flat) <= cap:
        return flat, False
    words = entry_words(entry)
    topic = tuple(u for u in question.topic if unit_quality(u, words) < HEAD)
    parts = sentences(body)
    costs = [estimate_tokens(p) + 1 for p in parts]
    scores = [_score(p, topic, question) for p in parts]
    best = (-1.0, 0, 0)  # (score, start, end)
    end = 0
    total = 0
    got = 0.0
    for start in range(len(parts)):
        if end < start:
            end, total, got = start, 0, 0.0
        while end < len(parts) and total + costs[end] <= cap:
            total += costs[end]
            got += scores[end]
            end += 1
        if end > start and got > best[0]:
            best = (got, start, end)
        if end > start:
            total -= costs[start]
            got -= scores[start]
    _, start, stop = best
    if stop <= start:  # one sentence alone is longer than the cap
        start = max(range(len(parts)), key=lambda i: (scores[i], -i)) if parts else 0
        return trim_to_tokens(parts[start] if parts else flat, cap), True
    text = " ".join(parts[start:stop])
    return ("… " if start else "") + text + (" …" if stop < len(parts) else ""), True
