"""/kb (alias /kienthuc): curate the family's knowledge base from the chat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core.errors import UsageError
from bot.core.types import Reply
from handlers.base import Ctx, Registry
from handlers.kb_drafts import discard_draft, draft_from_media, has_media, save_draft
from handlers.kb_import_text import import_problem, left_out_by_caps
from handlers.kb_text import (
    PAGE_SIZE,
    parse_draft,
    parse_id,
    parse_page,
    render_entry,
    render_history,
    render_page,
)
from knowledge import transfer
from knowledge.formats import FORMATS
from knowledge.rows import Author
from knowledge.store import KnowledgeBase

MAX_IMPORT_BYTES = 20 * 1024 * 1024  # what a Telegram bot may download at all
MAX_ERRORS_SHOWN = 10

SubHandler = Callable[[Ctx, str], Awaitable[Reply]]


def author_of(ctx: Ctx) -> Author:
    """The member behind a change, as the usage report credits them."""
    name = ctx.member.display_name or ctx.incoming.user_name or ctx.incoming.user_id
    return Author(name, ctx.incoming.platform, ctx.incoming.user_id, ctx.member.id)


def kb_of(ctx: Ctx) -> KnowledgeBase:
    """The knowledge base from the services (typed)."""
    kb: KnowledgeBase = ctx.services.kb
    return kb


async def kb_add(ctx: Ctx, args: str) -> Reply:
    """Add an entry to this family's knowledge base (a photo or voice note: a draft first)."""
    if has_media(ctx):
        return await draft_from_media(ctx, args)
    ctx.require_admin(suggest_hint=True)
    draft = parse_draft(args)
    entry = await kb_of(ctx).add(
        draft.title,
        draft.body,
        family_id=ctx.family.id,
        tags=draft.tags,
        verbatim=draft.verbatim,
        author=author_of(ctx),
        language=ctx.lang if ctx.lang in ("vi", "en") else "vi",
    )
    return Reply(
        ctx.t(
            "Đã thêm #{id} · {t}. Xem: /kb show {id}",
            "Added #{id} · {t}. See: /kb show {id}",
            id=entry.id,
            t=entry.title,
        )
    )


async def kb_edit(ctx: Ctx, args: str) -> Reply:
    """Replace an entry's title and/or body (the old version stays in its history)."""
    ctx.require_admin(suggest_hint=True)
    entry_id, rest = parse_id(args, ctx.lang)
    draft = parse_draft(rest, need_body=False, need_title=False) if rest else None
    if draft is None:
        raise UsageError(
            "Cách dùng: /kb edit SỐ TIÊU ĐỀ | NỘI DUNG", "Usage: /kb edit ID TITLE | BODY"
        )
    entry = await kb_of(ctx).edit(
        entry_id,
        ctx.family.id,
        actor=author_of(ctx).name,
        global_admin=ctx.is_global_admin,
        title=draft.title or None,
        body=draft.body or None,
        tags=list(draft.tags) or None,
        verbatim=True if draft.verbatim else None,
    )
    note = (
        ""
        if entry.id == entry_id
        else ctx.t(
            " (bản riêng của gia đình, thay cho #{g})",
            " (this family's own copy of #{g})",
            g=entry_id,
        )
    )
    return Reply(
        ctx.t(
            "Đã sửa #{id} · {t}{n}. Hoàn tác: /kb undo {id}",
            "Edited #{id} · {t}{n}. Undo: /kb undo {id}",
            id=entry.id,
            t=entry.title,
            n=note,
        )
    )


async def kb_remove(ctx: Ctx, args: str) -> Reply:
    """Remove an entry (reversible with /kb undo)."""
    ctx.require_admin(suggest_hint=True)
    entry_id, _ = parse_id(args, ctx.lang)
    entry = await kb_of(ctx).remove(
        entry_id, ctx.family.id, actor=author_of(ctx).name, global_admin=ctx.is_global_admin
    )
    return Reply(
        ctx.t(
            "Đã xoá #{id} · {t}. Lấy lại: /kb undo {id}",
            "Removed #{id} · {t}. Bring it back: /kb undo {id}",
            id=entry.id,
            t=entry.title,
        )
    )


async def kb_save(ctx: Ctx, args: str) -> Reply:
    """Keep the draft read from a photo or voice note (`TITLE | BODY` corrects it first)."""
    return await save_draft(ctx, args, author_of(ctx))


