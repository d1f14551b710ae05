"""Property: nothing of family A ever reaches family B — prompts, views, exports, search.

Hypothesis invents two families (any platforms, chat ids, members — the same person may be
in both), A's facts, profile, questions and knowledge entries, and B's questions built
from A's own words (so a leak would match). Everything A owns carries a sentinel token;
B's side must never show it: not in the messages sent to the model for B (recorded in the
answer log, and on the wire when a model endpoint is configured), not in any reply B sees
(`/memory`, `/saved`, `/why`, `/export`, `/kb …`, `/family`), not in B's history, summary
or `hearth logs` rows.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Hearth, build
from bot.core.types import CallbackEvent, Incoming
from tests.conftest import make_settings
from tests.servers.openai_server import running_openai_server
from tests.support import RecordingOutbox

SENTINEL = "ZXQA"
VOCABULARY = (
    "cá kho thịt canh chua phở bò bún chả nồi đất lò nướng bà nội ông ngoại cay ngọt tết "
    "mẹ con cháu gạo nếp muối tiêu hành tỏi gừng sả me đường nước mắm"
)
WORDS = st.sampled_from(VOCABULARY.split(" "))
PHRASE = st.lists(WORDS, min_size=1, max_size=6).map(" ".join)
CHAT_ID = st.text("abcdefghijklmnop0123456789-", min_size=1, max_size=12)
USER_ID = st.sampled_from(["u1", "u2", "u3", "shared"])
PLATFORM = st.sampled_from(["console", "telegram", "zalo"])
# Views a member of B may open; every one must be a registered command.
VIEWS = (
    "/memory",
    "/saved",
    "/why",
    "/export",
    "/family",
    "/kb list",
    "/kb export",
    "/review",
    "/help",
)


@dataclass(frozen=True)
class Family:
    platform: str
    chat_id: str
    kind: str


@dataclass(frozen=True)
class Scenario:
    a: Family
    b: Family
    a_members: list[str]
    b_members: list[str]
    a_facts: list[str]
    a_questions: list[str]
    a_entries: list[tuple[str, str]]
    a_profile_note: str
    b_questions: list[str]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Two distinct chats, A's secrets (each tagged), B's questions made of A's words."""
    a = Family(draw(PLATFORM), draw(CHAT_ID), draw(st.sampled_from(["private", "group"])))
    b = Family(draw(PLATFORM), draw(CHAT_ID), draw(st.sampled_from(["private", "group"])))
    if (a.platform, a.chat_id) == (b.platform, b.chat_id):
        b = Family(b.platform, b.chat_id + "-b", b.kind)
    tag = iter(range(10_000))

    def secret(phrase: str) -> str:
        return f"{phrase} {SENTINEL}{next(tag)}"

    a_facts = [secret(p) for p in draw(st.lists(PHRASE, min_size=1, max_size=3))]
    a_questions = [secret(p) + "?" for p in draw(st.lists(PHRASE, min_size=1, max_size=3))]
    a_entries = [
        (secret(t), secret(body))
        for t, body in draw(st.lists(st.tuples(PHRASE, PHRASE), min_size=0, max_size=3))
    ]
    words = " ".join(a_facts + a_questions + [t for t, _ in a_entries]).replace(SENTINEL, " ")
    a_words = [w for w in words.split() if not w.isdigit()]
    b_questions = [
        " ".join(draw(st.lists(st.sampled_from(a_words), min_size=1, max_size=5))) + "?"
        for _ in range(draw(st.integers(1, 3)))
    ]
    return Scenario(
        a=a,
        b=b,
        a_members=draw(st.lists(USER_ID, min_size=1, max_size=3, unique=True)),
        b_members=draw(st.lists(USER_ID, min_size=1, max_size=3, unique=True)),
        a_facts=a_facts,
        a_questions=a_questions,
        a_entries=a_entries,
        a_profile_note=secret("ghi chú"),
        b_questions=b_questions,
    )


def _incoming(fam: Family, user: str, text: str, n: int) -> Incoming:
    return Incoming(
        platform=fam.platform,
        chat_id=fam.chat_id,
        user_id=user,
        message_id=f"{fam.chat_id}-{n}",
        text=text,
        chat_kind=fam.kind,  # type: ignore[arg-type]
        user_name=user,
        is_chat_admin=True,
    )


