"""Bulk import and export of entries, shared by `/kb import|export` and `hearth kb`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.core.errors import UsageError
from knowledge import formats
from knowledge.indexing import json_list
from knowledge.rows import Author, content

if TYPE_CHECKING:
    from knowledge.parts import KBParts

# An import writes in transactions of at most this long, so the other families' messages
# (each a few short writes) wait for one slice, not for the whole file.
SLICE_S = 0.02
Progress = Callable[[int, int], None]  # (records done, records to do)


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """Caps on one import and on a family's knowledge base (HEARTH_IMPORT_*, HEARTH_FAMILY_*)."""

    max_bytes: int | None = None
    max_rows: int | None = None
    max_entry_chars: int = formats.MAX_BODY_CHARS
    family_max_entries: int | None = None

    @classmethod
    def of(cls, settings: Any) -> ImportLimits:
        """The limits configured in Settings."""
        return cls(
            settings.import_max_bytes,
            settings.import_max_rows,
            settings.import_max_entry_chars,
            settings.family_max_entries,
        )


@dataclass(slots=True)
class ImportReport:
    """What an import did: new entry ids, exact duplicates skipped, bad records by place;
    `found` records in the file, `unread` past the row cap, `over_family_cap` valid ones
    the family's cap left out."""

    imported: list[int] = field(default_factory=list)
    skipped: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    found: int = 0
    unread: int = 0
    over_family_cap: int = 0
    limits: ImportLimits = field(default_factory=ImportLimits)

    @property
    def ok(self) -> bool:
        """True when every record was valid and nothing was left out by a cap."""
        return not self.errors and not self.capped

    @property
    def capped(self) -> bool:
        """True when a cap left records out."""
        return bool(self.unread or self.over_family_cap)


async def import_records(
    kb: KBParts,
    records: Sequence[Mapping[str, Any] | tuple[str, Mapping[str, Any]]],
    family_id: int | None,
    author: Author | None = None,
    source: str = "import",
    *,
    keep_authors: bool = True,
    limits: ImportLimits | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate and insert records (dicts, or (where, dict) pairs); bad ones are reported.

    `keep_authors=False` (an import sent in chat): every entry credits `author`, the person
    importing; what the file claims about authors is kept only as a quoted `source`.
    A family's cap (`limits`) leaves out what does not fit; the writes go in short slices
    (SLICE_S) so other families are answered meanwhile; `progress` hears after each one.
    """
    limits = limits or ImportLimits()
    report = ImportReport(found=len(records), limits=limits)
    valid: list[dict[str, Any]] = []
    for n, item in enumerate(records):
        where, raw = item if isinstance(item, tuple) else (f"index {n}", item)
        try:
            valid.append(formats.validate(raw, limits.max_entry_chars))
        except ValueError as exc:
            report.errors.append((where, str(exc)))
    room = await _room(kb, family_id, limits)
    fallback = author or Author()
    loop = asyncio.get_running_loop()
    done = 0
    while done < len(valid):
        async with kb.db.transaction() as conn:
            started = loop.time()
            while done < len(valid) and loop.time() - started < SLICE_S:
                if room is not None and len(report.imported) >= room:
                    report.over_family_cap = len(valid) - done
                    done = len(valid)
                    break
                await _insert(
                    kb, conn, valid[done], family_id, report, fallback, source, keep_authors
                )
                done += 1
        if progress is not None:
            progress(done, len(valid))
        await asyncio.sleep(0)  # the writers that queued meanwhile go before the next slice
    await kb.vectors.embed_entries(report.imported, family_id)
    return report


async def _room(kb: KBParts, family_id: int | None, limits: ImportLimits) -> int | None:
    """How many more entries the family may hold (None: no cap, as for global entries)."""
    if family_id is None or limits.family_max_entries is None:
        return None
    held = await kb.db.scalar(
        "SELECT count(*) FROM entries WHERE family_id = ? AND status IN ('approved', 'pending')",
        (family_id,),
    )
    return max(0, limits.family_max_entries - int(held or 0))


async def _insert(
    kb: KBParts,
    conn: Any,
    rec: dict[str, Any],
    family_id: int | None,
    report: ImportReport,
    fallback: Author,
    source: str,
    keep_authors: bool,
) -> None:
    """One record inside the slice's transaction (an exact duplicate is skipped)."""
    async with conn.execute(
        "SELECT 1 FROM entries WHERE family_id IS ? AND title = ? AND body = ?"
        " AND status = 'approved'",
        (family_id, rec["title"], rec["body"]),
    ) as cur:
        if await cur.fetchone() is not None:
            report.skipped += 1
            return
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
    limits: ImportLimits | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Parse a file by its extension (off the event loop) and import what is valid and
    within `limits` (`keep_authors`, `progress`: see import_records)."""
    limits = limits or ImportLimits()
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if limits.max_bytes is not None and size > limits.max_bytes:
        raise UsageError(
            f"Tệp lớn quá ({size} byte; tối đa {limits.max_bytes} byte).",
            f"The file is too large ({size} bytes; {limits.max_bytes} bytes at most,"
            " HEARTH_IMPORT_MAX_BYTES).",
        )
    try:
        formats.detect_format(filename)
    except ValueError as exc:  # only the file name can be wrong before any record is read
        raise UsageError(
            f"Không đọc được tệp {filename!r}: chỉ nhận tệp .md, .csv, .json hoặc .jsonl.",
            f"Cannot read the file: {exc}",
        ) from exc
    parsed = await asyncio.to_thread(
        partial(
            formats.parse,
            filename,
            data,
            max_records=limits.max_rows,
            max_body=limits.max_entry_chars,
        )
    )
    report = await import_records(
        kb,
        parsed.records,
        family_id,
        author,
        keep_authors=keep_authors,
        limits=limits,
        progress=progress,
    )
    report.errors = sorted(parsed.errors + report.errors, key=lambda e: formats._order(e[0]))
    report.found, report.unread = parsed.found, parsed.unread
    return report


async def export(kb: KBParts, family_id: int | None, fmt: str = "jsonl") -> str:
    """The approved entries owned by this scope (a family's own, or the global ones)."""
    return (await export_counted(kb, family_id, fmt))[0]


async def export_counted(kb: KBParts, family_id: int | None, fmt: str = "jsonl") -> tuple[str, int]:
    """`export`, and how many entries it holds (for saying what was written where)."""
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
    return formats.render(records, fmt), len(records)
