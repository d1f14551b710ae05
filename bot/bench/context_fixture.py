"""The context evaluation's fixture: families, their entries, the questions and their labels.

Layout of a fixture directory:
- `families.json`: `starter_pack` (load Hearth's starter pack as global entries),
  `global_entries` (a file of shared entries, imported without a family), `families` (each
  with `slug`, `platform`, `chat_id`, `kind`, `title`, `entries` (a file), `profile`,
  `members` (`id`, `name`, `admin`, `language`) and `facts` (`by`, `text`)), and
  `baseline_prompt_tokens_median` (the median prompt the targets are relative to).
- `questions.jsonl`: one question a line — `family`, `by` (a member id), `kind`, `q`, and
  `expect`: `"family:TITLE"` (the asking family's own entry), `"global:TITLE"`, or null when
  no entry answers it (small talk, nothing relevant).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The kinds of question issue 20 reports on, in the order they are shown.
KINDS = ("vi", "vi_plain", "en", "mixed", "typo", "smalltalk", "health")


class FixtureError(ValueError):
    """The fixture contradicts itself (an unknown member, an expected entry that is not there)."""


@dataclass(frozen=True, slots=True)
class Member:
    """A person in a family's chat, as the messenger describes them."""

    id: str
    name: str
    admin: bool = False
    language: str | None = None


@dataclass(frozen=True, slots=True)
class FamilySpec:
    """One family as it set Hearth up."""

    slug: str
    platform: str
    chat_id: str
    kind: str
    title: str | None
    entries: str
    profile: dict[str, str]
    members: tuple[Member, ...]
    facts: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Question:
    """A question, who asks it, its kind and the entry that answers it (None: no entry)."""

    family: str
    by: str
    kind: str
    text: str
    expect: str | None


@dataclass(frozen=True, slots=True)
class Fixture:
    """Everything the evaluation loads and asks."""

    root: Path
    starter_pack: bool
    global_entries: str | None
    families: tuple[FamilySpec, ...]
    questions: tuple[Question, ...]
    baseline_median: float | None
    kinds: tuple[str, ...] = KINDS


def _family(raw: dict[str, Any]) -> FamilySpec:
    members = tuple(
        Member(str(m["id"]), str(m["name"]), bool(m.get("admin", False)), m.get("language"))
        for m in raw["members"]
    )
    ids = {m.id for m in members}
    facts = tuple((str(f["by"]), str(f["text"])) for f in raw.get("facts", ()))
    for by, text in facts:
        if by not in ids:
            raise FixtureError(f"{raw['slug']}: fact {text!r} by unknown member {by!r}")
    return FamilySpec(
        slug=str(raw["slug"]),
        platform=str(raw["platform"]),
        chat_id=str(raw["chat_id"]),
        kind=str(raw["kind"]),
        title=raw.get("title"),
        entries=str(raw["entries"]),
        profile={str(k): str(v) for k, v in raw.get("profile", {}).items()},
        members=members,
        facts=facts,
    )


def _question(line_no: int, raw: dict[str, Any], families: dict[str, FamilySpec]) -> Question:
    where = f"questions.jsonl line {line_no}"
    family = families.get(str(raw.get("family")))
    if family is None:
        raise FixtureError(f"{where}: unknown family {raw.get('family')!r}")
    if raw.get("by") not in {m.id for m in family.members}:
        raise FixtureError(f"{where}: {raw.get('by')!r} is not a member of {family.slug}")
    if raw.get("kind") not in KINDS:
        raise FixtureError(f"{where}: kind {raw.get('kind')!r} is not one of {KINDS}")
    text = raw.get("q")
    if not isinstance(text, str) or not text.strip():
        raise FixtureError(f"{where}: no question")
    expect = raw.get("expect")
    if expect is not None and (
        not isinstance(expect, str) or expect.partition(":")[0] not in ("family", "global")
    ):
        raise FixtureError(f"{where}: expect must be 'family:TITLE', 'global:TITLE' or null")
    return Question(family.slug, str(raw["by"]), str(raw["kind"]), text, expect)


def load_fixture(root: Path) -> Fixture:
    """Read and check a fixture directory (the entries are checked when they are imported)."""
    meta = json.loads((root / "families.json").read_text(encoding="utf-8"))
    families = tuple(_family(f) for f in meta["families"])
    by_slug = {f.slug: f for f in families}
    if len(by_slug) != len(families):
        raise FixtureError("two families share a slug")
    questions = []
    text = (root / "questions.jsonl").read_text(encoding="utf-8")
    for no, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            questions.append(_question(no, json.loads(line), by_slug))
    if not questions:
        raise FixtureError("no questions")
    baseline = meta.get("baseline_prompt_tokens_median")
    return Fixture(
        root=root,
        starter_pack=bool(meta.get("starter_pack", False)),
        global_entries=meta.get("global_entries"),
        families=families,
        questions=tuple(questions),
        baseline_median=float(baseline) if baseline is not None else None,
    )
