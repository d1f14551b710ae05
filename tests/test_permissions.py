"""Every registered command × every role: allowed or politely refused, with data untouched.

The command list comes from the real registry (`handlers.setup.build_registry()`), so a
command added later is covered without touching this file; its expected role is its
registered `Command.role`, except for sub-commands and contract rules listed below.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import Hearth, build
from bot.core.errors import PermissionDenied
from bot.core.types import CallbackEvent, Incoming
from bot.store import migrate
from handlers.base import Ctx, Role
from handlers.setup import build_registry
from tests.conftest import make_settings
from tests.support import RecordingOutbox, msg

GROUP = "perm-group"
PLATFORMS = ("zalo",)  # the Telegram adapter has its own end-to-end test below

# Sub-commands whose role differs from the command's own (the contract's list).
SUBCOMMAND_ROLE: dict[tuple[str, str], Role] = {
    ("kb", "add"): "admin",
    ("kb", "edit"): "admin",
    ("kb", "remove"): "admin",
    ("kb", "undo"): "admin",
    ("kb", "import"): "admin",
    ("kb", "show"): "member",
    ("kb", "list"): "member",
    ("kb", "search"): "member",
    ("kb", "history"): "member",
    ("kb", "export"): "member",
    ("family", ""): "member",
    ("family", "set"): "admin",
}
# Contract rules that hold whatever role a handler registers itself with.
CONTRACT_ROLE: dict[str, Role] = {
    "suggest": "member",
    "review": "admin",
    "approve": "admin",
    "reject": "admin",
    "deletefamily": "admin",
    "help": "member",
    "start": "member",
    "remember": "member",
    "memory": "member",
    "saved": "member",
    "why": "member",
}
# Arguments that make each invocation meaningful ({entry} is a seeded entry id).
ARGS: dict[tuple[str, str], str] = {
    ("remember", ""): "bà nội không ăn cay",
    ("forget", ""): "1",
    ("kb", "add"): "Cá kho tộ | Kho cá với nước màu trong nồi đất #món",
    ("kb", "edit"): "{entry} Canh chua | Nấu với me và cá lóc",
    ("kb", "remove"): "{entry}",
    ("kb", "undo"): "{entry}",
    ("kb", "show"): "{entry}",
    ("kb", "history"): "{entry}",
    ("kb", "search"): "canh chua",
    ("family", "set"): "region Nam",
    ("suggest", ""): "Chè đậu | Nấu đậu xanh với đường",
    ("approve", ""): "1",
    ("reject", ""): "1",
}
# Tables a refused command may still write (the message itself, the member's last visit).
VOLATILE = {"messages", "members", "families", "sqlite_sequence"}


@dataclass(frozen=True)
class Invocation:
    """One way of calling a command and the least role that may do it."""

    text: str
    role: Role

    @property
    def id(self) -> str:
        return self.text.split(" ", 2)[0] + (
            "_" + self.text.split(" ")[1] if " " in self.text else ""
        )


def invocations() -> list[Invocation]:
    """Every registered command (and known sub-command) with its expected role."""
    reg = build_registry()
    found: list[Invocation] = []
    for cmd in reg.commands:
        subs = sorted({sub for (name, sub) in SUBCOMMAND_ROLE if name == cmd.name})
        for sub in subs or [""]:
            role = SUBCOMMAND_ROLE.get((cmd.name, sub)) or CONTRACT_ROLE.get(cmd.name) or cmd.role
            args = ARGS.get((cmd.name, sub), "")
            text = " ".join(p for p in (f"/{cmd.name}", sub, args) if p)
            found.append(Invocation(text, role))
    for prefix, cmd in reg.prefix_handlers:
        found.append(Invocation(f"/{prefix}{{answer}}", cmd.role))
    return found


@dataclass(frozen=True)
class Who:
    """A person writing in the shared group chat."""

    name: str
    user_id: str
    chat_admin: bool
    is_admin: bool  # what the contract says this person may do in the group


ROLES = (
    Who("member", "mem", chat_admin=False, is_admin=False),
    Who("family_admin", "adm", chat_admin=True, is_admin=True),
    Who("global_admin", "glob", chat_admin=False, is_admin=True),
    Who("other_family_admin", "out", chat_admin=False, is_admin=False),
)


async def _refusals(hearth: Hearth) -> tuple[str, ...]:
    """The exact refusal texts, taken from the code that raises them."""
    inc = msg("x", chat="refusal-probe", kind="group")
    fam = await hearth.services.families.ensure("console", "refusal-probe", "group")
    member = await hearth.services.families.member(fam, "nobody", "nobody")
    texts: list[str] = []
    for hint in (True, False):
        ctx = Ctx(hearth.services, inc, fam, member, "vi", "", "", RecordingOutbox())
        with pytest.raises(PermissionDenied) as caught:
            ctx.require_admin(suggest_hint=hint)
        texts += [caught.value.vi, caught.value.en]
    return tuple(texts)


async def _snapshot(hearth: Hearth) -> str:
    """A digest of every table a refused command must leave alone."""
    db = hearth.services.db
    digest = hashlib.sha256()
    rows = await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name"
    )
    for row in rows:
        name = row["name"]
        if name in VOLATILE or "_fts" in name or name.endswith(("_data", "_idx", "_docsize")):
            continue
        items = await db.fetchall(f'SELECT * FROM "{name}"')  # some tables have no rowid
        for text in sorted(repr((name, tuple(item))) for item in items):
            digest.update(text.encode())
    return digest.hexdigest()


def _in_group(platform: str, who: Who, text: str, **extra: Any) -> Incoming:
    return msg(
        text,
        chat=GROUP,
        user=who.user_id,
        platform=platform,
        kind="group",
        is_chat_admin=who.chat_admin,
        **extra,
    )


async def _seed(hearth: Hearth, platform: str) -> dict[str, str]:
    """A group with one fact, one answer and one knowledge entry; their ids to fill in."""
    pipeline, out = hearth.pipeline, RecordingOutbox()
    admin = ROLES[1]
    await pipeline.handle(msg("/start", chat="out", user="out", platform=platform), out)
    await pipeline.handle(_in_group(platform, admin, "/start"), out)
    await pipeline.handle(_in_group(platform, admin, "/remember Nhà có nồi đất"), out)
    await pipeline.handle(_in_group(platform, admin, "Làm canh chua thế nào?"), out)
    answer = str(out.last.answer_id)
    assert hearth.services.registry.find("kb") is not None, "/kb is not registered"
    await pipeline.handle(_in_group(platform, admin, "/kb add Canh chua | Me, cá, cà chua"), out)
    row = await hearth.services.db.fetchone("SELECT max(id) AS id FROM entries")
    assert row is not None and row["id"] is not None, out.texts[-1:]
    return {"answer": answer, "entry": str(row["id"])}


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database copied for every case (migrating 200 times is most of the time)."""
    path = tmp_path_factory.mktemp("permissions") / "template.db"
    migrate.upgrade(path)
    conn = migrate.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def _cases() -> list[tuple[str, Invocation, Who]]:
    return [(p, inv, who) for p in PLATFORMS for inv in invocations() for who in ROLES]


