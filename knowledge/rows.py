"""Low-level entry writes: validation, INSERT/UPDATE, the revision row and the index update.

Every function runs inside the caller's transaction, so an entry, its revision and its
index rows change together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from bot.core.errors import UsageError
from knowledge.indexing import json_list, reindex
from knowledge.types import Entry
from knowledge.vectors import VectorIndex

CONTENT = ("title", "body", "tags", "aliases", "language", "region", "verbatim")


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote or changed an entry, as the usage report credits them."""

    name: str | None = None
    platform: str | None = None
    user_id: str | None = None
    member_id: int | None = None


def now_iso() -> str:
    """The same timestamp format as the schema's defaults."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def clean_list(values: Sequence[str] | str | None) -> list[str]:
    """Tags/aliases as a list of trimmed, comma-free, non-empty, unique strings."""
    if values is None:
        return []
    items = (
        values.split(",")
        if isinstance(values, str)
        else [p for v in values for p in str(v).split(",")]
    )
    return list(dict.fromkeys(s.strip() for s in items if s.strip()))


def row_to_entry(row: Any) -> Entry:
    """An `entries` row as the shared Entry value."""
    return Entry(
        id=row["id"],
        title=row["title"],
        body=row["body"],
        tags=tuple(json_list(row["tags"])),
        language=row["language"],
        region=row["region"],
        family_id=row["family_id"],
        verbatim=bool(row["verbatim"]),
        author=row["author"],
        status=row["status"],
        aliases=tuple(json_list(row["aliases"])),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def content(
    title: str,
    body: str,
    tags: Sequence[str] | str,
    aliases: Sequence[str] | str,
    language: str,
    region: str | None,
    verbatim: bool,
) -> dict[str, Any]:
    """Validated, trimmed content columns ready for INSERT/UPDATE."""
    title, body = (title or "").strip(), (body or "").strip()
    if not title or not body:
        raise UsageError("Cần cả tiêu đề và nội dung.", "An entry needs a title and a body.")
    if len(title) > 200:
        raise UsageError(
            "Tiêu đề dài quá (tối đa 200 ký tự).", "Title too long (200 characters max)."
        )
    if len(body) > 20000:
        raise UsageError(
            "Nội dung dài quá (tối đa 20000 ký tự).", "Body too long (20000 characters max)."
        )
    return {
        "title": title,
        "body": body,
        "tags": json.dumps(clean_list(tags), ensure_ascii=False),
        "aliases": json.dumps(clean_list(aliases), ensure_ascii=False),
        "language": (language or "vi").strip().lower(),
        "region": (region or "").strip() or None,
        "verbatim": 1 if verbatim else 0,
    }


def fields_of(row: Any) -> dict[str, Any]:
    """The content columns of an entry or revision row."""
    return {k: row[k] for k in CONTENT}


class EntryWriter:
    """Writes entry rows, revisions and index rows; remembers known syllables."""

    def __init__(self, vectors: VectorIndex, on_index: Callable[[], None] | None = None) -> None:
        self.vectors = vectors
        self.on_index = on_index
        self.known_terms: set[str] = set()

    async def insert(
        self,
        conn: aiosqlite.Connection,
        f: dict[str, Any],
        family_id: int | None,
        author: Author,
        status: str,
        source: str,
        approved_by: str | None,
        created_at: str | None,
        updated_at: str | None,
        *,
        action: str,
        shadows: int | None = None,
        actor: str | None = None,
    ) -> int:
        """Insert an entry, its first revision and its index rows; returns the id."""
        stamp = now_iso()
        cur = await conn.execute(
            "INSERT INTO entries (family_id, title, body, tags, aliases, language, region,"
            " verbatim, status, author, author_platform, author_user_id, author_member_id,"
            " approved_by, source, shadows, version, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?)",
            (
                family_id,
                f["title"],
                f["body"],
                f["tags"],
                f["aliases"],
                f["language"],
                f["region"],
                f["verbatim"],
                status,
                author.name,
                author.platform,
                author.user_id,
                author.member_id,
                approved_by,
                source,
                shadows,
                created_at or stamp,
                updated_at or created_at or stamp,
            ),
        )
        entry_id = int(cur.lastrowid or 0)
        await self.revision(conn, entry_id, family_id, 1, action, f, status, actor or author.name)
        await self.reindex_entry(conn, entry_id)
        return entry_id

    async def update(
        self,
        conn: aiosqlite.Connection,
        row: Any,
        f: dict[str, Any],
        status: str,
        action: str,
        actor: str | None,
        restores: int | None = None,
    ) -> None:
        """Write a new state of an entry as the next version, with its revision."""
        version = row["version"] + 1
        await conn.execute(
            "UPDATE entries SET title = ?, body = ?, tags = ?, aliases = ?, language = ?,"
            " region = ?, verbatim = ?, status = ?, version = ?, updated_at = ?"
            " WHERE id = ? AND family_id IS ?",
            (
                f["title"],
                f["body"],
                f["tags"],
                f["aliases"],
                f["language"],
                f["region"],
                f["verbatim"],
                status,
                version,
                now_iso(),
                row["id"],
                row["family_id"],
            ),
        )
        await self.revision(
            conn, row["id"], row["family_id"], version, action, f, status, actor, restores
        )
        await self.reindex_entry(conn, row["id"])

    @staticmethod
    async def revision(
        conn: aiosqlite.Connection,
        entry_id: int,
        family_id: int | None,
        version: int,
        action: str,
        f: dict[str, Any],
        status: str,
        actor: str | None,
        restores: int | None = None,
    ) -> None:
        """Keep a full copy of this state: nothing a curator typed is ever lost."""
        await conn.execute(
            "INSERT INTO entry_revisions (entry_id, family_id, version, action, restores, title,"
            " body, tags, aliases, language, region, verbatim, status, actor)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                entry_id,
                family_id,
                version,
                action,
                restores,
                f["title"],
                f["body"],
                f["tags"],
                f["aliases"],
                f["language"],
                f["region"],
                f["verbatim"],
                status,
                actor,
            ),
        )

    async def reindex_entry(self, conn: aiosqlite.Connection, entry_id: int) -> None:
        """Bring the FTS row (and vector) of one entry in line with its status."""
        async with conn.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)) as cur:
            row = await cur.fetchone()
        assert row is not None
        await reindex(conn, row, self.known_terms)
        if self.on_index is not None:
            self.on_index()
        if row["status"] != "approved":
            await self.vectors.forget(conn, entry_id)
