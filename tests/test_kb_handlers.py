"""The /kb, /suggest, /review, /approve, /reject commands through real handlers and stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.config import Settings
from bot.core.errors import HearthError, PermissionDenied, UsageError
from bot.core.types import Attachment, Incoming, Reply
from bot.store.families import FamilyStore
from handlers import kb as kb_handlers
from handlers import review as review_handlers
from handlers.base import Ctx, Registry, Services, parse_command
from tests.kb_support import open_kb
from tests.support import RecordingOutbox


class Chat:
    """Drives commands as one user in one chat, the way the pipeline will."""

    def __init__(self, services: Services, registry: Registry, chat_id: str, kind: str) -> None:
        self.services, self.registry, self.chat_id, self.kind = services, registry, chat_id, kind
        self.outbox = RecordingOutbox()

    async def say(
        self,
        text: str,
        *,
        user: str = "u1",
        admin: bool = False,
        lang: str = "vi",
        attachment: Attachment | None = None,
    ) -> str:
        incoming = Incoming(
            platform="telegram",
            chat_id=self.chat_id,
            user_id=user,
            message_id="m",
            text=text,
            chat_kind=self.kind,  # type: ignore[arg-type]
            user_name=f"User {user}",
            is_chat_admin=admin,
            attachment=attachment,
        )
        fam = await self.services.families.ensure("telegram", self.chat_id, self.kind)
        member = await self.services.families.member(fam, user, f"User {user}", chat_admin=admin)
        parsed = parse_command(text)
        assert parsed is not None
        found = self.registry.find(parsed[0])
        assert found is not None, parsed
        ctx = Ctx(self.services, incoming, fam, member, lang, parsed[0], parsed[1], self.outbox)
        try:
            reply = await found[0].handler(ctx)
        except HearthError as exc:
            reply = Reply(exc.user_message(lang), meta={"error": type(exc).__name__})
        assert reply is not None
        await self.outbox.send(reply)
        return reply.text


@pytest.fixture
async def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    db, kb = await open_kb(tmp_path / "kb.db")
    reg = Registry()
    kb_handlers.register(reg)
    review_handlers.register(reg)
    services = Services(
        settings=Settings(admins=frozenset({"telegram:root"})),
        db=db,
        families=FamilyStore(db),
        memory=None,
        kb=kb,
        llm=None,
        usage=None,
        answers=None,
        registry=reg,
    )
    yield services, reg
    await db.close()


async def test_members_are_refused_politely_with_suggest_hint(world) -> None:  # type: ignore[no-untyped-def]
    services, reg = world
    group = Chat(services, reg, "-1", "group")
    await group.say("/kb add Cá kho | kho cá", user="boss", admin=True)
    for cmd in (
        "/kb add Phở | ninh xương",
        "/kb edit 1 Phở | x",
        "/kb remove 1",
        "/kb undo 1",
        "/review",
        "/approve 1",
        "/reject 1",
        "/kienthuc xoa 1",
    ):
        for lang, word in (("vi", "/suggest"), ("en", "/suggest")):
            text = await group.say(cmd, user="kid", lang=lang)
            assert word in text, (cmd, text)
            assert group.outbox.sent[-1].meta["error"] == PermissionDenied.__name__
    assert "Cá kho" in await group.say("/kb show 1", user="kid")


async def test_admin_curates_with_add_edit_remove_undo_history(world) -> None:  # type: ignore[no-untyped-def]
    services, reg = world
    chat = Chat(services, reg, "42", "private")  # the private chat's owner is its admin
    out = await chat.say("/kb add Cá kho tộ\nCá basa kho với nước màu #món_mặn #nguyên_văn")
    assert "#1" in out
    shown = await chat.say("/kb show 1")
    assert "Cá basa kho" in shown and "#món_mặn" in shown and "nguyên văn" in shown
    assert "#1" in await chat.say("/kb edit 1 Cá kho tộ của bà | Thêm tiêu xanh")
    assert "Thêm tiêu xanh" in await chat.say("/kienthuc xem 1")
    assert "Cá basa" in await chat.say("/kb undo 1")
    await chat.say("/kb remove 1")
    assert "trống" in await chat.say("/kb list")
    assert "Cá basa" in await chat.say("/kb hoantac 1")
    history = await chat.say("/kb history 1", lang="en")
    for word in ("v5", "undone", "removed", "edited", "added"):
        assert word in history
    assert "Cá kho tộ" in await chat.say("/kb search ca kho")
    assert "Cá kho tộ" in await chat.say("/kb ca kho")  # a bare query searches


async def test_long_lists_are_paged(world) -> None:  # type: ignore[no-untyped-def]
    services, reg = world
    chat = Chat(services, reg, "7", "private")
    for i in range(23):
        await chat.say(f"/kb add Món số {i} | nội dung {i}")
    first = await chat.say("/kb list")
    assert first.count("\n#") + first.startswith("#") == 10 and "1/3" in first
    assert "/kb list 2" in first
    for i in range(12):
        await chat.say(f"/kb edit 1 | phiên bản {i}")
    history = await chat.say("/kb history 1")
    assert (
        "v13" in history
        and "v4 " in history
        and "v3 " not in history
        and "/kb history 1 2" in history
    )
    assert "v1 " in await chat.say("/kb history 1 2")
    third = await chat.say("/kb list 3")
    assert "3/3" in third and "Món số 0" in third and "/kb list 4" not in third


async def test_suggest_review_approve_reject(world) -> None:  # type: ignore[no-untyped-def]
    services, reg = world
    group = Chat(services, reg, "-9", "group")
    out = await group.say("/goiy Chè bưởi | Cùi bưởi bóp muối #chè", user="kid")
    assert "#1" in out
    await group.say("/suggest Xôi xéo | Đậu xanh, hành phi", user="kid")
    assert "không tìm" in (await group.say("/kb search che buoi", user="kid")).lower()
    pending = await group.say("/duyet", user="mom", admin=True)
    assert "Chè bưởi" in pending and "Xôi xéo" in pending and "/approve" in pending
    assert "#1" in await group.say("/approve 1", user="mom", admin=True)
    assert "#2" in await group.say("/tuchoi 2", user="mom", admin=True)
    assert "Chè bưởi" in await group.say("/kb search che buoi", user="kid")
    assert "User kid" in await group.say("/kb show 1", user="kid")
    row = await services.db.fetchone(
        "SELECT author_user_id, approved_by FROM entries WHERE id = 1 AND family_id IS NOT NULL"
    )
    assert (row["author_user_id"], row["approved_by"]) == ("kid", "User mom")
    assert "Không có đề xuất" in await group.say("/review", user="mom", admin=True)


async def test_import_by_caption_and_export_document(world) -> None:  # type: ignore[no-untyped-def]
    services, reg = world
    chat = Chat(services, reg, "5", "private")
    data = "\n".join(
        [
            json.dumps({"title": "Bánh xèo", "body": "bột gạo"}, ensure_ascii=False),
            "{oops",
            json.dumps({"title": "Bún", "body": ""}),
        ]
    ).encode()

    async def fetch() -> bytes:
        return data

    doc = Attachment("document", "kb.jsonl", "application/jsonl", fetch, len(data))
    out = await chat.say("/kb import", attachment=doc, lang="en")
    assert "Imported 1" in out and "line 2" in out and "line 3" in out
    vi = await chat.say("/kb import", attachment=doc, lang="vi")
    # the same problems, in Vietnamese only (the duplicate is skipped, the bad lines named)
    assert "Bỏ qua 1" in vi and "dòng 2: JSON không hợp lệ" in vi
    assert "dòng 3: thiếu nội dung" in vi and "line" not in vi and "missing" not in vi
    wrong = Attachment("document", "kb.txt", "text/plain", fetch, len(data))
    assert "chỉ nhận tệp .md" in await chat.say("/kb import", attachment=wrong, lang="vi")
    assert "Send a .md" in await chat.say("/kb import", lang="en")
    await chat.say("/kb export csv")
    reply = chat.outbox.sent[-1]
    assert reply.document is not None and reply.document[0].endswith(".csv")
    assert "Bánh xèo" in reply.document[1].decode()
    # a global admin edits shared entries; a family admin gets the family's own copy
    shared = await services.kb.add("Nước mắm", "pha 1:1:1", family_id=None)
    out = await chat.say(f"/kb edit {shared.id} | pha 1:1:4", lang="en")
    assert "own copy" in out
    assert (await services.kb.get(shared.id, None)).body == "pha 1:1:1"
    await chat.say(f"/kb edit {shared.id} | pha chuẩn", user="root")
    assert (await services.kb.get(shared.id, None)).body == "pha chuẩn"


async def test_bad_usage_is_explained(world) -> None:  # type: ignore[no-untyped-def]
    services, reg = world
    chat = Chat(services, reg, "8", "private")
    for cmd in (
        "/kb add",
        "/kb add chỉ có tiêu đề",
        "/kb show",
        "/kb show abc",
        "/kb edit 1",
        "/kb show 999",
        "/kb export pdf",
        "/kb search",
        "/approve",
        "/suggest",
    ):
        await chat.say(cmd)
        assert chat.outbox.sent[-1].meta.get("error") == UsageError.__name__, cmd
    assert "/kb add" in await chat.say("/kb")