async def _play(hearth: Hearth, sc: Scenario, server: Any = None) -> list[str]:
    """Run the scenario; return every text B could observe or that was sent for B."""
    pipeline = hearth.pipeline
    registry = hearth.services.registry
    for name in ("family", "kb", "suggest", *(view.split()[0][1:] for view in VIEWS)):
        assert registry.find(name) is not None, f"/{name} is not registered"
    kb = hearth.services.kb
    assert kb is not None, "the knowledge base is off"
    n = 0

    async def say(fam: Family, user: str, text: str, out: RecordingOutbox) -> None:
        nonlocal n
        n += 1
        await pipeline.handle(_incoming(fam, user, text, n), out)

    out_a = RecordingOutbox()
    admin_a = sc.a_members[0]
    for fact in sc.a_facts:
        await say(sc.a, admin_a, f"/remember {fact}", out_a)
    await say(sc.a, admin_a, f"/family set note {sc.a_profile_note}", out_a)
    for title, body in sc.a_entries:
        await say(sc.a, admin_a, f"/kb add {title} | {body}", out_a)
    if sc.a_entries:
        title, body = sc.a_entries[0]
        await say(sc.a, sc.a_members[-1], f"/suggest {title} | {body}", out_a)
    for i, question in enumerate(sc.a_questions):
        await say(sc.a, sc.a_members[i % len(sc.a_members)], question, out_a)
        answer_id = out_a.last.answer_id
        if answer_id is not None:
            await pipeline.handle_callback(
                CallbackEvent(sc.a.platform, sc.a.chat_id, admin_a, f"fb:save:{answer_id}")
            )

    await hearth.services.answers.drain()  # A's background work is done before B speaks
    wire_before = len(server.history) if server is not None else 0
    out_b = RecordingOutbox()
    for i, question in enumerate(sc.b_questions):
        await say(sc.b, sc.b_members[i % len(sc.b_members)], question, out_b)
    for view in VIEWS:
        await say(sc.b, sc.b_members[0], view, out_b)
    for question in sc.b_questions:
        await say(sc.b, sc.b_members[0], f"/kb search {question}", out_b)

    await hearth.services.answers.drain()  # background summaries are B's too
    seen = [r.text for r in out_b.sent]
    seen += [r.document[1].decode("utf-8", "replace") for r in out_b.sent if r.document]
    fam_b = await hearth.services.families.ensure(sc.b.platform, sc.b.chat_id, sc.b.kind)
    db = hearth.services.db
    for row in await db.fetchall(
        "SELECT prompt_json, context_json, answer FROM answers WHERE family_id = ?", (fam_b.id,)
    ):
        seen += [row["prompt_json"], row["context_json"], row["answer"]]
    summary, recent = await hearth.services.memory.recent(fam_b.id, 100_000)
    seen += [summary or ""] + [t.text for t in recent]
    seen += [
        json.dumps(r, default=str)
        for r in await hearth.services.answers.log.recent_log(fam_b.id, 100)
    ]
    if server is not None:  # every request that reached the model while B was served
        seen += [json.dumps(r.body, ensure_ascii=False) for r in server.history[wire_before:]]
        assert len(server.history) > wire_before, "B's questions never reached the model"
    for question in sc.b_questions:
        for hit in await kb.search(question, fam_b.id, limit=20):
            seen += [hit.entry.title, hit.entry.body, hit.snippet]
    return seen


async def _scenario(sc: Scenario, where: Path, server: Any = None) -> None:
    """One example on its own database in `where` (a fresh folder under pytest's tmp)."""
    env = {"LLM_BASE_URL": server.base_url, "LLM_MODEL": "m"} if server is not None else {}
    hearth = await build(make_settings(where, **env))
    try:
        seen = await _play(hearth, sc, server)
    finally:
        await hearth.aclose()
    leaks = [text for text in seen if SENTINEL in text]
    assert not leaks, f"family A's data reached family B: {leaks[0][:300]!r}"


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(sc=scenarios())
def test_nothing_of_family_a_reaches_family_b(
    tmp_path_factory: pytest.TempPathFactory, sc: Scenario
) -> None:
    asyncio.run(_scenario(sc, tmp_path_factory.mktemp("isolation")))


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(sc=scenarios())
def test_nothing_of_family_a_reaches_the_model_for_family_b(
    tmp_path_factory: pytest.TempPathFactory, sc: Scenario
) -> None:
    """The same property on the wire: request bodies the loopback model received for B."""
    with running_openai_server() as server:
        asyncio.run(_scenario(sc, tmp_path_factory.mktemp("isolation"), server))


def test_the_property_can_fail(tmp_path: Path) -> None:
    """Sanity: the same check sees A's data when B is, in fact, A's own chat."""
    home = Family("telegram", "-100", "group")
    same = Scenario(
        a=home,
        b=home,
        a_members=["u1"],
        b_members=["u2"],
        a_facts=[f"bà nội không ăn cay {SENTINEL}1"],
        a_questions=[f"cá kho {SENTINEL}2?"],
        a_entries=[(f"Cá kho {SENTINEL}3", f"nồi đất {SENTINEL}4")],
        a_profile_note=f"ghi chú {SENTINEL}5",
        b_questions=["bà nội ăn cay không?"],
    )
    try:
        asyncio.run(_scenario(same, tmp_path))
    except AssertionError as exc:
        assert SENTINEL in str(exc)
    else:
        raise AssertionError("a family's own data should be visible to itself")
