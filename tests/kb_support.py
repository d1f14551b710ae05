"""Shared helpers for the knowledge-base tests: a real database file and the fixture KB."""

from __future__ import annotations

import json
from pathlib import Path

from bot.store.db import Database
from knowledge.store import KnowledgeBase

FIXTURES = Path(__file__).parent / "fixtures" / "kb"


def fixture_records() -> list[dict[str, object]]:
    """The ~40 realistic family entries used by the search-quality table."""
    lines = (FIXTURES / "family_kb.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def dev_family_records() -> list[dict[str, object]]:
    """A family's own entries, several of them its versions of starter-pack dishes and
    customs (the context tests' development set; not the held-out evaluation)."""
    lines = (FIXTURES / "dev_family.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


async def open_kb(path: Path, embedder=None) -> tuple[Database, KnowledgeBase]:  # type: ignore[no-untyped-def]
    """A migrated database file and a KnowledgeBase on it."""
    db = await Database.open(path)
    return db, KnowledgeBase(db, embedder)


async def kb_with_two_families(path: Path) -> tuple[Database, KnowledgeBase, int, int]:
    """A knowledge base with two group-chat families (ids of -100 and -200), for scope tests."""
    from bot.store.families import FamilyStore

    db, kb = await open_kb(path)
    fams = FamilyStore(db)
    a = await fams.ensure("telegram", "-100", "group")
    b = await fams.ensure("telegram", "-200", "group")
    return db, kb, a.id, b.id
