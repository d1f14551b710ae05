"""Import/export: every format round-trips every field; bad records are reported by place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.core.errors import UsageError
from knowledge import formats
from knowledge.rows import Author
from tests.kb_support import open_kb

RICH: list[dict[str, Any]] = [
    {
        "title": "Cá kho tộ",
        "body": "Dòng 1\nDòng 2: có dấu hai chấm\n\n---\nvẫn là thân bài",
        "tags": ["món mặn", "fish"],
        "aliases": ["braised fish"],
        "language": "vi",
        "region": "miền Nam",
        "verbatim": True,
        "author": "Bà nội",
        "author_platform": "telegram",
        "author_user_id": "123",
        "approved_by": "Mẹ",
        "created_at": "2025-01-02T03:04:05.678Z",
        "updated_at": "2025-02-03T04:05:06.789Z",
    },
    {
        "title": '"true"',
        "body": "  tiêu đề trông như JSON  ",
        "tags": [],
        "aliases": [],
        "language": "en",
        "region": None,
        "verbatim": False,
        "author": None,
        "author_platform": None,
        "author_user_id": None,
        "approved_by": None,
        "created_at": "2025-03-01T00:00:00.000Z",
        "updated_at": "2025-03-01T00:00:00.000Z",
    },
    {
        "title": "[not a list]: x",
        "body": 'quotes " and, commas; "csv" cells',
        "tags": ["a b"],
        "aliases": ["x", "y"],
        "language": "vi",
        "region": "Huế",
        "verbatim": False,
        "author": " Ông ",
        "author_platform": None,
        "author_user_id": None,
        "approved_by": None,
        "created_at": "2025-03-02T00:00:00.000Z",
        "updated_at": "2025-03-02T00:00:00.000Z",
    },
]


@pytest.mark.parametrize("fmt", formats.FORMATS)
async def test_export_import_round_trips_every_field(tmp_path: Path, fmt: str) -> None:
    db1, kb1 = await open_kb(tmp_path / "one.db")
    db2, kb2 = await open_kb(tmp_path / "two.db")
    try:
        report = await kb1.import_records(RICH, None)
        assert report.ok and len(report.imported) == 3
        first = await kb1.export(None, fmt)
        again = await kb2.import_file(f"kb.{fmt}", first.encode(), None)
        assert again.ok and len(again.imported) == 3, again.errors
        second = await kb2.export(None, fmt)
        assert second == first
        exported = json.loads(await kb2.export(None, "json"))
        expected = [formats.validate(r) for r in RICH]
        assert exported == [{k: e[k] for k in formats.EXPORT_FIELDS} for e in expected]
        assert exported[2]["author"] == "Ông"  # trimmed on the way in, kept after
    finally:
        await db1.close()
        await db2.close()


async def test_family_export_holds_only_that_family(tmp_path: Path) -> None:
    from bot.store.families import FamilyStore

    db, kb = await open_kb(tmp_path / "kb.db")
    try:
        fam = await FamilyStore(db).ensure("zalo", "abc", "private")
        await kb.add("Chung", "global", family_id=None)
        await kb.add("Riêng", "nhà mình", family_id=fam.id, author=Author("Mẹ", "zalo", "u1"))
        rows = [json.loads(line) for line in (await kb.export(fam.id, "jsonl")).splitlines()]
        assert [r["title"] for r in rows] == ["Riêng"]
        assert rows[0]["author_platform"] == "zalo"
    finally:
        await db.close()


BAD_JSONL = "\n".join(
    [
        json.dumps({"title": "Tốt 1", "body": "ok"}, ensure_ascii=False),
        "{not json",
        json.dumps({"title": "", "body": "no title"}),
        "",
        json.dumps(["a list"]),
        json.dumps({"title": "Tốt 2", "body": "ok", "tags": "a, b", "verbatim": "yes"}),
        json.dumps({"title": "x", "body": "y", "verbatim": "maybe"}),
        json.dumps({"title": "x", "body": "y", "tags": [1, 2]}),
        json.dumps({"title": "x", "body": "y", "language": "Vietnamese!!"}),
        json.dumps({"title": "x", "body": "y", "created_at": "yesterday"}),
    ]
)

BAD_CSV = (
    "title,body,tags,verbatim\n"
    'Tốt 1,ok,"a, b",true\n'
    ",missing title,,\n"
    '"Tốt 2","multi\nline body",,no\n'
    "x,y,,perhaps\n"
    "x,y,,false,EXTRA\n"
)

BAD_JSON = json.dumps(
    [
        {"title": "Tốt 1", "body": "ok"},
        {"body": "no title"},
        "str",
        {"title": "x", "body": "ok", "region": 5},
        {"title": "Tốt 2", "body": "ok", "aliases": ["a"], "verbatim": 1},
    ]
)

BAD_MD = """---
title: Tốt 1
tags: [a, "b"]
verbatim: true
---
Thân bài 1
---
title: Hỏng
verbatim: ["x"
---
body
---
title: Không có thân bài
---
---
title: Tốt 2
---
Thân bài 2
"""


@pytest.mark.parametrize(
    ("name", "data", "good", "bad"),
    [
        (
            "a.jsonl",
            BAD_JSONL,
            ["Tốt 1", "Tốt 2"],
            ["line 2", "line 3", "line 5", "line 7", "line 8", "line 9", "line 10"],
        ),
        ("a.csv", BAD_CSV, ["Tốt 1", "Tốt 2"], ["line 3", "line 6", "line 7"]),
        ("a.json", BAD_JSON, ["Tốt 1", "Tốt 2"], ["index 1", "index 2", "index 3"]),
        ("a.md", BAD_MD, ["Tốt 1", "Tốt 2"], ["line 7", "line 12"]),
    ],
)
async def test_malformed_files_keep_the_good_records(
    tmp_path: Path, name: str, data: str, good: list[str], bad: list[str]
) -> None:
    db, kb = await open_kb(tmp_path / "kb.db")
    try:
        report = await kb.import_file(name, data.encode(), None)
        assert [where for where, _ in report.errors] == bad, report.errors
        got = [json.loads(line)["title"] for line in (await kb.export(None, "jsonl")).splitlines()]
        assert got == good
    finally:
        await db.close()


async def test_whole_file_problems(tmp_path: Path) -> None:
    db, kb = await open_kb(tmp_path / "kb.db")
    try:
        assert (await kb.import_file("a.json", b'{"title": 1}', None)).errors == [
            ("file", "a .json import must be a list of entries")
        ]
        assert (await kb.import_file("a.json", b"[1,", None)).errors[0][0] == "line 1"
        assert (await kb.import_file("a.csv", b"name,text\nx,y\n", None)).errors[0][0] == "line 1"
        assert (await kb.import_file("a.jsonl", b"\xff\xfe", None)).errors[0][0] == "file"
        with pytest.raises(UsageError):
            await kb.import_file("a.txt", b"hello", None)
        one = await kb.import_file("note.md", "# Mẹo rửa cá\nDùng muối và chanh.".encode(), None)
        assert one.ok and len(one.imported) == 1
        dup = await kb.import_file("note.md", "# Mẹo rửa cá\nDùng muối và chanh.".encode(), None)
        assert dup.ok and dup.imported == [] and dup.skipped == 1
    finally:
        await db.close()
