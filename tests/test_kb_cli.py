"""`hearth kb import|search|export` exactly as the contract names them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import cli
from tests.kb_support import FIXTURES


def run(argv: list[str]) -> int:
    return cli.main(argv)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    assert "bot.cli_kb" in cli.COMMAND_MODULES, "`hearth kb` is not wired into bot/cli.py"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEARTH_DB", str(tmp_path / "data" / "hearth.db"))
    return tmp_path


def test_import_search_export_round_trip(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(["kb", "import", str(FIXTURES / "family_kb.jsonl")]) == 0
    assert "imported 43 entries" in capsys.readouterr().out
    assert run(["kb", "search", "ca", "kho", "to", "--json", "--limit", "3"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["title"] == "Cá kho tộ" and set(hits[0]) == {"id", "title", "score", "snippet"}
    assert len(hits) == 3 and hits[0]["score"] >= hits[1]["score"]
    for fmt in ("json", "jsonl", "md", "csv"):
        assert run(["kb", "export", "--format", fmt]) == 0
        dumped = capsys.readouterr().out
        path = home / f"dump.{fmt}"
        path.write_text(dumped, encoding="utf-8")
        monkeypatch.setenv("HEARTH_DB", str(home / f"empty-{fmt}.db"))
        assert run(["kb", "import", str(path)]) == 0
        capsys.readouterr()
        assert run(["kb", "export", "--format", fmt]) == 0
        assert capsys.readouterr().out == dumped
        monkeypatch.setenv("HEARTH_DB", str(home / "data" / "hearth.db"))


def test_family_import_and_scoped_search(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = home / "secret.md"
    src.write_text("---\ntitle: Món bí mật\ntags: nhà, riêng\n---\nChỉ nhà này biết\n")
    assert run(["kb", "import", str(src), "--family", "telegram:-100"]) == 0
    capsys.readouterr()
    assert run(["kb", "search", "mon bi mat", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert run(["kb", "search", "mon bi mat", "--family", "telegram:-100", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["title"] == "Món bí mật"
    assert run(["kb", "search", "x", "--family", "nobody"]) == 2
    assert "no family" in capsys.readouterr().err


@pytest.mark.parametrize("query", ['"', "*", "NEAR(", "-", 'a" OR "b', "ca AND", "🐟", "'; --"])
def test_any_text_is_a_valid_query(
    home: Path, capsys: pytest.CaptureFixture[str], query: str
) -> None:
    assert run(["kb", "search", query, "--json"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), list)


def test_bad_input_exits_2_and_keeps_valid_rows(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = home / "bad.csv"
    bad.write_text("title,body\nTốt,ok\n,thiếu tiêu đề\n", encoding="utf-8")
    assert run(["kb", "import", str(bad)]) == 2
    captured = capsys.readouterr()
    assert "imported 1 entries" in captured.out and "bad.csv: line 3: missing title" in captured.err
    assert run(["kb", "import", str(home / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    weird = home / "notes.txt"
    weird.write_text("x")
    assert run(["kb", "import", str(weird)]) == 2
    assert "unknown file type" in capsys.readouterr().err
    assert run(["kb", "search", "x", "--limit", "0"]) == 2


def test_item_b_cli_import_never_makes_a_group_private(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hardening B: the kind of a family a CLI import creates comes from the platform."""
    import asyncio
    import sqlite3

    from bot.store.db import Database
    from bot.store.families import FamilyStore, Who

    src = home / "e.md"
    src.write_text("---\ntitle: Món nhà\n---\nCông thức\n", encoding="utf-8")
    for ref in ("telegram:-1001234", "telegram:42", "zalo:g1", "zalo:p1"):
        assert run(["kb", "import", str(src), "--family", ref]) == 0
    capsys.readouterr()
    path = home / "data" / "hearth.db"
    conn = sqlite3.connect(path)
    kinds = dict(conn.execute("SELECT platform || ':' || chat_id, kind FROM families"))
    conn.close()
    assert kinds == {
        "telegram:-1001234": "group",
        "telegram:42": "private",
        "zalo:g1": "group",  # Zalo ids do not tell: nobody is an admin until it writes
        "zalo:p1": "group",
    }

    async def first_messages() -> dict[str, tuple[str, str]]:
        db = await Database.open(path)
        try:
            families = FamilyStore(db)
            seen = {}
            for chat, kind in (("g1", "group"), ("p1", "private")):
                who = Who("zalo", chat, kind, None, "u1", "Ba", chat_admin=False)
                arrival = await families.arrive(who, lambda *_: None)
                seen[chat] = (arrival.family.kind, arrival.member.role)
            # a later message that names no chat type cannot open a group up
            who = Who("zalo", "g1", "private", None, "u2", "Lan", chat_admin=False)
            arrival = await families.arrive(who, lambda *_: None)
            seen["g1-later"] = (arrival.family.kind, arrival.member.role)
            return seen
        finally:
            await db.close()

    assert asyncio.run(first_messages()) == {
        "g1": ("group", "member"),
        "p1": ("private", "admin"),
        "g1-later": ("group", "member"),
    }
