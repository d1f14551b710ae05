"""A photographed recipe or a voice note becomes knowledge: `/kb add` on (or in reply to) a
photo or voice note reads it into a draft; `/kb save` keeps it (the entry keeps its photo),
`/kb save TITLE | BODY` corrects it first, `/kb discard` drops it."""

from __future__ import annotations

import json
import logging
import sqlite3

from bot.core import images
from bot.core.errors import LLMUnavailable, UsageError
from bot.core.types import Reply
from handlers.base import Ctx
from handlers.kb_text import HASHTAG_RE, VERBATIM_TAGS, Draft, parse_draft
from handlers.media import Photo, hear, see, vision_call
from knowledge.normalize import fold
from knowledge.rows import Author

log = logging.getLogger(__name__)

MAX_TITLE = 120
READ_PROMPT = (
    "You read photos of a family's handwritten or printed recipes and notes. Write out "
    "exactly the text you see, in its own language, keeping its lines and quantities. "
    "First line: the dish or note's name. Then the text. Do not add anything. If there is "
    "no text, describe the dish in two sentences, its name first."
)


def has_media(ctx: Ctx) -> bool:
    """Whether `/kb add` came with (or in reply to) a photo or a voice note."""
    att = ctx.incoming.attachment
    return att is not None and att.kind in ("image", "voice")


async def draft_from_media(ctx: Ctx, args: str) -> Reply:
    """Read the photo (vision model) or voice note (transcription) into a draft to confirm."""
    ctx.require_admin(suggest_hint=True)
    caption = _caption(args)
    att = ctx.incoming.attachment
    assert att is not None
    photo: Photo | None = None
    if att.kind == "image":
        photo = await see(ctx)
        cap = ctx.services.settings.kb_photo_max_bytes
        if len(photo.data) > cap:
            raise UsageError(
                f"Ảnh lớn quá để lưu vào kho (tối đa {cap // 1024} KB). Bạn gửi dạng ảnh "
                "(không phải tệp) để Telegram nén lại giúp nhé.",
                f"That photo is too large to keep ({cap // 1024} KB at most). Send it as a "
                "photo (not as a file) so that it is compressed.",
            )
        text = await _read(ctx, photo)
    else:
        text = await hear(ctx)
    title, body = _title_and_body(caption, text)
    tags = list(caption.tags)
    await ctx.services.db.write(
        lambda conn: _store_in(conn, ctx, photo, title, body, tags, caption.verbatim)
    )
    return Reply(_render(ctx, title, body, photo is not None, caption.verbatim))


async def save_draft(ctx: Ctx, args: str, author: Author) -> Reply:
    """Keep the family's draft as an entry (corrected by `TITLE | BODY` when given)."""
    ctx.require_admin(suggest_hint=True)
    row = await ctx.services.db.fetchone(
        "SELECT * FROM kb_drafts WHERE family_id = ? ORDER BY id DESC LIMIT 1", (ctx.family.id,)
    )
    if row is None:
        raise UsageError(
            "Chưa có bản nháp nào. Gửi ảnh công thức hoặc tin nhắn thoại kèm chú thích /kb add.",
            "There is no draft. Send a recipe photo or a voice note with the caption /kb add.",
        )
    edit = _caption(args)
    verbatim = bool(row["verbatim"]) or edit.verbatim
    entry = await ctx.services.kb.add(
        edit.title or row["title"],
        edit.body or row["body"],
        family_id=ctx.family.id,
        tags=list(edit.tags) or json.loads(row["tags"]),
        verbatim=verbatim,
        author=author,
        language=ctx.lang if ctx.lang in ("vi", "en") else "vi",
        source=row["source"],
    )

    def keep(conn: sqlite3.Connection) -> None:
        if row["photo"] is not None:
            conn.execute(
                "INSERT INTO entry_photos (entry_id, family_id, mime, data, sha256)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    entry.id,
                    ctx.family.id,
                    row["photo_mime"],
                    row["photo"],
                    images.digest(row["photo"]),
                ),
            )
        conn.execute("DELETE FROM kb_drafts WHERE family_id = ?", (ctx.family.id,))

    await ctx.services.db.write(keep)
    kept = ctx.t(" (kèm ảnh)", " (with its photo)") if row["photo"] is not None else ""
    mark = ctx.t(" · nguyên văn", " · verbatim") if verbatim else ""
    return Reply(
        ctx.t(
            "Đã lưu #{id} · {t}{p}{v}. Xem: /kb show {id}",
            "Saved #{id} · {t}{p}{v}. See: /kb show {id}",
            id=entry.id,
            t=entry.title,
            p=kept,
            v=mark,
        )
    )


