"""`hearth bench --context`: does the model get the right knowledge, only it, in a short prompt?

Two fixtures in the same format: the held-out set (the default, what the README reports),
never tuned on, and the development set the relevance rules are tuned against
(`--context dev`). Each describes families as they would set
Hearth up — profile, remembered facts, their own entries — beside the global starter pack
and a few shared entries, and asks questions the way their members would, each labelled with
its kind and the entry that answers it (or none). The families' database is built once
through Hearth's own import and store code; every question then gets a fresh copy of it (so
each is the family's first question) and goes through the pipeline a messenger's message
takes. What the model is sent — the prompt and the entries in it — is read back from the
answer log, as `hearth logs` shows it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bot
from bot.app import build
from bot.bench.context_fixture import Fixture, FixtureError, Question, load_fixture
from bot.bench.context_score import Outcome, check_targets, misses, summarise, table
from bot.core.config import Settings, load_settings
from bot.core.types import Incoming
from bot.pipeline import NullOutbox
from bot.store.answers import AnswerLog

__all__ = ["FixtureError", "Outcome", "load_fixture", "run", "run_cli", "summarise", "table"]

FIXTURES = Path(bot.__file__).resolve().parent.parent / "tests" / "fixtures"
# the named sets; "heldout" is the default
FIXTURE_SETS = {"heldout": FIXTURES / "context_heldout", "dev": FIXTURES / "context_dev"}
FIXTURE_DIR = FIXTURE_SETS["heldout"]
PREFILL_QUESTIONS = 12  # per family: enough for a median, a few minutes on a small CPU
PAGE = 100_000  # every entry a family sees, in one page


class EvalError(RuntimeError):
    """The evaluation could not measure what it claims (a question failed inside Hearth)."""


@dataclass(slots=True)
class World:
    """The families' database as built from the fixture, and how to name its entries."""

    family_ids: dict[str, int]
    expected: dict[tuple[str, str], int]  # (asking family, "family:T" | "global:T") -> entry id
    owner: dict[int, int | None]  # entry id -> family id (None: global)
    titles: dict[int, str]
    counts: dict[str, int]


def _settings(path: Path, **env: str) -> Settings:
    """Settings from this environment only: never the developer's .env, model or admins."""
    return load_settings({"HEARTH_DB": str(path), **env}, dotenv=None)


async def build_world(fixture: Fixture, path: Path) -> World:
    """Load the fixture into a new database through Hearth's import and store code."""
    hearth = await build(_settings(path), load_pack=fixture.starter_pack)
    services = hearth.services
    counts: dict[str, int] = {}
    try:
        if fixture.global_entries is not None:
            counts["global"] = await _import(
                services.kb, fixture.root, fixture.global_entries, None
            )
        family_ids: dict[str, int] = {}
        for spec in fixture.families:
            family = await services.families.ensure(
                spec.platform, spec.chat_id, spec.kind, spec.title
            )
            family_ids[spec.slug] = family.id
            members = {}
            for m in spec.members:
                members[m.id] = await services.families.member(
                    family, m.id, m.name, chat_admin=m.admin, language=m.language
                )
            for key, value in spec.profile.items():
                await services.families.set_profile(family.id, key, value)
            for by, text in spec.facts:
                await services.memory.remember(family.id, members[by].id, text)
            await services.families.mark_greeted(family.id)
            counts[spec.slug] = await _import(services.kb, fixture.root, spec.entries, family.id)
        seen: dict[str, list[Any]] = {}
        for spec in fixture.families:
            seen[spec.slug] = (await services.kb.list_entries(family_ids[spec.slug], 0, PAGE))[0]
    finally:
        await hearth.aclose()
    owner = {e.id: e.family_id for entries in seen.values() for e in entries}
    titles = {e.id: e.title for entries in seen.values() for e in entries}
    counts["starter_pack"] = sum(1 for e in seen[fixture.families[0].slug] if e.family_id is None)
    counts["starter_pack"] -= counts.get("global", 0)
    expected: dict[tuple[str, str], int] = {}
    for q in fixture.questions:
        if q.expect is not None and (q.family, q.expect) not in expected:
            expected[(q.family, q.expect)] = _resolve(q, seen[q.family], family_ids[q.family])
    return World(family_ids, expected, owner, titles, counts)


async def _import(kb: Any, root: Path, name: str, family_id: int | None) -> int:
    """One fixture file through `kb import`'s code; any invalid record is a fixture error."""
    data = await asyncio.to_thread((root / name).read_bytes)
    report = await kb.import_file(name, data, family_id)
    if report.errors:
        raise FixtureError(f"{name}: invalid records {report.errors}")
    return len(report.imported) + int(report.skipped)


def _resolve(q: Question, visible: Sequence[Any], family_id: int) -> int:
    """The id of the entry a question expects, among the entries its family sees."""
    assert q.expect is not None
    scope, _, title = q.expect.partition(":")
    owner = family_id if scope == "family" else None
    found = [e.id for e in visible if e.title == title and e.family_id == owner]
    if len(found) != 1:
        raise FixtureError(f"{q.family}: {len(found)} entries match expected {q.expect!r}")
    return int(found[0])


