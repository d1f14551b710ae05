"""The rewriter on concrete cases: language, glossary, constraints, facts and sources.

Every test asserts on the final messages the model would receive.
"""

from __future__ import annotations

import json

import pytest

from knowledge.context import rewrite
from knowledge.types import Entry, Fact, SearchHit
from tests.context_cases import (
    BANH_BONG_LAN,
    CA_KHO,
    FACT_CA_PHAO,
    FACT_CHILLI,
    FACT_LIKES_CA_KHO,
    FACT_PEANUT,
    FACT_SCHOOL,
    PHO,
    TERM_CA_KHO,
    closing,
    everything,
    family_input,
    hit,
    record_of,
    section,
    system,
    user,
)

CONSTRAINTS = "FAMILY CONSTRAINTS"
GLOSSARY = "GLOSSARY"
SOURCES = "SOURCES"
FACTS = "REMEMBERED FAMILY FACTS"


# --- language -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "preferred", "detected", "answer"),
    [
        ("Làm cá kho thế nào?", "vi", "vi", "vi"),
        ("lam ca kho the nao", "en", "vi", "vi"),
        ("cach nau canh chua ca loc", "vi", "vi", "vi"),
        ("How do I make cá kho?", "vi", "mixed", "en"),
        ("What is mâm ngũ quả for?", "vi", "mixed", "en"),
        ("How should we cook braised fish for a big family?", "vi", "en", "en"),
        ("Cho mình hỏi recipe thịt kho trứng", "en", "mixed", "vi"),
        ("???", "en", "en", "en"),
    ],
)
def test_answer_language_follows_the_question(question, preferred, detected, answer):
    result = rewrite(family_input(question, language=preferred))
    assert result.language == answer
    assert record_of(result)["language"]["detected"] == detected
    name = "Vietnamese" if answer == "vi" else "English"
    assert closing(result).startswith(f"BEFORE YOU ANSWER: reply in {name}")
    # the rules do not name a language: a family switching languages keeps its prefix
    assert "Answer in" not in system(result)
    assert user(result) == question


# --- glossary ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question", ["Làm cá kho thế nào?", "lam ca kho sao cho ngon", "How do I make braised fish?"]
)
def test_local_dish_is_expanded_from_the_glossary(question):
    result = rewrite(family_input(question))
    terms = section(result, GLOSSARY)
    assert "cá kho = braised fish in a clay pot with caramel and fish sauce" in terms
    assert [t["term"] for t in record_of(result)["terms"]] == ["cá kho"]


def test_terms_not_in_the_question_are_not_expanded():
    result = rewrite(family_input("Làm cá kho thế nào?"))
    assert "rice-noodle soup" not in everything(result)
    assert "five-fruit tray" not in everything(result)


def test_holiday_term_is_expanded_in_an_english_question():
    result = rewrite(family_input("What goes on the mâm ngũ quả at Tết?", hits=[]))
    terms = section(result, GLOSSARY)
    assert "mâm ngũ quả = the five-fruit tray" in terms
    assert "Tết = Lunar New Year" in terms


def test_a_different_accent_does_not_expand_a_term():
    result = rewrite(family_input("Cà kho với thịt ba chỉ được không?", hits=[]))
    assert section(result, GLOSSARY) == ""


def test_a_term_entry_among_the_hits_is_glossary_not_a_source():
    inp = family_input("cá kho là gì", glossary=[], hits=[hit(TERM_CA_KHO, 5.0, True)])
    result = rewrite(inp)
    assert "cá kho = braised fish" in section(result, GLOSSARY)
    assert section(result, SOURCES) == ""
    assert result.entry_ids == []


# --- constraints ------------------------------------------------------------------------


def test_no_oven_kitchen_is_a_constraint_and_a_reminder_when_a_source_needs_one():
    result = rewrite(family_input("Làm cá kho thế nào?"))
    constraints = section(result, CONSTRAINTS)
    assert "không có lò nướng" in constraints
    assert "There is NO oven" in constraints
    assert "lò nướng" not in closing(result)  # the fish is braised on the stove
    assert system(result).index(CONSTRAINTS) < system(result).index(SOURCES)
    cake = rewrite(family_input("Làm bánh bông lan thế nào?", hits=[hit(BANH_BONG_LAN, 2, True)]))
    assert "⟦kitchen: bếp gas, nồi đất, nồi cơm điện, không có lò nướng⟧" in closing(cake)
    assert "source 1 needs an oven" in closing(cake)


def test_diet_constraint_reaches_the_model():
    result = rewrite(family_input("Nấu canh gì cho bữa tối?", profile={"diet": "ăn chay trường"}))
    assert "Diet: ⟦ăn chay trường⟧" in section(result, CONSTRAINTS)
    # the fish recipe sent breaks it: the closing says who, why and what
    assert "⟦diet: ăn chay trường⟧: source 1 uses ⟦cá⟧" in closing(result)


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("nam", "the South (miền Nam)"),
        ("Miền Bắc", "the North (miền Bắc)"),
        ("central", "Central Vietnam (miền Trung)"),
        ("south", "the South (miền Nam)"),
    ],
)
def test_region_constraint(region, expected):
    result = rewrite(family_input("Tết nhà mình nên nấu gì?", profile={"region": region}))
    assert f"The family lives in {expected}" in section(result, CONSTRAINTS)


