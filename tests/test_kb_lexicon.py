"""The bilingual lexicon ships inside the package and says each thing once."""

from __future__ import annotations

import json
from importlib import resources

from knowledge.lexicon import lexicon, stem, tokens
from knowledge.question import analyse

KINDS = {"dish", "ingredient", "method", "tool", "custom", "health", "home", "person"}
KINDS |= {"time", "chat", "generic"}


def test_the_lexicon_is_package_data_with_every_kind_of_family_word() -> None:
    item = resources.files("knowledge.packs").joinpath("lexicon.jsonl")
    rows = [json.loads(line) for line in item.read_text("utf-8").splitlines() if line.strip()]
    assert len(rows) >= 300
    assert {r["kind"] for r in rows} == KINDS
    assert all(r["vi"] and r["en"] for r in rows)


def test_a_written_form_means_two_things_only_when_both_are_searched() -> None:
    """A word such as "rice" (cơm and gạo) or "bugs" (insects, weevils) may be about
    either, so both meanings are topical and the question searches both. A form never
    means a topic and a person, a time or small talk."""
    lex = lexicon()
    owner: dict[tuple[str, tuple[str, ...]], int] = {}
    clashes = []
    for concept in lex.concepts:
        for form in lex.forms_of(concept.id):
            key = (form.lang, tuple(t.raw for t in form.toks))
            first = owner.setdefault(key, concept.id)
            if first != concept.id:
                clashes.append((key, first, concept.id))
    for (_, raws), first, second in clashes:
        assert lex.concepts[first].weight > 0 and lex.concepts[second].weight > 0, raws
        [unit] = analyse(" ".join(raws)).units
        said = {tuple(t.key for t in f) for f in unit.forms}
        for meaning in (first, second):
            assert {f.keys for f in lex.forms_of(meaning)} <= said
    assert len(clashes) <= 4  # rare: most words mean one thing


def test_plurals_and_marks_are_compared_the_way_families_type() -> None:
    assert [stem(w) for w in ("eggs", "chillies", "dishes", "tomatoes", "gas", "ribs")] == [
        "egg",
        "chilly",
        "dish",
        "tomato",
        "gas",
        "rib",
    ]
    assert [t.key for t in tokens("Cá KHO tộ")] == ["ca", "kho", "to"]
    fish = analyse("cá kho").units[0]
    assert fish.kind == "dish" and any(
        " ".join(t.raw for t in f) == "braised fish" for f in fish.forms
    )
    aubergine = analyse("cà kho").units  # "cà" is not "cá"
    assert all(u.kind != "dish" for u in aubergine)


def test_a_question_knows_its_topic_what_it_leaves_out_and_small_talk() -> None:
    q = analyse("cho mình công thức thịt kho, bỏ ớt nhé")
    assert [u.text for u in q.avoided] == ["ớt"]
    assert "ớt" not in q.search_text and "thịt kho" in q.search_text
    assert [u.text for u in analyse("grilled chicken with no chilli").avoided] == ["chilli"]
    assert analyse("hôm nay trời đẹp quá").small_talk
    assert analyse("cảm ơn nhé").small_talk
    assert not analyse("bánh chưng").small_talk
    assert analyse("bà nội bị tiểu đường nên ăn gì").health
    assert "banh_chung" in analyse("square sticky rice cake").expansions
