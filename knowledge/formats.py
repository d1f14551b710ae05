"""Knowledge import/export formats: .md with front matter, .csv, .json (a list), .jsonl.

Parsing never stops at a bad record: each one becomes an error with its line (or list
index) and the rest are kept. Export writes every field import reads, so export → import
into an empty database gives the same entries back.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core import bounded_json

EXPORT_FIELDS = (
    "title",
    "body",
    "tags",
    "aliases",
    "language",
    "region",
    "verbatim",
    "author",
    "author_platform",
    "author_user_id",
    "approved_by",
    "created_at",
    "updated_at",
)
LIST_FIELDS = ("tags", "aliases")
TEXT_FIELDS = ("region", "author", "author_platform", "author_user_id", "approved_by")
TIME_FIELDS = ("created_at", "updated_at")
FORMATS = ("json", "jsonl", "md", "csv")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
TRUE = {"true", "yes", "1", "y", "co", "có"}
FALSE = {"false", "no", "0", "n", "", "khong", "không"}
MAX_BODY_CHARS = 20_000  # what the knowledge base stores at most
UNCLOSED_QUOTE = "bad CSV: a quote opened on this line is never closed; nothing was imported"
# an entry is a flat object; deeper than this is not an entry (and must not recurse)
MAX_DEPTH = 64
TOO_DEEP = "nested too deeply"
FM_KEY_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:\s?(.*)$")


@dataclass(slots=True)
class Parsed:
    """Records found in a file, each with where it came from, plus the ones that failed;
    `found` counts every record in the file, `unread` those past the row cap."""

    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    found: int = 0
    unread: int = 0


def _as_list(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [p.strip() for v in value for p in v.split(",") if p.strip()]
    raise ValueError(f"{name} must be a list of strings or a comma-separated string")


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise ValueError("verbatim must be true or false")


def validate(raw: Any, max_body: int = MAX_BODY_CHARS) -> dict[str, Any]:
    """One record as KnowledgeBase.add wants it (a body of at most `max_body` characters);
    ValueError says what is wrong."""
    if not isinstance(raw, Mapping):
        raise ValueError("not an object with title and body")
    out: dict[str, Any] = {}
    for key in ("title", "body"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"missing {key}")
        out[key] = value.strip()
    if len(out["title"]) > 200:
        raise ValueError("title longer than 200 characters")
    if len(out["body"]) > max_body:
        raise ValueError(f"body longer than {max_body} characters")
    for key in LIST_FIELDS:
        out[key] = _as_list(key, raw.get(key))
    language = raw.get("language") or "vi"
    if not isinstance(language, str) or not LANG_RE.match(language.strip().lower()):
        raise ValueError(f"language {language!r} is not a language code like vi or en")
    out["language"] = language.strip().lower()
    out["verbatim"] = _as_bool(raw.get("verbatim", False))
    for key in TEXT_FIELDS:
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{key} must be text")
        out[key] = value.strip() if isinstance(value, str) and value.strip() else None
    for key in TIME_FIELDS:
        value = raw.get(key)
        if value in (None, ""):
            out[key] = None
            continue
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"{key} {value!r} is not an ISO timestamp") from exc
        out[key] = str(value)
    return out


def detect_format(filename: str) -> str:
    """The format from a file name's extension."""
    lower = filename.lower()
    for fmt, ext in (
        ("jsonl", ".jsonl"),
        ("json", ".json"),
        ("md", ".md"),
        ("md", ".markdown"),
        ("csv", ".csv"),
    ):
        if lower.endswith(ext):
            return fmt
    raise ValueError(f"unknown file type {filename!r}: use .md, .csv, .json or .jsonl")


def parse(
    filename: str,
    data: bytes | str,
    *,
    max_records: int | None = None,
    max_body: int = MAX_BODY_CHARS,
) -> Parsed:
    """Read any supported file; every bad record is reported with its line or index. Only
    the first `max_records` records are validated and kept (the rest count as `unread`)."""
    fmt = detect_format(filename)
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return Parsed(errors=[("file", f"not UTF-8 text ({exc.reason} at byte {exc.start})")])
    else:
        text = data
    parsed = {"json": _parse_json, "jsonl": _parse_jsonl, "md": _parse_md, "csv": _parse_csv}[fmt](
        text
    )
    found = len(parsed.records)
    read = parsed.records if max_records is None else parsed.records[:max_records]
    good = Parsed(errors=list(parsed.errors), found=found, unread=found - len(read))
    for where, raw in read:
        try:
            good.records.append((where, validate(raw, max_body)))
        except ValueError as exc:
            good.errors.append((where, str(exc)))
    good.errors.sort(key=lambda e: _order(e[0]))
    return good


def _order(where: str) -> tuple[int, str]:
    digits = re.findall(r"\d+", where)
    return (int(digits[0]) if digits else -1, where)


def _parse_json(text: str) -> Parsed:
    try:
        value = bounded_json.loads_large(text, MAX_DEPTH)
    except json.JSONDecodeError as exc:
        return Parsed(errors=[(f"line {exc.lineno}", f"invalid JSON: {exc.msg}")])
    if not isinstance(value, list):
        return Parsed(errors=[("file", "a .json import must be a list of entries")])
    out = Parsed()
    for i, item in enumerate(value):
        _keep(out, f"index {i}", item)
    return out


