"""An answer that reproduces the prompt is not an answer: trim the echo, or replace it.

Small local models (the bundled 270M does) sometimes repeat the system message — the rules
and the family's constraint block — instead of answering, which would hand the family's
private constraints and Hearth's instructions to the chat verbatim. A line of the answer is
an echo when it carries a prompt marker (a section header, a ⟦fence⟧, "You are Hearth")
or when most of its word 6-grams stand in the rules, the constraints or the closing
reminder. Echo lines are dropped; when little real answer is left, or the answer with its
markers is mostly a copy of the prompt (sources included), the caller sends the
knowledge-base answer instead. Otherwise sources may be quoted freely: that is what they
are for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.normalize import fold
from knowledge.prompt_plan import HEADERS

SHINGLE = 6
ECHO_SHARE = 0.5  # of a line's 6-grams found in the protected text
MIN_LEFT_CHARS = 40  # a trimmed answer shorter than this is replaced
WHOLE_ECHO = 0.8  # share of an answer's 6-grams found anywhere in the prompt: a copy of it
MARKERS = (
    *HEADERS.values(),
    "BEFORE YOU ANSWER:",
    "You are Hearth, a warm",
    "Rules:",
    "⟦",
    "⟧",
)
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = [fold(w) for w in _WORD_RE.findall(text)]
    return {tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def looks_like_echo(text: str) -> bool:
    """A cheap check for a streaming preview: the text carries a prompt marker."""
    return any(marker in text for marker in MARKERS)


@dataclass(frozen=True, slots=True)
class Checked:
    """What to do with an answer: keep it, send it trimmed, or replace it."""

    action: str  # "kept", "trimmed" or "replaced"
    text: str  # the answer to send when trimmed (the original when kept)
    echo_lines: int = 0


def check_answer(answer: str, guarded_text: str, prompt: str = "") -> Checked:
    """Keep, trim or replace an answer by how much of it repeats `guarded_text` (the rules,
    the constraint block and the closing reminder: ContextResult.guarded) or, with prompt
    markers in it, the whole `prompt`."""
    if prompt and looks_like_echo(answer):
        grams = _shingles(answer)
        if grams and len(grams & _shingles(prompt)) >= WHOLE_ECHO * len(grams):
            return Checked("replaced", "", answer.count("\n") + 1)
    guarded = _shingles(guarded_text)
    kept: list[str] = []
    echoed = 0
    for line in answer.split("\n"):
        grams = _shingles(line)
        share = len(grams & guarded) / len(grams) if grams else 0.0
        if looks_like_echo(line) or share >= ECHO_SHARE:
            echoed += 1
            continue
        kept.append(line)
    if not echoed:
        return Checked("kept", answer)
    left = re.sub(r"\n{3,}", "\n\n", "\n".join(kept).strip())
    if len(left) < MIN_LEFT_CHARS:
        return Checked("replaced", "", echoed)
    return Checked("trimmed", left, echoed)