class _Errors(logging.Handler):
    """Counts errors logged while a question is answered (the pipeline logs, then apologises)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _watch_errors() -> Iterator[_Errors]:
    handler = _Errors()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def _fresh_copy(template: Path, work: Path) -> None:
    """The families' database as it was built, before any question was asked."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, work)


async def ask_all(fixture: Fixture, world: World, template: Path, workdir: Path) -> list[Outcome]:
    """Ask every question on its own fresh copy of the families' database."""
    specs = {s.slug: s for s in fixture.families}
    work = workdir / "question.db"
    outcomes: list[Outcome] = []
    with _watch_errors() as errors:
        for n, q in enumerate(fixture.questions, start=1):
            await asyncio.to_thread(_fresh_copy, template, work)
            entry_ids, prompt = await _ask(work, specs[q.family], q, n)
            if errors.messages:
                raise EvalError(f"question {n} ({q.text!r}) failed: {errors.messages[0]}")
            expected_id = world.expected.get((q.family, q.expect)) if q.expect else None
            family_owned = (
                expected_id is not None
                and world.owner.get(expected_id) == world.family_ids[q.family]
            )
            outcomes.append(Outcome(q, expected_id, family_owned, entry_ids, prompt))
    return outcomes


async def _ask(
    db_path: Path, spec: Any, q: Question, n: int
) -> tuple[tuple[int, ...], tuple[dict[str, Any], ...] | None]:
    """One message from the member, as a messenger delivers it; then the answer log's row."""
    member = next(m for m in spec.members if m.id == q.by)
    hearth = await build(_settings(db_path))
    try:
        incoming = Incoming(
            platform=spec.platform,
            chat_id=spec.chat_id,
            user_id=member.id,
            message_id=f"context-eval-{n}",
            text=q.text,
            chat_kind=spec.kind,
            user_name=member.name,
            chat_title=spec.title,
            language_code=member.language,
            is_chat_admin=member.admin,
        )
        await hearth.pipeline.handle(incoming, NullOutbox())
        family = await hearth.services.families.ensure(spec.platform, spec.chat_id, spec.kind)
        rows = await AnswerLog(hearth.services.db).recent_log(family.id, 5)
    finally:
        await hearth.aclose()
    for row in rows:
        if row["question"] == q.text:
            prompt = tuple(row["prompt"]) or None
            return tuple(int(i) for i in row["entry_ids"]), prompt
    return (), None


async def run(
    fixture_root: Path = FIXTURE_DIR,
    workdir: Path | None = None,
    *,
    model_url: str | None = None,
    model_name: str = "default",
    prefill_questions: int = PREFILL_QUESTIONS,
) -> dict[str, Any]:
    """The whole evaluation as one JSON-ready document."""
    from bot.bench.context_prefill import measure_prefill

    fixture = load_fixture(fixture_root)
    with tempfile.TemporaryDirectory(prefix="hearth-context-") as scratch:
        where = Path(workdir or scratch)
        template = where / "families.db"
        world = await build_world(fixture, template)
        outcomes = await ask_all(fixture, world, template, where)
        if model_url:
            prefill = await measure_prefill(
                fixture, outcomes, model_url, model_name, prefill_questions, where / "model.db"
            )
        else:
            prefill = {"worst_family_ratio": None, "reason": "set HEARTH_REAL_MODEL_URL to measure"}
    summary = summarise(outcomes, fixture.kinds)
    return {
        "fixture": {
            "name": fixture_root_name(fixture.root),
            "entries": world.counts,
            "families": len(fixture.families),
            "questions": len(fixture.questions),
        },
        "method": (
            "each question asked as the family's first, through the chat pipeline with no model"
            " configured; prompt and entries as the answer log records them; tokens by"
            " knowledge/tokens.py"
        ),
        "kinds": summary,
        "baseline_prompt_tokens_median": fixture.baseline_median,
        "prefill": prefill,
        "targets": check_targets(summary, fixture.baseline_median, prefill),
        "misses": misses(outcomes, world.titles),
    }


def fixture_root_name(root: Path) -> str:
    """The set's name for a fixture directory ("heldout", "dev"), else the directory's."""
    resolved = root.resolve()
    return next((k for k, v in FIXTURE_SETS.items() if v.resolve() == resolved), root.name)


def fixture_root(which: str) -> Path:
    """The fixture a `--context` argument names: a set ("heldout", "dev") or a directory."""
    from bot.cli import CliUsageError

    root = FIXTURE_SETS.get(which, Path(which))
    if not (root / "families.json").exists():
        sets = ", ".join(FIXTURE_SETS)
        raise CliUsageError(
            f"no context fixture at {root} (sets: {sets}; the named sets need a source checkout)"
        )
    return root


def run_cli(as_json: bool, which: str = "heldout") -> int:
    """`hearth bench --context [SET] [--json]`; the model for the prefill ratio is opt-in."""
    from bot.cli import print_json

    root = fixture_root(which)
    url = os.environ.get("HEARTH_REAL_MODEL_URL", "").strip() or None
    name = os.environ.get("HEARTH_REAL_MODEL_NAME", "").strip() or "default"
    if not as_json:
        sys.stderr.write(f"hearth bench --context: asking the questions of {root.name} …\n")
    result = asyncio.run(run(root, model_url=url, model_name=name))
    if as_json:
        print_json(result)
    else:
        print(table(result))
    return 0