def test_registry_is_covered() -> None:
    """Every registered command yields at least one invocation in the table."""
    reg = build_registry()
    texts = [inv.text for inv in invocations()]
    for cmd in reg.commands:
        assert any(t.split(" ")[0] == f"/{cmd.name}" for t in texts), cmd.name
    assert len(texts) >= len(reg.commands) + len(reg.prefix_handlers)


@pytest.mark.parametrize(
    ("platform", "inv", "who"),
    _cases(),
    ids=[f"{p}-{inv.id}-{who.name}" for p, inv, who in _cases()],
)
async def test_command_role_matrix(
    tmp_path: Path, template_db: Path, platform: str, inv: Invocation, who: Who
) -> None:
    shutil.copyfile(template_db, tmp_path / "hearth.db")
    settings = make_settings(tmp_path, HEARTH_ADMINS=f"{platform}:glob")
    hearth = await build(settings)
    try:
        refusals = await _refusals(hearth)
        values = await _seed(hearth, platform)
        text = inv.text.format(**values)
        before = await _snapshot(hearth)
        out = RecordingOutbox()
        await hearth.pipeline.handle(_in_group(platform, who, text), out)
        assert out.sent, f"{text}: no reply"
        reply = out.last.text
        refused = any(r in reply for r in refusals)
        allowed = who.is_admin or inv.role == "member"
        if allowed:
            assert not refused, f"{who.name} was refused {text}: {reply}"
        else:
            assert refused, f"{who.name} was not refused {text}: {reply}"
            assert await _snapshot(hearth) == before, f"refused {text} still changed data"
        assert "trục trặc" not in reply
    finally:
        await hearth.aclose()


async def test_private_chat_owner_and_console_user_are_admins(hearth: Hearth) -> None:
    """A private chat's owner (and the console user) may run every command of their family."""
    out = RecordingOutbox()
    refusals = await _refusals(hearth)
    await hearth.pipeline.handle(msg("Làm canh chua thế nào?", chat="solo", user="solo"), out)
    values = {"answer": str(out.last.answer_id), "entry": "1"}
    for inv in invocations():
        out = RecordingOutbox()
        await hearth.pipeline.handle(msg(inv.text.format(**values), chat="solo", user="solo"), out)
        assert not any(r in out.last.text for r in refusals), inv.text