def test_constraint_fact_kept_even_when_the_question_is_unrelated():
    result = rewrite(family_input("Cách giặt áo len không bị co?", hits=[]))
    assert "Bà nội không ăn ớt" in section(result, CONSTRAINTS)
    assert "Bà nội không ăn ớt" not in closing(result)  # no source to break it
    assert FACT_SCHOOL.text not in everything(result)


def test_english_allergy_fact_is_a_constraint():
    result = rewrite(family_input("Any snack ideas for the kids?", facts=[FACT_PEANUT], hits=[]))
    assert "Grandma is allergic to peanuts" in section(result, CONSTRAINTS)
    assert record_of(result)["facts"]["used"][0]["why"] == "constraint: always kept"


# --- remembered facts -----------------------------------------------------------------


def test_irrelevant_fact_never_reaches_the_model():
    result = rewrite(family_input("Làm cá kho thế nào?"))
    assert FACT_SCHOOL.text not in everything(result)
    left = {f["id"]: f["why"] for f in record_of(result)["facts"]["left_out"]}
    assert left[FACT_SCHOOL.id] == "not relevant"


def test_relevant_fact_is_included():
    result = rewrite(family_input("lam ca kho the nao"))
    assert FACT_LIKES_CA_KHO.text in section(result, FACTS)


def test_accent_mismatch_is_not_relevance():
    result = rewrite(family_input("Làm cá kho thế nào?"))
    assert FACT_CA_PHAO.text not in everything(result)


def test_fact_relevant_through_the_glossary_for_an_english_question():
    result = rewrite(family_input("How do I make braised fish?"))
    assert FACT_LIKES_CA_KHO.text in section(result, FACTS)


def test_strict_privacy_keeps_constraints_but_not_personal_context():
    result = rewrite(family_input("Làm cá kho thế nào?", strict_privacy=True))
    text = everything(result)
    assert "Bà nội không ăn ớt" in text
    assert "Nhà Lan" not in text
    assert FACT_LIKES_CA_KHO.text not in text
    assert "Bến Thành" not in text
    assert "message from member" in text and "message from Lan" not in text
    assert record_of(result)["privacy"] == "strict"


# --- sources ------------------------------------------------------------------------------


def test_sources_are_numbered_fenced_and_cited():
    result = rewrite(family_input("Làm cá kho thế nào?"))
    sources = section(result, SOURCES)
    assert sources.startswith("SOURCES (prefer these; cite as [n]):")
    assert "⟦source 1: Cá kho tộ (the South)⟧" in sources
    assert "Xếp cá vào nồi đất" in sources
    # "Thịt kho trứng" shares only "kho" with the question: not a source
    assert result.entry_ids == [CA_KHO.id]
    assert [s.title for s in result.sources] == ["Cá kho tộ"]
    first = record_of(result)["entries"][0]
    assert (first["rank"], first["strong"]) == (1, True)


def test_at_most_three_sources():
    kinds = ["riềng", "gừng", "sả", "mía", "tương"]  # five different dishes of cá kho
    hits = [hit(CA_KHO, 3, True)] + [
        SearchHit(Entry(100 + i, f"Cá kho {k}", f"{k} {k} {k}"), 1.0) for i, k in enumerate(kinds)
    ]
    result = rewrite(family_input("cá kho", hits=hits))
    assert len(result.entry_ids) == 3
    assert "⟦source 4" not in system(result)
    assert any(s["reason"] == "limit" for s in record_of(result)["entries_skipped"])


def test_hit_sharing_no_word_with_the_question_is_skipped():
    result = rewrite(
        family_input("Làm cá kho thế nào?", hits=[hit(CA_KHO, 3, True), hit(BANH_BONG_LAN, 0.2)])
    )
    assert "Bánh bông lan" not in system(result)
    assert record_of(result)["entries_skipped"][0]["title"] == "Bánh bông lan"


def test_duplicate_hits_are_quoted_once():
    result = rewrite(family_input("cá kho", hits=[hit(CA_KHO, 3, True), hit(CA_KHO, 2)]))
    assert system(result).count("Cá kho tộ (the South)⟧") == 2  # open and close marker
    assert result.entry_ids == [CA_KHO.id]


def test_entry_from_another_region_says_so_in_the_record():
    result = rewrite(family_input("Nấu phở bò thế nào?", hits=[hit(PHO, 2, True)]))
    assert "from miền Bắc" in record_of(result)["entries"][0]["why"]
    assert "⟦source 1: Phở bò Hà Nội (the North)⟧" in system(result)


def test_record_is_json_serialisable_and_complete():
    result = rewrite(family_input("Làm cá kho thế nào?"))
    record = json.loads(json.dumps(result.record, ensure_ascii=False))
    assert set(record) >= {"language", "profile", "facts", "entries", "terms", "budget"}
    assert record["budget"]["used"] <= record["budget"]["limit"]
    keys = {p["key"] for p in record["profile"] if p["used"]}
    assert keys == {"kitchen", "region", "name"}


def test_two_families_share_nothing():
    first = rewrite(family_input("Làm cá kho thế nào?"))
    other = rewrite(
        family_input(
            "Làm cá kho thế nào?",
            profile={},
            facts=[Fact(9, "Nhà có mèo")],
            summary=None,
            recent=[],
        )
    )
    assert "không có lò nướng" in everything(first)
    for private in ("không có lò nướng", "Nhà Lan", FACT_CHILLI.text, "Bến Thành"):
        assert private not in everything(other)
