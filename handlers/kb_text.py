"""Parsing what curators type and rendering entries for chat, shared by /kb and /suggest."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.errors import UsageError
from bot.core.i18n import tr
from knowledge.normalize import fold
from knowledge.store import Revision
from knowledge.types import Entry

PAGE_SIZE = 10
HASHTAG_RE = re.compile(r"(?<![\w&])#([^\W\d_][\w-]*)", re.UNICODE)
VERBATIM_TAGS = {"verbatim", "nguyenvan", "nguyen_van"}
MAX_SHOW_CHARS = 3500


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry as typed in chat: `TITLE | BODY` or title line + body lines, with #tags."""

    title: str
    body: str
    tags: tuple[str, ...]
    verbatim: bool


def parse_draft(text: str, *, need_body: bool = True, need_title: bool = True) -> Draft:
    """Split chat text into title, body, #tags (#verbatim / #nguyên_văn marks verbatim)."""
    raw_tags = HASHTAG_RE.findall(text)
    verbatim = any(fold(t) in VERBATIM_TAGS for t in raw_tags)
    tags = tuple(
        dict.fromkeys(t.replace("_", " ") for t in raw_tags if fold(t) not in VERBATIM_TAGS)
    )
    stripped = HASHTAG_RE.sub("", text).strip()
    if "|" in stripped.split("\n", 1)[0]:
        title, _, body = stripped.partition("|")
    else:
        title, _, body = stripped.partition("\n")
    title, body = " ".join(title.split()), body.strip()
    if (need_title and not title) or (need_body and not body) or not (title or body):
        raise UsageError(
            "Cách dùng: TIÊU ĐỀ | NỘI DUNG (hoặc tiêu đề ở dòng đầu, nội dung ở các dòng sau),"
            " thêm #thẻ nếu muốn.",
            "Usage: TITLE | BODY (or the title on the first line and the body below), plus"
            " optional #tags.",
        )
    return Draft(title, body, tags, verbatim)


def parse_id(text: str, lang: str) -> tuple[int, str]:
    """The leading entry id (`12` or `#12`) and the rest of the text."""
    head, _, rest = text.strip().partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = more + (" " + rest if rest else "")
    head = head.lstrip("#")
    if not head.isdigit() or len(head) > 12:
        raise UsageError("Cần số thứ tự của mục, ví dụ: 12.", "An entry number is needed, e.g. 12.")
    return int(head), rest.strip()


def parse_page(text: str) -> int:
    """A 1-based page number from the arguments (default 1)."""
    word = text.strip().split(" ", 1)[0]
    return max(1, int(word)) if word.isdigit() and len(word) < 7 else 1


def scope_label(entry: Entry, lang: str) -> str:
    """Whether an entry is shared by everyone or belongs to this family."""
    if entry.family_id is None:
        return tr(lang, "chung", "shared")
    return tr(lang, "của gia đình", "this family's")


def status_label(status: str, lang: str) -> str:
    """A status in the reader's language."""
    labels = {
        "approved": ("đã duyệt", "approved"),
        "pending": ("chờ duyệt", "pending review"),
        "rejected": ("bị từ chối", "rejected"),
        "removed": ("đã xoá", "removed"),
    }
    vi, en = labels.get(status, (status, status))
    return tr(lang, vi, en)


def render_entry(entry: Entry, lang: str) -> str:
    """The full entry for /kb show."""
    lines = [f"#{entry.id} · {entry.title}"]
    if entry.status != "approved":
        lines[0] += f" ({status_label(entry.status, lang)})"
    body = entry.body if len(entry.body) <= MAX_SHOW_CHARS else entry.body[:MAX_SHOW_CHARS] + "…"
    lines += ["", body, ""]
    meta = [scope_label(entry, lang), f"v{entry.version}"]
    if entry.tags:
        meta.append(" ".join("#" + t.replace(" ", "_") for t in entry.tags))
    if entry.author:
        meta.append(tr(lang, "✍️ {a}", "✍️ {a}", a=entry.author))
    if entry.verbatim:
        meta.append(tr(lang, "nguyên văn", "verbatim"))
    lines.append(" · ".join(meta))
    return "\n".join(lines)


def render_line(entry: Entry) -> str:
    """One line of a list."""
    mark = " ✍️" if entry.verbatim else ""
    return f"#{entry.id} · {entry.title}{mark}"


def render_page(
    entries: list[Entry], total: int, page: int, command: str, lang: str, empty: str
) -> str:
    """A page of a long list with the command that shows the next page."""
    if total == 0:
        return empty
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    if page > pages:
        return tr(
            lang,
            "Không có trang {p}: chỉ có {n} trang. Xem trang cuối: {c} {n}",
            "There is no page {p}: there {be} only {n} page{s}. The last one: {c} {n}",
            p=page,
            n=pages,
            c=command,
            be="is" if pages == 1 else "are",
            s="" if pages == 1 else "s",
        )
    lines = [render_line(e) for e in entries]
    footer = tr(lang, "Trang {p}/{n}", "Page {p}/{n}", p=page, n=pages)
    if page < pages:
        footer += tr(lang, " — xem tiếp: {c} {nx}", " — next: {c} {nx}", c=command, nx=page + 1)
    return "\n".join([*lines, "", footer])


def render_history(entry_id: int, revisions: list[Revision], lang: str, page: int = 1) -> str:
    """Versions newest first, a page at a time, with what happened and who did it."""
    actions = {
        "add": ("thêm", "added"),
        "edit": ("sửa", "edited"),
        "remove": ("xoá", "removed"),
        "undo": ("hoàn tác", "undone"),
        "suggest": ("đề xuất", "suggested"),
        "approve": ("duyệt", "approved"),
        "reject": ("từ chối", "rejected"),
        "fork": ("bản riêng", "family copy"),
    }
    pages = max(1, (len(revisions) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(page, pages)
    newest_first = list(reversed(revisions))
    lines = [tr(lang, "Lịch sử #{id}:", "History of #{id}:", id=entry_id)]
    for r in newest_first[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
        vi, en = actions.get(r.action, (r.action, r.action))
        what = tr(lang, vi, en)
        if r.restores:
            what += f" → v{r.restores}"
        who = f" · {r.actor}" if r.actor else ""
        lines.append(
            f"v{r.version} · {r.created_at[:16].replace('T', ' ')} · {what}{who} · {r.title}"
        )
    if pages > 1:
        more = tr(lang, "Trang {p}/{n}", "Page {p}/{n}", p=page, n=pages)
        if page < pages:
            more += tr(
                lang,
                " — xem tiếp: /kb history {id} {nx}",
                " — next: /kb history {id} {nx}",
                id=entry_id,
                nx=page + 1,
            )
        lines.append(more)
    if len(revisions) > 1:
        lines.append(
            tr(
                lang,
                "Quay lại bản trước: /kb undo {id}",
                "Restore the previous one: /kb undo {id}",
                id=entry_id,
            )
        )
    return "\n".join(lines)
