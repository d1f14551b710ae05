"""Keep the search index in step with `entries`, inside the caller's write transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import aiosqlite

from knowledge.normalize import accented, bigrams, deletions, syllables, unique

GLOBAL_SCOPE = "zglobal"
TEXT_FIELDS = ("head", "tags", "body", "head2", "body2", "exact")
# a global entry's text sits in TEXT_FIELDS, a family entry's in FAMILY_FIELDS (same order):
# a column filter keeps a search inside its scope, and filters cost FTS5 nothing (0004)
FAMILY_FIELDS = tuple("f" + f for f in TEXT_FIELDS)
FTS_COLUMNS = (*TEXT_FIELDS, *FAMILY_FIELDS, "scope")
# FTS5 adds one segment per write transaction and merges them only in fours per level: a
# 100k-entry index built by imports had 22 segments, and every query term pays a seek in
# each (an unranked AND 0.3 -> 0.05 ms, a ranked query 2.5 -> 0.45 ms with one segment).
SEGMENT_MAX = 4  # more than this, and the next check runs a merge step
CHECK_EVERY = 4  # entry ids: the check is one small read; imports index thousands of entries
MERGE_PAGES = 2000  # pages one merge step may write (8 MB); usermerge = 2 (0005)
STRUCTURE_ROWID = 10  # FTS5's own record of its segments, in entries_fts_data
_STRUCTURE_V2 = b"\xff\x00\x00\x01"


def scope_token(family_id: int | None) -> str:
    """The one token that says who may see an indexed entry."""
    return GLOBAL_SCOPE if family_id is None else f"zf{int(family_id)}"


def json_list(raw: str | None) -> list[str]:
    """Decode a JSON list column (tags, aliases)."""
    if not raw:
        return []
    value = json.loads(raw)
    return [str(v) for v in value] if isinstance(value, list) else []


def index_columns(row: Any) -> dict[str, str]:
    """The normalised FTS text for one entry row, by field (`head`, `tags`, … `scope`)."""
    aliases = json_list(row["aliases"])
    tags = json_list(row["tags"])
    head_parts = [row["title"], *aliases]
    head_tokens = [syllables(p) for p in head_parts]
    body_tokens = syllables(row["body"])
    tag_tokens = [syllables(t) for t in tags]
    exact = unique(accented(" ".join([*head_parts, *tags, row["body"]])))
    return {
        "head": " ".join(" ".join(t) for t in head_tokens),
        "tags": " ".join(" ".join(t) for t in tag_tokens),
        "body": " ".join(body_tokens),
        # bigrams never cross a part boundary: "title | alias" is not a phrase
        "head2": " ".join(" ".join(bigrams(t)) for t in [*head_tokens, *tag_tokens]),
        "body2": " ".join(bigrams(body_tokens)),
        "exact": " ".join(exact),
        "scope": scope_token(row["family_id"]),
    }


async def reindex(conn: aiosqlite.Connection, row: Any, known: set[str]) -> None:
    """Drop the entry from the index and add it back if it is approved (same transaction)."""
    entry_id = row["id"]
    await conn.execute("DELETE FROM entries_fts WHERE rowid = ?", (entry_id,))
    if entry_id % CHECK_EVERY == 0:
        await keep_compact(conn)
    if row["status"] != "approved":
        return
    cols = index_columns(row)
    mine = TEXT_FIELDS if row["family_id"] is None else FAMILY_FIELDS
    values = {c: cols[f] for c, f in zip(mine, TEXT_FIELDS, strict=True)}
    values["scope"] = cols["scope"]
    await conn.execute(
        f"INSERT INTO entries_fts (rowid, {', '.join(FTS_COLUMNS)})"
        f" VALUES (?{', ?' * len(FTS_COLUMNS)})",
        (entry_id, *(values.get(c, "") for c in FTS_COLUMNS)),
    )
    terms = unique(" ".join((cols["head"], cols["tags"], cols["body"])).split())
    await add_terms(conn, terms, known)


async def add_terms(conn: aiosqlite.Connection, terms: Iterable[str], known: set[str]) -> None:
    """Record new syllables and their one-letter deletions for typo-tolerant queries."""
    fresh = [t for t in terms if t not in known and 2 <= len(t) <= 24]
    if not fresh:
        return
    marks = ",".join("?" * len(fresh))
    async with conn.execute(f"SELECT term FROM kb_terms WHERE term IN ({marks})", fresh) as cur:
        existing = {r[0] for r in await cur.fetchall()}
    new = [t for t in fresh if t not in existing]
    known.update(fresh)
    if not new:
        return
    await conn.executemany("INSERT OR IGNORE INTO kb_terms (term) VALUES (?)", [(t,) for t in new])
    variants = [(v, t) for t in new for v in ({t} | deletions(t))]
    await conn.executemany(
        "INSERT OR IGNORE INTO kb_term_variants (variant, term) VALUES (?, ?)", variants
    )


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    """SQLite's big-endian varint at `i`: (value, the offset after it)."""
    value = 0
    for n in range(9):
        b = buf[i + n]
        if n == 8:
            return (value << 8) | b, i + 9
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, i + n + 1
    raise AssertionError("unreachable")


def segment_count(structure: bytes) -> int:
    """How many segments an FTS5 structure record lists (cookie, [v2 tag], levels, segments)."""
    i = 8 if structure[4:8] == _STRUCTURE_V2 else 4
    _levels, i = _varint(structure, i)
    return _varint(structure, i)[0]


async def keep_compact(conn: aiosqlite.Connection) -> None:
    """A merge step once the index has more than SEGMENT_MAX segments: search pays for each
    one. With usermerge = 2 (0005) a step pairs up segments of the same level, so a few new
    entries are merged with each other, not with the whole index (60 single adds at 100k:
    0.13 s with the steps, 9 s when each step was a full 'optimize')."""
    async with conn.execute(
        "SELECT block FROM entries_fts_data WHERE id = ?", (STRUCTURE_ROWID,)
    ) as cur:
        row = await cur.fetchone()
    if row is not None and segment_count(bytes(row[0])) > SEGMENT_MAX:
        await conn.execute(
            "INSERT INTO entries_fts (entries_fts, rank) VALUES ('merge', ?)", (MERGE_PAGES,)
        )
