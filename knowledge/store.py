"""The knowledge base: entries, their revisions, family scopes, suggestions and search.

A family sees global entries (family_id NULL) plus its own. When a family admin changes a
global entry, the family gets its own copy that *shadows* the global one for that family
only (removing it hides it for that family only); global admins change the global entry.
Every state an entry was ever in is kept in `entry_revisions`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.errors import UsageError
from bot.store.db import Database
from knowledge import search as searching
from knowledge import starter, transfer
from knowledge.glossary import GlossaryIndex
from knowledge.indexing import json_list
from knowledge.rows import CONTENT, Author, EntryWriter, content, fields_of, row_to_entry
from knowledge.termstats import TermStats
from knowledge.transfer import ImportReport
from knowledge.types import Entry, SearchHit
from knowledge.vectors import VectorIndex

log = logging.getLogger(__name__)

Embedder = Callable[[list[str]], Awaitable[list[list[float]] | None]]
VISIBLE = "(e.family_id IS NULL OR e.family_id = :fam)"
NOT_SHADOWED = (
    "NOT (e.family_id IS NULL AND :fam IS NOT NULL AND EXISTS (SELECT 1 FROM entries s"
    " WHERE s.shadows = e.id AND s.family_id = :fam))"
)


@dataclass(frozen=True, slots=True)
class Revision:
    """One state of an entry, for `/kb history`."""

    version: int
    action: str
    title: str
    body: str
    status: str
    actor: str | None
    created_at: str
    restores: int | None = None


def _not_found(entry_id: int) -> UsageError:
    return UsageError(f"Không tìm thấy mục #{entry_id}.", f"No entry #{entry_id}.")


class KnowledgeBase:
    """All knowledge reads and writes; every read is scoped to one family (or global)."""

    def __init__(self, db: Database, embedder: Embedder | None = None) -> None:
        self.db = db
        self.vectors = VectorIndex(db, embedder)
        self.stats = TermStats(db)
        self.glossary = GlossaryIndex(db)
        self.writer = EntryWriter(self.vectors, self._indexed)

    def _indexed(self) -> None:
        """An entry's index rows changed here: the caches that read them must look again."""
        self.stats.written()
        self.glossary.written()

    # ---- reads -------------------------------------------------------------------------
    async def search(self, query: str, family_id: int | None, limit: int = 5) -> list[SearchHit]:
        """Ranked entries for any user text; never raises on odd input."""
        return await searching.search(self.db, self.vectors, query, family_id, limit, self.stats)

    async def glossary_for(self, text: str, family_id: int | None, limit: int = 5) -> list[Entry]:
        """Glossary entries (tagged `term`) whose title or alias occurs in the text."""
        return await self.glossary.lookup(text, family_id, limit)

    async def get(self, entry_id: int, family_id: int | None) -> Entry | None:
        """The entry as this family sees it (its own copy of a global entry wins)."""
        row = await self._visible_row(entry_id, family_id)
        return None if row is None else row_to_entry(row)

    async def _visible_row(self, entry_id: int, family_id: int | None) -> Any:
        row = await self.db.fetchone(
            f"SELECT * FROM entries e WHERE e.id = :id AND {VISIBLE}",
            {"id": entry_id, "fam": family_id},
        )
        if row is not None and row["family_id"] is None and family_id is not None:
            shadow = await self.db.fetchone(
                "SELECT * FROM entries WHERE shadows = ? AND family_id = ?", (entry_id, family_id)
            )
            if shadow is not None:
                return shadow
        return row

    async def list_entries(
        self, family_id: int | None, offset: int = 0, limit: int = 10
    ) -> tuple[list[Entry], int]:
        """One page of the approved entries this family sees, newest first, and the total."""
        where = f"e.status = 'approved' AND {VISIBLE} AND {NOT_SHADOWED}"
        total = await self.db.scalar(
            f"SELECT count(*) FROM entries e WHERE {where}", {"fam": family_id}
        )
        rows = await self.db.fetchall(
            f"SELECT * FROM entries e WHERE {where} ORDER BY e.id DESC LIMIT :lim OFFSET :off",
            {"fam": family_id, "lim": limit, "off": max(0, offset)},
        )
        return [row_to_entry(r) for r in rows], int(total or 0)

    async def history(self, entry_id: int, family_id: int | None) -> list[Revision]:
        """Every version of the entry this family sees, oldest first."""
        row = await self._visible_row(entry_id, family_id)
        if row is None:
            raise _not_found(entry_id)
        rows = await self.db.fetchall(
            "SELECT * FROM entry_revisions WHERE entry_id = ? AND"
            " (family_id IS NULL OR family_id = ?) ORDER BY version",
            (row["id"], family_id),
        )
        return [
            Revision(
                r["version"],
                r["action"],
                r["title"],
                r["body"],
                r["status"],
                r["actor"],
                r["created_at"],
                r["restores"],
            )
            for r in rows
        ]

    async def pending(self, family_id: int | None) -> list[Entry]:
        """Suggestions waiting for an admin of this family."""
        rows = await self.db.fetchall(
            "SELECT * FROM entries WHERE status = 'pending' AND family_id IS ? ORDER BY id",
            (family_id,),
        )
        return [row_to_entry(r) for r in rows]

    async def contributors_of(self, entry_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Authorship columns of entries, for crediting returns."""
        if not entry_ids:
            return {}
        marks = ",".join("?" * len(entry_ids))
        rows = await self.db.fetchall(
            "SELECT id, author, author_platform, author_user_id, author_member_id, approved_by"
            f" FROM entries WHERE id IN ({marks})",
            list(entry_ids),
        )
        return {r["id"]: dict(r) for r in rows}

    # ---- bulk --------------------------------------------------------------------------
    async def import_records(
        self,
        records: Sequence[Mapping[str, Any] | tuple[str, Mapping[str, Any]]],
        family_id: int | None,
        author: Author | None = None,
    ) -> ImportReport:
        """Insert valid records; each invalid one is reported with its place."""
        return await transfer.import_records(self, records, family_id, author)

    async def import_file(
        self,
        filename: str,
        data: bytes | str,
        family_id: int | None,
        author: Author | None = None,
    ) -> ImportReport:
        """Import a .md/.csv/.json/.jsonl file's content."""
        return await transfer.import_file(self, filename, data, family_id, author)

    async def export(self, family_id: int | None, fmt: str = "jsonl") -> str:
        """This scope's approved entries as json, jsonl, md or csv."""
        return await transfer.export(self, family_id, fmt)

    async def load_starter_pack(self, path: Path | None = None) -> int:
        """Load the shipped starter pack as global entries, once per database."""
        return await starter.load_starter_pack(self, path)

    async def backfill_vectors(self, limit: int = 256) -> int:
        """Embed entries written while the embeddings endpoint was unavailable."""
        return await self.vectors.backfill(limit)

    # ---- writes ------------------------------------------------------------------------
    async def add(
        self,
        title: str,
        body: str,
        *,
        family_id: int | None,
        tags: Sequence[str] | str = (),
        aliases: Sequence[str] | str = (),
        language: str = "vi",
        region: str | None = None,
        verbatim: bool = False,
        author: Author | None = None,
        status: str = "approved",
        source: str = "chat",
        approved_by: str | None = None,
        created_at: str | None = None,
        updated_at: str | None = None,
    ) -> Entry:
        """Create an entry (and its first revision) and index it in the same transaction."""
        fields = content(title, body, tags, aliases, language, region, verbatim)
        async with self.db.transaction() as conn:
            entry_id = await self.writer.insert(
                conn,
                fields,
                family_id,
                author or Author(),
                status,
                source,
                approved_by,
                created_at,
                updated_at,
                action="suggest" if status == "pending" else "add",
            )
        await self.vectors.embed_entries([entry_id])
        entry = await self.get(entry_id, family_id)
        assert entry is not None
        return entry

    async def suggest(
        self,
        title: str,
        body: str,
        *,
        family_id: int,
        author: Author,
        tags: Sequence[str] | str = (),
        language: str = "vi",
    ) -> Entry:
        """Any member's proposal: stored as pending until an admin approves it."""
        return await self.add(
            title,
            body,
            family_id=family_id,
            tags=tags,
            language=language,
            author=author,
            status="pending",
            source="suggestion",
        )

    async def edit(
        self,
        entry_id: int,
        family_id: int | None,
        *,
        actor: str | None = None,
        global_admin: bool = False,
        **changes: Any,
    ) -> Entry:
        """Change some fields; the old state stays in the history."""
        unknown = set(changes) - set(CONTENT)
        if unknown:
            raise ValueError(f"cannot edit {sorted(unknown)}")
        async with self.db.transaction() as conn:
            row = await self._writable(conn, entry_id, family_id, actor, global_admin)
            merged = {k: row[k] for k in CONTENT}
            merged["tags"], merged["aliases"] = json_list(row["tags"]), json_list(row["aliases"])
            merged.update({k: v for k, v in changes.items() if v is not None})
            fields = content(**merged)
            await self.writer.update(conn, row, fields, row["status"], "edit", actor)
            target = row["id"]
        await self.vectors.embed_entries([target])
        return await self._must_get(target, family_id)

    async def remove(
        self,
        entry_id: int,
        family_id: int | None,
        *,
        actor: str | None = None,
        global_admin: bool = False,
    ) -> Entry:
        """Hide an entry (reversible with undo); a family removing a global hides its copy."""
        async with self.db.transaction() as conn:
            row = await self._writable(conn, entry_id, family_id, actor, global_admin)
            if row["status"] == "removed":
                raise UsageError(
                    f"Mục #{entry_id} đã bị xoá rồi.", f"Entry #{entry_id} is already removed."
                )
            await self.writer.update(conn, row, fields_of(row), "removed", "remove", actor)
            target = row["id"]
        return await self._must_get(target, family_id)

    async def undo(
        self,
        entry_id: int,
        family_id: int | None,
        *,
        actor: str | None = None,
        global_admin: bool = False,
    ) -> Entry:
        """Restore the state before the last change (repeat to go further back)."""
        async with self.db.transaction() as conn:
            row = await self._writable(conn, entry_id, family_id, actor, global_admin, fork=False)
            async with conn.execute(
                "SELECT action, restores FROM entry_revisions WHERE entry_id = ? AND version = ?",
                (row["id"], row["version"]),
            ) as cur:
                last = await cur.fetchone()
            back_to = (
                last["restores"] if last and last["action"] == "undo" else row["version"]
            ) - 1
            if back_to < 1:
                raise UsageError(
                    f"Mục #{entry_id} chưa có thay đổi nào để hoàn tác.",
                    f"Entry #{entry_id} has no earlier version to restore.",
                )
            async with conn.execute(
                "SELECT * FROM entry_revisions WHERE entry_id = ? AND version = ?",
                (row["id"], back_to),
            ) as cur:
                old = await cur.fetchone()
            assert old is not None
            fields = fields_of(old)
            await self.writer.update(
                conn, row, fields, old["status"], "undo", actor, restores=back_to
            )
            target = row["id"]
        await self.vectors.embed_entries([target])
        return await self._must_get(target, family_id)

    async def approve(self, entry_id: int, family_id: int | None, *, approver: str) -> Entry:
        """Publish a suggestion; the suggester stays its author, the approver is recorded."""
        return await self._decide(entry_id, family_id, approver, "approved")

    async def reject(self, entry_id: int, family_id: int | None, *, approver: str) -> Entry:
        """Turn a suggestion down (kept in the history, never shown in search)."""
        return await self._decide(entry_id, family_id, approver, "rejected")

    async def _decide(
        self, entry_id: int, family_id: int | None, approver: str, status: str
    ) -> Entry:
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT * FROM entries WHERE id = ? AND family_id IS ? AND status = 'pending'",
                (entry_id, family_id),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                raise UsageError(
                    f"Không có đề xuất #{entry_id} đang chờ duyệt.",
                    f"No pending suggestion #{entry_id}.",
                )
            if status == "approved":
                await conn.execute(
                    "UPDATE entries SET approved_by = ? WHERE id = ? AND family_id IS ?",
                    (approver, entry_id, family_id),
                )
            action = "approve" if status == "approved" else "reject"
            await self.writer.update(conn, row, fields_of(row), status, action, approver)
        await self.vectors.embed_entries([entry_id])
        return await self._must_get(entry_id, family_id)

    # ---- internals ---------------------------------------------------------------------
    async def _must_get(self, entry_id: int, family_id: int | None) -> Entry:
        row = await self.db.fetchone(
            f"SELECT * FROM entries e WHERE e.id = :id AND {VISIBLE}",
            {"id": entry_id, "fam": family_id},
        )
        if row is None:
            raise _not_found(entry_id)
        return row_to_entry(row)

    async def _writable(
        self,
        conn: aiosqlite.Connection,
        entry_id: int,
        family_id: int | None,
        actor: str | None,
        global_admin: bool,
        fork: bool = True,
    ) -> Any:
        """The row a write should change: a family's own entry, its copy of a global, or a
        new copy (`fork`) unless the writer is a global admin. Without `fork` (undo) a
        global entry is refused: rolling it back would change it for every family."""
        async with conn.execute(
            f"SELECT * FROM entries e WHERE e.id = :id AND {VISIBLE}",
            {"id": entry_id, "fam": family_id},
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise _not_found(entry_id)
        if row["family_id"] is not None or family_id is None or global_admin:
            return row
        async with conn.execute(
            "SELECT * FROM entries WHERE shadows = ? AND family_id = ?", (entry_id, family_id)
        ) as cur:
            shadow = await cur.fetchone()
        if shadow is not None:
            return shadow
        if not fork:
            raise UsageError(
                f"Mục #{entry_id} là mục chung của mọi gia đình; chỉ quản trị viên chung mới "
                f"hoàn tác được. Nhà mình chưa có bản riêng của mục này để hoàn tác.",
                f"Entry #{entry_id} is shared by every family; only a global admin can undo "
                f"it. Your family has no copy of its own to undo.",
            )
        author = Author(row["author"], row["author_platform"], row["author_user_id"], None)
        new_id = await self.writer.insert(
            conn,
            fields_of(row),
            family_id,
            author,
            row["status"],
            row["source"],
            row["approved_by"],
            row["created_at"],
            None,
            action="fork",
            shadows=entry_id,
            actor=actor,
        )
        async with conn.execute("SELECT * FROM entries WHERE id = ?", (new_id,)) as cur:
            return await cur.fetchone()