async def kb_undo(ctx: Ctx, args: str) -> Reply:
    """Restore an entry's previous version."""
    ctx.require_admin(suggest_hint=True)
    entry_id, _ = parse_id(args, ctx.lang)
    entry = await kb_of(ctx).undo(
        entry_id, ctx.family.id, actor=author_of(ctx).name, global_admin=ctx.is_global_admin
    )
    return Reply(
        ctx.t(
            "Đã khôi phục #{id} về bản trước (giờ là v{v}).\n\n{e}",
            "Restored #{id} to its previous version (now v{v}).\n\n{e}",
            id=entry.id,
            v=entry.version,
            e=render_entry(entry, ctx.lang),
        )
    )


async def kb_show(ctx: Ctx, args: str) -> Reply:
    """Show one entry in full."""
    entry_id, _ = parse_id(args, ctx.lang)
    entry = await kb_of(ctx).get(entry_id, ctx.family.id)
    if entry is None or (entry.status != "approved" and not ctx.is_admin):
        raise UsageError(f"Không tìm thấy mục #{entry_id}.", f"No entry #{entry_id}.")
    return Reply(render_entry(entry, ctx.lang))


async def kb_list(ctx: Ctx, args: str) -> Reply:
    """Page through the entries this family sees."""
    page = parse_page(args)
    entries, total = await kb_of(ctx).list_entries(ctx.family.id, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    empty = ctx.t(
        "Kho kiến thức còn trống. Thêm: /kb add TIÊU ĐỀ | NỘI DUNG",
        "The knowledge base is empty. Add: /kb add TITLE | BODY",
    )
    return Reply(render_page(entries, total, page, "/kb list", ctx.lang, empty))


async def kb_search(ctx: Ctx, args: str) -> Reply:
    """Search the knowledge base the way the answers do."""
    if not args.strip():
        raise UsageError("Cách dùng: /kb search TỪ KHOÁ", "Usage: /kb search WORDS")
    hits = await kb_of(ctx).search(args, ctx.family.id, limit=5)
    if not hits:
        return Reply(ctx.t("Không tìm thấy mục nào khớp.", "Nothing matches."))
    lines = [f"#{h.entry.id} · {h.entry.title}\n   {h.snippet}" for h in hits]
    return Reply("\n".join(lines) + ctx.t("\n\nXem: /kb show SỐ", "\n\nSee: /kb show ID"))


async def kb_history(ctx: Ctx, args: str) -> Reply:
    """List an entry's versions."""
    entry_id, rest = parse_id(args, ctx.lang)
    revisions = await kb_of(ctx).history(entry_id, ctx.family.id)
    return Reply(render_history(entry_id, revisions, ctx.lang, parse_page(rest)))


async def kb_export(ctx: Ctx, args: str) -> Reply:
    """Send this family's own entries as a file (jsonl by default)."""
    fmt = (args.strip().split(" ", 1)[0] or "jsonl").lower().lstrip(".")
    if fmt not in FORMATS:
        raise UsageError(f"Định dạng: {', '.join(FORMATS)}", f"Formats: {', '.join(FORMATS)}")
    text = await kb_of(ctx).export(ctx.family.id, fmt)
    name = f"hearth-kb-{ctx.family.platform}-{ctx.family.chat_id}.{fmt}".replace(":", "_")
    return Reply(
        ctx.t(
            "Kho kiến thức của gia đình (định dạng {f}).",
            "This family's knowledge base ({f}).",
            f=fmt,
        ),
        document=(name, text.encode("utf-8")),
    )


async def kb_import(ctx: Ctx, args: str) -> Reply:
    """Import a sent .md/.csv/.json/.jsonl file (the command is the file's caption)."""
    ctx.require_admin(suggest_hint=True)
    att = ctx.incoming.attachment
    if att is None or att.kind != "document":
        raise UsageError(
            "Gửi tệp .md, .csv, .json hoặc .jsonl kèm chú thích /kb import.",
            "Send a .md, .csv, .json or .jsonl file with the caption /kb import.",
        )
    limits = transfer.ImportLimits.of(ctx.services.settings)
    cap = limits.max_bytes or MAX_IMPORT_BYTES
    too_large = UsageError(
        f"Tệp lớn quá (tối đa {cap} byte).", f"The file is too large ({cap} bytes at most)."
    )
    if att.size is not None and att.size > cap:
        raise too_large
    data = await att.fetch()
    if len(data) > cap:
        raise too_large
    # credit goes to the person importing: a file's author fields could name anyone
    report = await transfer.import_file(
        kb_of(ctx),
        att.file_name,
        data,
        ctx.family.id,
        author_of(ctx),
        keep_authors=False,
        limits=limits,
    )
    lines = [ctx.t("Đã nhập {n} mục.", "Imported {n} entries.", n=len(report.imported))]
    if report.skipped:
        lines.append(ctx.t("Bỏ qua {n} mục trùng.", "Skipped {n} duplicates.", n=report.skipped))
    lines += left_out_by_caps(ctx.lang, report)
    if report.errors:
        lines.append(ctx.t("{n} mục lỗi:", "{n} invalid:", n=len(report.errors)))
        lines += [import_problem(ctx.lang, w, why) for w, why in report.errors[:MAX_ERRORS_SHOWN]]
        if len(report.errors) > MAX_ERRORS_SHOWN:
            lines.append("…")
    return Reply("\n".join(lines))


async def kb_help(ctx: Ctx, args: str) -> Reply:
    """The /kb subcommands."""
    return Reply(
        ctx.t(
            "Kho kiến thức:\n/kb search TỪ KHOÁ · /kb show SỐ · /kb list\n"
            "/kb add TIÊU ĐỀ | NỘI DUNG #thẻ #nguyên_văn\n/kb edit SỐ TIÊU ĐỀ | NỘI DUNG\n"
            "/kb remove SỐ · /kb undo SỐ · /kb history SỐ\n/kb export [md|csv|json|jsonl] · "
            "gửi tệp với chú thích /kb import\nThành viên: /suggest TIÊU ĐỀ | NỘI DUNG",
            "Knowledge base:\n/kb search WORDS · /kb show ID · /kb list\n"
            "/kb add TITLE | BODY #tags #verbatim\n/kb edit ID TITLE | BODY\n"
            "/kb remove ID · /kb undo ID · /kb history ID\n/kb export [md|csv|json|jsonl] · "
            "send a file with the caption /kb import\nMembers: /suggest TITLE | BODY",
        )
    )


SUBCOMMANDS: dict[str, SubHandler] = {}
for _names, _fn in (
    (("add", "them", "thêm"), kb_add),
    (("edit", "sua", "sửa"), kb_edit),
    (("remove", "rm", "delete", "xoa", "xoá", "xóa"), kb_remove),
    (("undo", "hoantac", "hoàntác"), kb_undo),
    (("show", "xem"), kb_show),
    (("list", "ls", "ds", "danhsach"), kb_list),
    (("search", "find", "tim", "tìm"), kb_search),
    (("history", "lichsu", "lịchsử"), kb_history),
    (("export", "xuat", "xuất"), kb_export),
    (("import", "nhap", "nhập"), kb_import),
    (("save", "luu", "lưu"), kb_save),
    (("discard", "bo", "bỏ", "huynhap"), discard_draft),
    (("help", "huongdan"), kb_help),
):
    for _name in _names:
        SUBCOMMANDS[_name] = _fn


async def kb_command(ctx: Ctx) -> Reply:
    """Dispatch `/kb SUB ARGS`; a bare `/kb` shows the subcommands."""
    sub, _, rest = ctx.args.strip().partition(" ")
    if "\n" in sub:
        sub, _, more = sub.partition("\n")
        rest = more + (" " + rest if rest else "")
    if not sub:
        return await kb_help(ctx, "")
    handler = SUBCOMMANDS.get(sub.lower())
    if handler is None:
        # `/kb cá kho` reads as a search: friendlier than an error
        return await kb_search(ctx, ctx.args)
    return await handler(ctx, rest.strip())


def register(reg: Registry) -> None:
    """Add /kb and its Vietnamese alias."""
    reg.add(
        "kb",
        kb_command,
        role="member",
        aliases=("kienthuc", "kt"),
        help_vi="kho kiến thức: /kb search|show|list|add|edit|remove|undo|history|export|import",
        help_en="knowledge base: /kb search|show|list|add|edit|remove|undo|history|export|import",
    )