async def discard_draft(ctx: Ctx, args: str) -> Reply:
    """Drop the family's draft without saving anything."""
    ctx.require_admin(suggest_hint=True)
    await ctx.services.db.execute("DELETE FROM kb_drafts WHERE family_id = ?", (ctx.family.id,))
    return Reply(ctx.t("Đã bỏ bản nháp.", "Draft discarded."))


async def _read(ctx: Ctx, photo: Photo) -> str:
    """The photo's text as the vision model reads it."""
    prompt = [
        {"role": "system", "content": READ_PROMPT},
        {"role": "user", "content": ctx.t("Chép lại chữ trong ảnh.", "Copy out the text.")},
    ]
    ctx.photo = photo
    messages, options = vision_call(ctx, prompt)
    try:
        done = await ctx.services.llm.complete(
            messages, family_id=ctx.family.id, purpose="draft", **options
        )
    except LLMUnavailable as exc:
        log.warning("reading a photo for family %s failed: %s", ctx.family.id, exc)
        raise UsageError(
            "Mô hình xem ảnh đang không trả lời, nên mình chưa đọc được ảnh. Bạn thử lại sau "
            "một lát, hoặc gõ công thức bằng /kb add TIÊU ĐỀ | NỘI DUNG.",
            "The vision model is not answering, so I couldn't read the photo. Please try again "
            "in a moment, or type it with /kb add TITLE | BODY.",
        ) from None
    text = str(done.text).strip()
    if not text:
        raise UsageError(
            "Mình không đọc được gì trong ảnh. Bạn chụp rõ hơn giúp mình nhé.",
            "I couldn't read anything in that photo. Please take a clearer one.",
        )
    return text


def _caption(args: str) -> Draft:
    """Title, body, tags and the verbatim mark the admin wrote (any may be missing)."""
    if HASHTAG_RE.sub("", args).strip():
        return parse_draft(args, need_body=False, need_title=False)
    tags = HASHTAG_RE.findall(args)
    verbatim = any(fold(t) in VERBATIM_TAGS for t in tags)
    kept = tuple(t.replace("_", " ") for t in tags if fold(t) not in VERBATIM_TAGS)
    return Draft("", "", kept, verbatim)


def _title_and_body(caption: Draft, text: str) -> tuple[str, str]:
    """The admin's title if given (the whole reading is the body), else its first line."""
    if caption.title:
        return caption.title[:MAX_TITLE], (caption.body + "\n\n" + text).strip()
    first, _, rest = text.strip().partition("\n")
    title = " ".join(first.split()).strip("#*: ")[:MAX_TITLE]
    return title or text[:MAX_TITLE], rest.strip() or text.strip()


def _store_in(
    conn: sqlite3.Connection,
    ctx: Ctx,
    photo: Photo | None,
    title: str,
    body: str,
    tags: list[str],
    verbatim: bool,
) -> None:
    """One draft per family: the newest replaces any older one."""
    conn.execute("DELETE FROM kb_drafts WHERE family_id = ?", (ctx.family.id,))
    conn.execute(
        "INSERT INTO kb_drafts (family_id, member_id, source, title, body, tags, verbatim,"
        " photo_mime, photo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ctx.family.id,
            ctx.member.id,
            "photo" if photo is not None else "voice",
            title,
            body,
            json.dumps(tags, ensure_ascii=False),
            int(verbatim),
            photo.mime if photo is not None else None,
            photo.data if photo is not None else None,
        ),
    )


def _render(ctx: Ctx, title: str, body: str, with_photo: bool, verbatim: bool) -> str:
    head = ctx.t("📝 Bản nháp (chưa lưu)", "📝 Draft (not saved yet)")
    if with_photo:
        head += ctx.t(" · kèm ảnh", " · with the photo")
    if verbatim:
        head += ctx.t(" · nguyên văn", " · verbatim")
    return f"{head}\n\n{title}\n{body}\n\n" + ctx.t(
        "Lưu: /kb save · Sửa rồi lưu: /kb save TIÊU ĐỀ | NỘI DUNG · Bỏ: /kb discard",
        "Keep it: /kb save · Correct it first: /kb save TITLE | BODY · Drop it: /kb discard",
    )
