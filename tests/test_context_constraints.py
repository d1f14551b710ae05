"""Constraints that understand people: negation, remembered facts, who and why.

"không ớt" in a recipe is not chilli; a remembered "Ông ngoại ăn chay" or "Bé dị ứng tôm"
constrains answers like the profile's diet; the question's own "không ớt" / "no chilli"
does too; every warning names who and why, and the model is reminded of the constraint a
source breaks.
"""

from __future__ import annotations

import pytest

from knowledge.context import rewrite
from knowledge.context_render import kb_only_answer
from knowledge.types import ContextInput, Entry, Fact
from tests.context_cases import CA_KHO, THIT_KHO, closing, hit

NO_CHILLI_FISH = Entry(
    60,
    "Cá kho của mẹ",
    "Cá basa kho với nước dừa, tiêu, ít đường. Mẹ không cho ớt vì bà không ăn cay.",
    ("cá",),
)
SHRIMP_ROLLS = Entry(61, "Gỏi cuốn tôm thịt", "Bánh tráng cuốn tôm luộc, thịt, bún và rau.")
CHE = Entry(62, "Chè chuối", "Chuối, nước cốt dừa, 100 g đường, bột năng.", ("chè",))
VEGGIE_SOUP = Entry(63, "Canh chua chay", "Nấm, đậu hũ, me, cà chua; nêm nước mắm chay.")


def _answer(question: str, entry: Entry, facts: list[str], **profile: str) -> str:
    inp = ContextInput(
        question=question,
        language="vi",
        profile=dict(profile),
        facts=[Fact(i, t) for i, t in enumerate(facts, 1)],
        hits=[hit(entry, 2.0, strong=True)],
    )
    return kb_only_answer(inp, rewrite(inp))


def test_an_entry_that_says_no_chilli_is_no_chilli_conflict() -> None:
    answer = _answer("cá kho của mẹ", NO_CHILLI_FISH, ["Bà nội không ăn ớt"])
    assert "⚠️" not in answer
    # the starter recipe does put chilli in: that one is flagged
    assert "⚠️ Bà nội không ăn ớt, mà mục này có «ớt»" in _answer(
        "cá kho tộ", CA_KHO, ["Bà nội không ăn ớt"]
    )


@pytest.mark.parametrize(
    ("fact", "entry", "expected"),
    [
        ("Ông ngoại ăn chay", THIT_KHO, "⚠️ Ông ngoại ăn chay, mà mục này có «thịt»: thay bằng"),
        ("Bé dị ứng tôm", SHRIMP_ROLLS, "⚠️ Bé dị ứng tôm, mà mục này có «tôm»: hãy bỏ hẳn ra"),
        ("Ông bị tiểu đường", CHE, "⚠️ Ông bị tiểu đường, mà mục này có «chè»: giảm đường"),
        ("Bố bị huyết áp cao", CA_KHO, "⚠️ Bố bị huyết áp cao, mà mục này có «nước mắm»: nêm nhạt"),
        ("Mẹ kiêng hành", CA_KHO, "⚠️ Mẹ kiêng hành, mà mục này có «hành»"),
    ],
)
def test_a_remembered_fact_constrains_like_the_diet_and_names_who(
    fact: str, entry: Entry, expected: str
) -> None:
    assert expected in _answer(entry.title, entry, [fact])


def test_vegetarian_fish_sauce_is_not_fish() -> None:
    assert "⚠️" not in _answer("canh chua chay", VEGGIE_SOUP, ["Ông ngoại ăn chay"])


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("cá kho tộ không ớt", "Bạn muốn không có «ớt», mà mục này có «ớt»: khi nấu hãy bỏ ra"),
        ("cá kho tộ, bỏ ớt nhé", "Bạn muốn không có «ớt», mà mục này có «ớt»"),
        ("How do I make cá kho tộ with no chilli?", "You asked for no “chilli”, and this entry"),
    ],
)
def test_the_question_can_ask_to_leave_something_out(question: str, expected: str) -> None:
    inp = ContextInput(question=question, language="vi", hits=[hit(CA_KHO, 2.0, strong=True)])
    result = rewrite(inp)
    assert "the question asks to leave out ⟦" in closing(result)
    assert expected in kb_only_answer(inp, result)


def test_the_model_is_reminded_who_a_source_goes_against() -> None:
    inp = ContextInput(
        question="thịt kho trứng",
        language="vi",
        facts=[Fact(1, "Ông ngoại ăn chay"), Fact(2, "Bé dị ứng tôm")],
        hits=[hit(THIT_KHO, 2.0, strong=True)],
    )
    result = rewrite(inp)
    assert "⟦Ông ngoại ăn chay⟧: source 1 uses ⟦thịt⟧." in closing(result)
    assert "Bé dị ứng tôm" not in closing(result)  # nothing in the source breaks that one
    reminders = result.record["reminders"]
    assert reminders == [{"constraint": "Ông ngoại ăn chay", "source": 1, "word": "thịt"}]
