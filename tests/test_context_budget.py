"""Budget: the same count for every endpoint, filled in priority order, never exceeded."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.context import rewrite
from knowledge.prompt_plan import Plan, rules_text
from knowledge.tokens import estimate_messages_tokens
from knowledge.types import Entry, Fact, Turn
from tests.context_cases import (
    CA_KHO,
    FACT_LIKES_CA_KHO,
    THIT_KHO,
    family_input,
    hit,
    record_of,
    section,
    system,
    user,
)

LONG_BODY = " ".join(
    f"Bước {i}: ướp cá với nước mắm, đường thắng nước màu, kho lửa nhỏ trong nồi đất."
    for i in range(1, 80)
)
LONG = Entry(9, "Cá kho làng Vũ Đại", LONG_BODY, ("cá",), aliases=("Vu Dai braised fish",))


def _rich(budget: int):
    turns = [Turn("user", f"Tin nhắn số {i} về chuyện đi chợ mua cá", "Lan") for i in range(30)]
    return family_input(
        "Làm cá kho thế nào?",
        budget_tokens=budget,
        hits=[hit(LONG, 4, True), hit(CA_KHO, 3, True), hit(THIT_KHO, 1)],
        recent=turns,
        summary="Cả nhà bàn chuyện cá kho, chợ, Tết và chuyện học của các con. " * 20,
    )


@pytest.mark.parametrize("budget", [700, 900, 1200, 1600, 2400, 3000, 6000])
def test_the_budget_is_never_exceeded(budget):
    result = rewrite(_rich(budget))
    used = estimate_messages_tokens(result.messages)
    assert used <= budget
    assert record_of(result)["budget"]["used"] == used
    assert "không có lò nướng" in section(result, "FAMILY CONSTRAINTS")


def test_tight_budget_keeps_constraints_and_drops_lower_priorities():
    result = rewrite(_rich(750))
    text = system(result)
    assert "There is NO oven" in text
    assert "Bà nội không ăn ớt" in text
    assert "EARLIER CONVERSATION" not in text
    assert "RECENT MESSAGES" not in text
    dropped = {d["section"] for d in record_of(result)["budget"]["dropped"]}
    assert {"summary", "recent"} <= dropped


def test_sources_come_before_facts_summary_and_turns():
    roomy = rewrite(_rich(6000))
    assert FACT_LIKES_CA_KHO.text in section(roomy, "REMEMBERED FAMILY FACTS")
    tight = rewrite(_rich(1000))
    assert "⟦source 1: Cá kho làng Vũ Đại" in system(tight)
    assert "RECENT MESSAGES" not in system(tight)


def test_long_source_is_trimmed_not_dropped():
    result = rewrite(_rich(1200))
    entry = record_of(result)["entries"][0]
    assert entry["title"] == "Cá kho làng Vũ Đại"
    assert entry["trimmed"] is True
    assert "Bước 79" not in system(result)
    assert "Bước 1:" in system(result)


def test_recent_turns_keep_the_newest():
    inp = _rich(2000)
    inp.summary = None
    result = rewrite(inp)
    text = system(result)
    assert "Tin nhắn số 29" in text
    assert "Tin nhắn số 0 " not in text
    recent = record_of(result)["recent"]
    assert 0 < recent["used"] < recent["available"] == 30
    assert text.index("Tin nhắn số 28") < text.index("Tin nhắn số 29")


def test_constraints_fill_first_when_they_alone_overflow():
    many = [Fact(i, f"Bé {i} dị ứng với tôm, cua, mực và đậu phộng") for i in range(60)]
    result = rewrite(family_input("Làm cá kho thế nào?", facts=many, budget_tokens=900))
    assert estimate_messages_tokens(result.messages) <= 900
    assert "Bé 0 dị ứng" in system(result)
    assert "Bé 59 dị ứng" not in system(result)
    assert all(e["trimmed"] for e in record_of(result)["entries"])
    assert any(f["why"] == "budget" for f in record_of(result)["facts"]["left_out"])


def test_budget_below_the_fixed_rules_is_reported_honestly():
    result = rewrite(family_input("Làm cá kho thế nào? " * 200, budget_tokens=100))
    budget = record_of(result)["budget"]
    assert budget["used"] > budget["limit"]
    assert any(d["section"] == "question" for d in budget["dropped"])
    assert len(user(result)) < 2000


@settings(max_examples=40, deadline=None)
@given(
    question=st.text(min_size=1, max_size=200),
    facts=st.lists(st.text(min_size=1, max_size=120), max_size=8),
    budget=st.integers(min_value=800, max_value=4000),
)
def test_any_input_fits_the_budget(question, facts, budget):
    inp = family_input(
        question,
        facts=[Fact(i, t) for i, t in enumerate(facts)],
        budget_tokens=budget,
        hits=[hit(LONG, 2, True), hit(CA_KHO, 1, True)],
    )
    result = rewrite(inp)
    assert estimate_messages_tokens(result.messages) <= budget


@settings(max_examples=60, deadline=None)
@given(
    blocks=st.lists(st.text(max_size=80), max_size=6),
    question=st.text(max_size=80),
    reminder=st.lists(st.text(max_size=20), max_size=3),
)
def test_incremental_cost_equals_the_rendered_count(blocks, question, reminder):
    plan = Plan(rules_text("Nhà\nLan"), "", "en", True, reminder=list(reminder))
    assert plan.cost() == estimate_messages_tokens(plan.render())
    plan.set_question(question)
    for block in blocks:
        plan.add("sources", block)
        assert plan.cost() == estimate_messages_tokens(plan.render())
    for block in reversed(blocks):
        plan.add("recent", block)
        plan.add_reminder(block[:20])
        assert plan.cost() == estimate_messages_tokens(plan.render())
    while plan.sources or plan.reminder:
        if plan.sources:
            plan.pop("sources")
        if plan.reminder:
            plan.pop_reminder()
        assert plan.cost() == estimate_messages_tokens(plan.render())