async def test_admin_of_one_family_has_no_power_in_another(hearth: Hearth) -> None:
    """Admin in their own private chat, plain member in the group: refused there."""
    refusals = await _refusals(hearth)
    out = RecordingOutbox()
    admin = ROLES[1]
    await hearth.pipeline.handle(_in_group("telegram", admin, "/remember Nhà có nồi đất"), out)
    await hearth.pipeline.handle(msg("/remember nhà tôi", chat="out", user="out"), out)
    await hearth.pipeline.handle(_in_group("telegram", ROLES[3], "/forget all"), out)
    assert any(r in out.last.text for r in refusals)
    group = await hearth.services.families.ensure("telegram", GROUP, "group")
    assert [f.text for f in await hearth.services.memory.facts(group.id)] == ["Nhà có nồi đất"]


async def test_feedback_buttons_are_for_family_members_only(hearth: Hearth) -> None:
    """A button press from another chat on this family's answer logs nothing."""
    out = RecordingOutbox()
    await hearth.pipeline.handle(_in_group("telegram", ROLES[0], "Làm canh chua thế nào?"), out)
    answer_id = out.last.answer_id
    toast = await hearth.pipeline.handle_callback(
        CallbackEvent("telegram", "elsewhere", "out", f"fb:save:{answer_id}")
    )
    assert toast
    assert await hearth.services.db.scalar("SELECT count(*) FROM returns") == 0
    toast = await hearth.pipeline.handle_callback(
        CallbackEvent("telegram", GROUP, "mem", f"fb:up:{answer_id}", chat_kind="group")
    )
    assert await hearth.services.db.scalar("SELECT count(*) FROM returns") == 1


async def test_roles_on_the_telegram_adapter_come_from_get_chat_administrators(
    tmp_path: Path,
) -> None:
    """The real Application against the loopback Bot API: every command × every role."""
    import asyncio

    from bot.platforms.telegram import run_telegram
    from tests.servers.telegram_api import TOKEN, running_telegram

    group, admin, member, glob, outsider = -100777, 3001, 3002, 3003, 3004
    with running_telegram() as (fake, base, file_base):
        fake.set_admins(group, [admin])
        settings = make_settings(
            tmp_path,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=base,
            TELEGRAM_API_BASE_FILE_URL=file_base,
            TELEGRAM_RATE_LIMIT="off",
            HEARTH_ADMINS=f"telegram:{glob}",
        )
        hearth = await build(settings)
        stop = asyncio.Event()
        task = asyncio.create_task(run_telegram(hearth, settings, stop, grace_s=5))
        try:
            refusals = await _refusals(hearth)
            await fake.until(lambda: bool(fake.sent("getUpdates")))

            async def say(user: int, text: str) -> str:
                before = len(fake.bot_messages(group))
                fake.push_message(group, text, user_id=user)
                await fake.until(lambda: len(fake.bot_messages(group)) > before)
                await asyncio.sleep(0.05)
                return fake.bot_messages(group)[-1].text

            fake.push_message(outsider, "/start", user_id=outsider)  # admin of their own chat
            await say(admin, "/remember Nhà có nồi đất")
            await say(admin, "/kb add Canh chua | Me, cá, cà chua")
            answer = await say(admin, "@hearth_test_bot canh chua nấu sao?")
            assert answer
            row = await hearth.services.db.fetchone("SELECT max(id) AS id FROM answers")
            assert row is not None
            entry = await hearth.services.db.fetchone("SELECT max(id) AS id FROM entries")
            values = {"answer": str(row["id"]), "entry": str(entry["id"] if entry else 1)}
            # every admin-only invocation for every role, plus the member ones for a member
            admin_only = [inv for inv in invocations() if inv.role == "admin"]
            member_ok = [inv for inv in invocations() if inv.role == "member"]
            table = [(who, inv) for who in (member, outsider, glob, admin) for inv in admin_only]
            table += [(member, inv) for inv in member_ok]
            wrong = []
            for who, inv in table:
                allowed = who in (admin, glob) or inv.role == "member"
                reply = await say(who, inv.text.format(**values))
                if any(r in reply for r in refusals) == allowed:
                    wrong.append((who, inv.text, reply[:120]))
            assert not wrong, wrong
            # the bot's @name in a group changes nothing about who may do what
            refused = await say(member, "/forget@hearth_test_bot all")
            assert any(r in refused for r in refusals), refused
            remembered = await say(admin, "/remember@hearth_test_bot Ông thích trà sen")
            assert "Ông thích trà sen" in remembered
            # a command for another bot is not ours: no reply, nothing changed
            group_family = await hearth.services.families.ensure("telegram", str(group), "group")
            facts = await hearth.services.memory.facts(group_family.id)
            before = len(fake.bot_messages(group))
            fake.push_message(group, "/forget@other_family_bot all", user_id=admin)
            await asyncio.sleep(0.5)
            assert len(fake.bot_messages(group)) == before
            assert await hearth.services.memory.facts(group_family.id) == facts
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            await hearth.aclose()