def _parse_jsonl(text: str) -> Parsed:
    out = Parsed()
    for no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            _keep(out, f"line {no}", bounded_json.loads_large(line, MAX_DEPTH))
        except json.JSONDecodeError as exc:
            out.errors.append((f"line {no}", f"invalid JSON: {exc.msg}"))
    return out


def _keep(out: Parsed, where: str, item: Any) -> None:
    """A parsed record, or an error when part of it was nested too deeply to read."""
    if bounded_json.was_cut(item):
        out.errors.append((where, TOO_DEEP))
    else:
        out.records.append((where, item))


def _parse_csv(text: str) -> Parsed:
    """Rows of a CSV file; a structural error (a quote never closed) rejects the whole file,
    since every row after it is read wrongly: nothing is half-imported."""
    out = Parsed()
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    line = 0
    try:
        header = reader.fieldnames or []
        if "title" not in header or "body" not in header:
            return Parsed(errors=[("line 1", "the header row must name at least title and body")])
        line = reader.line_num
        for row in reader:
            where = f"line {line + 1}"
            line = reader.line_num
            if None in row:
                out.errors.append((where, "more cells than header columns"))
                continue
            record: dict[str, Any] = {k: v for k, v in row.items() if k}
            if all(not (v or "").strip() for v in record.values()):
                continue
            out.records.append((where, {k: (v if v != "" else None) for k, v in record.items()}))
    except csv.Error as exc:
        why = UNCLOSED_QUOTE if "unexpected end of data" in str(exc) else f"bad CSV: {exc}"
        return Parsed(errors=[(f"line {line + 1}", why)])
    return out


def _fm_value(raw: str) -> Any:
    raw = raw.strip()
    if raw.startswith('"') or raw.startswith("["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            if raw.startswith("[") and raw.endswith("]"):
                return [p.strip().strip("'\"") for p in raw[1:-1].split(",") if p.strip()]
            raise
    return raw


def _front_matter(lines: list[str], start: int) -> tuple[dict[str, Any], int] | None:
    """Key: value lines after a `---` at `start`, up to the closing `---`, or None."""
    meta: dict[str, Any] = {}
    i = start + 1
    while i < len(lines):
        line = lines[i]
        if line.strip() == "---":
            return (meta, i) if "title" in meta else None
        if line.strip():
            m = FM_KEY_RE.match(line)
            if not m:
                return None
            try:
                meta[m[1].lower()] = _fm_value(m[2])
            except json.JSONDecodeError:
                meta.setdefault("__bad__", f"bad value for {m[1]}")
        i += 1
    return None


def _parse_md(text: str) -> Parsed:
    lines = text.splitlines()
    out = Parsed()
    starts: list[tuple[int, dict[str, Any], int]] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "---":
            fm = _front_matter(lines, i)
            if fm is not None:
                starts.append((i, fm[0], fm[1]))
                i = fm[1] + 1
                continue
        i += 1
    if not starts:
        heading = next((n for n, s in enumerate(lines) if s.strip()), None)
        if heading is None:
            return Parsed(errors=[("file", "empty file")])
        title = lines[heading].strip().lstrip("#").strip()
        out.records.append(("line 1", {"title": title, "body": "\n".join(lines[heading + 1 :])}))
        return out
    if any(s.strip() for s in lines[: starts[0][0]]):
        out.errors.append(("line 1", "text before the first front-matter header"))
    for n, (open_at, meta, close_at) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        where = f"line {open_at + 1}"
        if "__bad__" in meta:
            out.errors.append((where, str(meta["__bad__"])))
            continue
        meta["body"] = "\n".join(lines[close_at + 1 : end]).strip()
        out.records.append((where, meta))
    return out


def _plain(value: str) -> str:
    safe = (
        value == value.strip()
        and value
        and not value.startswith(('"', "["))
        and "\n" not in value
        and value.lower() not in TRUE | FALSE | {"null"}
    )
    return value if safe else json.dumps(value, ensure_ascii=False)


def render(records: Sequence[Mapping[str, Any]], fmt: str) -> str:
    """Records (dicts with EXPORT_FIELDS) as text in one of FORMATS."""
    rows = [{k: r.get(k) for k in EXPORT_FIELDS} for r in records]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if fmt == "csv":
        buf = io.StringIO(newline="")
        writer = csv.DictWriter(buf, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow(
                {
                    k: (
                        ", ".join(v or [])
                        if k in LIST_FIELDS
                        else ("true" if v else "false")
                        if k == "verbatim"
                        else ("" if v is None else v)
                    )
                    for k, v in r.items()
                }
            )
        return buf.getvalue()
    if fmt == "md":
        parts = []
        for r in rows:
            head = ["---"]
            for k in EXPORT_FIELDS:
                v = r[k]
                if k == "body" or v is None or (k in LIST_FIELDS and not v):
                    continue
                if k in LIST_FIELDS:
                    head.append(f"{k}: {json.dumps(v, ensure_ascii=False)}")
                elif k == "verbatim":
                    head.append(f"verbatim: {'true' if v else 'false'}")
                else:
                    head.append(f"{k}: {_plain(str(v))}")
            parts.append("\n".join([*head, "---", str(r["body"]), ""]))
        return "\n".join(parts)
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
