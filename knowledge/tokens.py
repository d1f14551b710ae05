"""A conservative token estimate that is the same for every endpoint.

Rule (measured against OpenAI's cl100k_base BPE on Vietnamese text, see docs/context.md):
- a word of plain ASCII letters costs 1 + len // 4 tokens;
- a word with any non-ASCII letter (Vietnamese diacritics) costs
  1 + (its non-ASCII letters) + (1 if it has 3+ letters) + (1 if it has 6+ letters),
  because byte-level BPE splits accented syllables into several pieces;
- digits cost one token per 3; every other non-space character costs one token;
- each newline costs one token; plain spaces are free (they merge into the next word);
- a chat message costs 4 more tokens for its role and separators, a request 3 more.
The estimate deliberately runs high (about 10-30 % above cl100k for Vietnamese) so that
a prompt that fits by this count fits on the endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

_PIECE_RE = re.compile(r"[^\W\d_]+|\d+|\n|[^\w\s]|_", re.UNICODE)
MESSAGE_OVERHEAD = 4
REQUEST_OVERHEAD = 3


@lru_cache(maxsize=65536)
def _piece_cost(piece: str) -> int:
    first = piece[0]
    if first == "\n":
        return 1
    if first.isdigit():
        return (len(piece) + 2) // 3
    if not first.isalpha():
        return 1
    if piece.isascii():
        return 1 + len(piece) // 4
    non_ascii = sum(1 for ch in piece if ord(ch) > 127)
    return 1 + non_ascii + (1 if len(piece) >= 3 else 0) + (1 if len(piece) >= 6 else 0)


@lru_cache(maxsize=8192)
def estimate_tokens(text: str) -> int:
    """Tokens a text may cost on any endpoint; never far below a real BPE count.

    Cached, and per piece too: the same entries, facts, rules and words are measured again
    for every question."""
    return sum(map(_piece_cost, _PIECE_RE.findall(text)))


def estimate_message_tokens(message: Mapping[str, str]) -> int:
    """One chat message: its content plus the role and separator overhead."""
    return MESSAGE_OVERHEAD + estimate_tokens(message.get("content", ""))


def estimate_messages_tokens(messages: Iterable[Mapping[str, str]]) -> int:
    """A whole request, counted the same way whichever endpoint receives it."""
    return REQUEST_OVERHEAD + sum(estimate_message_tokens(m) for m in messages)


def trim_to_tokens(text: str, limit: int) -> str:
    """The longest prefix of whole words (ending at a sentence if possible) within `limit`."""
    if estimate_tokens(text) <= limit:
        return text
    if limit <= 1:
        return ""
    words = text.split(" ")
    # spaces are free and no piece spans one, so a prefix costs the sum of its words
    budget = limit - 1  # room for the ellipsis
    lo = 0
    for word in words:
        budget -= estimate_tokens(word)
        if budget < 0:
            break
        lo += 1
    cut = " ".join(words[:lo]).rstrip()
    sentence_end = max(cut.rfind(". "), cut.rfind(".\n"), cut.rfind("! "), cut.rfind("? "))
    if sentence_end > len(cut) * 0.6:
        return cut[: sentence_end + 1]
    return (cut.rstrip(",;:") + " …") if cut else ""
