"""A family's right to its data: export all of it, or erase it leaving only anonymous counts.

Both discover the family's tables from the schema (every table with a `family_id` column),
so tables added by later migrations are exported and erased without touching this module.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from bot.store.db import Database

EXPORT_FORMAT = "hearth-export/1"
# Derived data that is rebuilt from other rows and means nothing to a person.
NOT_EXPORTED = frozenset({"entry_vectors"})
# Rows kept (anonymously, family_id set to NULL by the foreign key) after an erase.
KEPT_ANONYMOUS = frozenset({"llm_calls"})


async def family_tables(db: Database | aiosqlite.Connection) -> list[str]:
    """Every ordinary table that has a `family_id` column, in schema order."""
    sql = (
        "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p"
        " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND p.name = 'family_id'"
        " AND m.sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY m.rowid"
    )
    if isinstance(db, Database):
        rows = await db.fetchall(sql)
    else:
        async with db.execute(sql) as cur:
            rows = list(await cur.fetchall())
    return [r[0] for r in rows]


def _decode_json(text: str) -> Any:
    """A `*_json` column as data; text that is not JSON is returned as stored."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _plain(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in dict(row).items():
        if isinstance(value, bytes):
            value = base64.b64encode(value).decode("ascii")
        elif key.endswith("_json") and isinstance(value, str):
            value = _decode_json(value)
        out[key] = value
    return out


async def export_family(db: Database, family_id: int) -> dict[str, Any]:
    """Everything stored about one family, as one JSON-ready document."""
    family = await db.fetchone("SELECT * FROM families WHERE id = ?", (family_id,))
    if family is None:
        raise LookupError(f"no family {family_id}")
    doc: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "family": _plain(family),
        "tables": {},
    }
    for table in await family_tables(db):
        if table in NOT_EXPORTED:
            continue
        rows = await db.fetchall(f'SELECT * FROM "{table}" WHERE family_id = ?', (family_id,))
        doc["tables"][table] = [_plain(r) for r in rows]
    entries = await db.fetchall(
        "SELECT ae.* FROM answer_entries ae JOIN answers a ON a.id = ae.answer_id"
        " WHERE a.family_id = ? ORDER BY ae.answer_id, ae.rank",
        (family_id,),
    )
    doc["tables"]["answer_entries"] = [_plain(r) for r in entries]
    return doc


async def family_counts(db: Database, family_id: int) -> dict[str, int]:
    """What an erase would remove, for the confirmation question."""
    counts = {}
    for table in ("messages", "facts", "answers", "returns"):
        counts[table] = int(
            await db.scalar(f"SELECT count(*) FROM {table} WHERE family_id = ?", (family_id,))
        )
    tables = await family_tables(db)
    counts["entries"] = (
        int(await db.scalar("SELECT count(*) FROM entries WHERE family_id = ?", (family_id,)))
        if "entries" in tables
        else 0
    )
    return counts


async def delete_family(db: Database, family_id: int) -> dict[str, int]:
    """Erase every row of the family in one transaction; keep only anonymous counts."""
    counts = await family_counts(db, family_id)
    async with db.transaction() as conn:
        platform = await (
            await conn.execute("SELECT platform FROM families WHERE id = ?", (family_id,))
        ).fetchone()
        if platform is None:
            raise LookupError(f"no family {family_id}")
        await conn.execute("PRAGMA defer_foreign_keys = ON")
        await conn.execute(
            "INSERT INTO deleted_family_stats (platform, messages, answers, returns)"
            " VALUES (?, ?, ?, ?)",
            (platform[0], counts["messages"], counts["answers"], counts["returns"]),
        )
        tables = await family_tables(conn)
        if "entries" in tables:
            await _forget_entries(conn, family_id)
        for table in tables:
            if table not in KEPT_ANONYMOUS:
                await conn.execute(f'DELETE FROM "{table}" WHERE family_id = ?', (family_id,))
        await conn.execute("DELETE FROM families WHERE id = ?", (family_id,))
    return counts


async def _forget_entries(conn: aiosqlite.Connection, family_id: int) -> None:
    """Drop the family's entries from the search index and its name from shared entries."""
    fts = await (
        await conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'entries_fts'")
    ).fetchone()
    if fts is not None:
        await conn.execute(
            "DELETE FROM entries_fts WHERE rowid IN (SELECT id FROM entries WHERE family_id = ?)",
            (family_id,),
        )
    authored = (
        "SELECT id FROM entries WHERE family_id IS NULL AND author_member_id IN"
        " (SELECT id FROM members WHERE family_id = ?)"
    )
    revisions = await (
        await conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'entry_revisions'")
    ).fetchone()
    if revisions is not None:
        await conn.execute(
            "UPDATE entry_revisions SET actor = NULL WHERE family_id IS NULL AND entry_id IN"
            f" ({authored}) AND actor IN (SELECT display_name FROM members WHERE family_id = ?"
            " UNION SELECT author FROM entries WHERE id = entry_revisions.entry_id)",
            (family_id, family_id),
        )
    await conn.execute(
        "UPDATE entries SET author = NULL, author_platform = NULL, author_user_id = NULL,"
        " author_member_id = NULL WHERE family_id IS NULL AND author_member_id IN"
        " (SELECT id FROM members WHERE family_id = ?)",
        (family_id,),
    )
