"""The starter pack that ships inside the package: valid, varied, and useful to the rewriter."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from knowledge.context import rewrite
from knowledge.relevance import fold
from knowledge.types import ContextInput, Entry, SearchHit

REQUIRED = {
    "title": str,
    "body": str,
    "tags": list,
    "aliases": list,
    "language": str,
    "verbatim": bool,
    "author": str,
}


def _rows() -> list[dict]:
    pack = resources.files("knowledge") / "packs" / "starter.jsonl"
    rows = []
    for number, line in enumerate(pack.read_text("utf-8").splitlines(), start=1):
        assert line.strip(), f"line {number} is empty"
        rows.append(json.loads(line))
    return rows


ROWS = _rows()
TERMS = [r for r in ROWS if "term" in r["tags"]]
ENTRIES = [r for r in ROWS if "term" not in r["tags"]]


def _entry(i: int, row: dict) -> Entry:
    return Entry(
        i,
        row["title"],
        row["body"],
        tuple(row["tags"]),
        region=row.get("region"),
        aliases=tuple(row["aliases"]),
    )


@pytest.mark.parametrize("row", ROWS, ids=[r["title"] for r in ROWS])
def test_every_line_has_the_required_fields(row):
    for field, kind in REQUIRED.items():
        assert isinstance(row[field], kind), field
    assert row["title"].strip() and row["body"].strip()
    assert row["language"] == "vi"
    assert row["verbatim"] is False
    assert row["author"] == "Hearth starter pack"
    assert row.get("region") in (None, "bac", "trung", "nam")
    assert all(isinstance(t, str) and t for t in row["tags"] + row["aliases"])
    assert row["aliases"], "every entry has an English name or alias"


def test_counts():
    assert len(ENTRIES) >= 60
    assert len(TERMS) >= 15


def test_no_duplicate_titles():
    titles = [fold(r["title"]).strip() for r in ROWS]
    assert len(titles) == len(set(titles))


@pytest.mark.parametrize("row", ENTRIES, ids=[r["title"] for r in ENTRIES])
def test_entry_bodies_are_practical_length(row):
    assert 40 <= len(row["body"].split()) <= 200


def test_required_titles_and_topics_are_covered():
    titles = {r["title"] for r in ROWS}
    assert "Cá kho tộ" in titles
    folded = " ".join(fold(r["title"]) for r in ENTRIES)
    for topic in (
        "thit kho trung",
        "canh chua",
        "pho",
        "bun bo hue",
        "dau hu sot ca",
        "rau muong xao toi",
        "mam ngu qua",
        "ong cong ong tao",
        "li xi",
        "gio",
        "trung thu",
        "vu lan",
        "gao",
        "nom am",
        "sot xuat huyet",
    ):
        assert topic in folded, topic
    for region in ("bac", "trung", "nam"):
        assert sum(region in r["tags"] for r in ENTRIES) >= 10, region


def test_no_entry_assumes_an_oven():
    for row in ENTRIES:
        body = fold(row["body"])
        if "lo nuong" in body or "oven" in body:
            assert any(
                k in body
                for k in (
                    "khong co lo",
                    "khong can lo",
                    "thay lo",
                    "noi chien",
                    "ap chao",
                    "bep gas",
                )
            ), row["title"]


def test_remedies_carry_a_safety_note():
    remedies = [
        r
        for r in ENTRIES
        if "home remedy" in r["tags"] or "first aid" in r["tags"] or "home care" in r["tags"]
    ]
    assert len(remedies) >= 6
    for row in remedies:
        body = fold(row["body"])
        assert any(k in body for k in ("di kham", "di vien", "cap cuu", "bac si")), row["title"]


def test_ca_kho_term_expands_the_question_with_the_real_pack():
    glossary = [_entry(1000 + i, r) for i, r in enumerate(TERMS)]
    ca_kho = next(_entry(1, r) for r in ENTRIES if r["title"] == "Cá kho tộ")
    inp = ContextInput(
        "Làm cá kho thế nào?", "vi", glossary=glossary, hits=[SearchHit(ca_kho, 2.0, strong=True)]
    )
    result = rewrite(inp)
    system = result.messages[0]["content"]
    assert "cá kho = braised fish in a clay pot with caramel" in system
    assert "⟦source 1: Cá kho tộ (the South)⟧" in system
    assert "- kho = " not in system  # the longer term wins only where it is named
