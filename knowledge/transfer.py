"""Bulk import and export of entries, shared by `/kb import|export` and `hearth kb`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.core.errors import UsageError
from knowledge import formats
from knowledge.indexing import json_list
from knowledge.rows import Author, content

if TYPE_CHECKING:
    from knowledge.parts import KBParts

CHUNK = 500


@dataclass(slots=True)
class ImportReport:
    """What an import did: new entry ids, exact duplicates skipped, bad records by place."""

    imported: list[int] = field(default_factory=list)
    skipped: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every record was valid."""
        return not self.errors


async def import_records(
    kb: KBParts,
    records: Sequence[Mapping[str, Any] | tuple[str, Mapping[str, Any]]],
    family_id: int | None,
    author: Author | None = None,
    source: str = "import",
    *,
    keep_authors: bool = True,
) -> ImportReport:
    """Validate and insert records (dicts, or (where, dict) pairs); bad ones are reported.

    `keep_authors=False` (an import sent in chat): every entry credits `author`, the person
    importing; what the file claims about authors is kept only as a quoted `source`.
    """
    report = ImportReport()
    valid: list[dict[str, Any]] = []
    for n, item in enumerate(records):
        where, raw = item if isinstance(item, tuple) else (f"index {n}", item)
        try:
            valid.append(formats.validate(raw))
        except ValueError as exc:
            report.errors.append((where, str(exc)))
    fallback = author or Author()
    for start in range(0, len(valid), CHUNK):
        async with kb.db.transaction() as conn:
            for rec in valid[start : start + CHUNK]:
                async with conn.execute(
                    "SELECT 1 FROM entries WHERE family_id IS ? AND title = ? AND body = ?"
                    " AND status = 'approved'",
                    (family_id, rec["title"], rec["body"]),
                ) as cur:
                    if await cur.fetchone() is not None:
                        report.skipped += 1
                        continue
                fields = content(
                    rec["title"],
                    rec["body"],
                    rec["tags"],
                    rec["aliases"],
                    rec["language"],
                    rec["region"],
                    rec["verbatim"],
                )
                who, approved_by, origin = _credit(rec, fallback, source, keep_authors)
                entry_id = await kb.writer.insert(
                    conn,
                    fields,
                    family_id,
                    who,
                    "approved",
                    origin,
                    approved_by,
                    rec["created_at"],
                    rec["updated_at"],
                    action="add",
                )
                report.imported.append(entry_id)
    await kb.vectors.embed_entries(report.imported, family_id)
    return report


def _credit(
    rec: Mapping[str, Any], fallback: Author, source: str, keep_authors: bool
) -> tuple[Author, str | None, str]:
    """Who an imported record credits, who approved it, and its `source` column."""
    if keep_authors:
        claimed = rec["author"] or rec["author_platform"]
        who = Author(rec["author"], rec["author_platform"], rec["author_user_id"])
        return (who if claimed else fallback), rec["approved_by"], source
    claim = rec["author"] or (
        f"{rec['author_platform']}:{rec['author_user_id']}" if rec["author_platform"] else None
    )
    quoted = f" (file author {json.dumps(claim, ensure_ascii=False)})" if claim else ""
    return fallback, None, source + quoted


async def import_file(
    kb: KBParts,
    filename: str,
    data: bytes | str,
    family_id: int | None,
    author: Author | None = None,
    *,
    keep_authors: bool = True,
) -> ImportReport:
    """Parse a file by its extension and import what is valid (`keep_authors`: see
    import_records)."""
    try:
        parsed = formats.parse(filename, data)
    except ValueError as exc:  # only the file name can be wrong before any record is read
        raise UsageError(
            f"Không đọc được tệp {filename!r}: chỉ nhận tệp .md, .csv, .json hoặc .jsonl.",
            f"Cannot read the file: {exc}",
        ) from exc
    report = await import_records(kb, parsed.records, family_id, author, keep_authors=keep_authors)
    report.errors = sorted(parsed.errors + report.errors, key=lambda e: formats._order(e[0]))
    return report


async def export(kb: KBParts, family_id: int | None, fmt: str = "jsonl") -> str:
    """The approved entries owned by this scope (a family's own, or the global ones)."""
    if fmt not in formats.FORMATS:
        raise UsageError(
            f"Định dạng không hỗ trợ: {fmt}. Dùng: {', '.join(formats.FORMATS)}",
            f"Unsupported format: {fmt}. Use one of: {', '.join(formats.FORMATS)}",
        )
    rows = await kb.db.fetchall(
        "SELECT * FROM entries WHERE family_id IS ? AND status = 'approved' ORDER BY id",
        (family_id,),
    )
    records = []
    for r in rows:
        rec = {k: r[k] for k in formats.EXPORT_FIELDS if k not in formats.LIST_FIELDS}
        rec["tags"], rec["aliases"] = json_list(r["tags"]), json_list(r["aliases"])
        rec["verbatim"] = bool(r["verbatim"])
        records.append(rec)
    return formats.render(records, fmt)
