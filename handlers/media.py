"""Voice notes and photos in a chat: fetched within caps and a deadline, heard or seen by an
endpoint that can, and answered like typed questions — or a kind word saying what to do."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.core import images
from bot.core.errors import LLMUnavailable, UsageError
from bot.core.types import Attachment, Reply
from handlers.base import Ctx

log = logging.getLogger(__name__)

MEDIA_KINDS = frozenset({"voice", "image"})
PHOTO_QUESTION = (
    "Trong ảnh này là gì? Nếu là món ăn thì là món gì và nấu thế nào?",
    "What is in this photo? If it is a dish, which one and how is it cooked?",
)


@dataclass(frozen=True, slots=True)
class Photo:
    """A photo a question is about, metadata already removed; `local_only` for strict privacy."""

    mime: str
    data: bytes
    local_only: bool = False


async def keeps_media_local(ctx: Ctx) -> bool:
    """A family with privacy `strict` sends its voice and photos to local endpoints only."""
    profile = await ctx.family_profile()
    return profile.get("privacy", "") == "strict"


async def fetch_media(ctx: Ctx, att: Attachment) -> bytes:
    """The attachment's bytes, refused politely past the size or duration caps, and given up
    after the download deadline (a stalled platform must not hold the family's queue)."""
    settings = ctx.services.settings
    cap = settings.media_max_bytes
    if att.kind == "voice" and (att.duration or 0) > settings.voice_max_seconds:
        raise _too_long(settings.voice_max_seconds)
    too_large = UsageError(
        f"Tệp này lớn quá (tối đa {_mb(cap)}). Bạn gửi tệp nhỏ hơn giúp mình nhé.",
        f"That file is too large ({_mb(cap)} at most). Please send a smaller one.",
    )
    if att.size is not None and att.size > cap:
        raise too_large
    try:
        data = await asyncio.wait_for(att.fetch(), settings.media_fetch_s)
    except TimeoutError:
        log.warning("a %s took longer than %.0f s to download", att.kind, settings.media_fetch_s)
        raise UsageError(
            "Mình tải tệp bạn gửi lâu quá mà chưa xong. Bạn gửi lại sau một lát nhé.",
            "Downloading what you sent took too long. Please send it again in a moment.",
        ) from None
    except ValueError:  # a platform download that stopped at its own size cap
        raise too_large from None
    if len(data) > cap:
        raise too_large
    return data


async def _fetch_for(ctx: Ctx, kind: str) -> tuple[Attachment, bytes, bool]:
    """The attachment, its bytes and whether it must stay local — only once an endpoint
    that may take it exists (nothing is downloaded for nothing)."""
    att = ctx.incoming.attachment
    assert att is not None
    llm = ctx.services.llm
    local = await keeps_media_local(ctx)
    if llm is None or not llm.can(kind, local_only=local):
        raise _cannot_see(local) if kind == "vision" else _cannot_hear(local)
    return att, await fetch_media(ctx, att), local


async def hear(ctx: Ctx) -> str:
    """What the voice note says, by an endpoint that declares transcription."""
    att, audio, local = await _fetch_for(ctx, "transcription")
    llm = ctx.services.llm
    try:
        text = await llm.transcribe(audio, att.file_name, local_only=local, family_id=ctx.family.id)
    except LLMUnavailable as exc:
        log.warning("transcription failed for family %s: %s", ctx.family.id, exc)
        raise UsageError(
            "Máy nghe giọng nói đang không trả lời, nên mình chưa nghe được tin nhắn thoại. "
            "Bạn gửi lại sau một lát hoặc gõ câu hỏi giúp mình nhé.",
            "The speech-to-text server is not answering, so I couldn't listen to your voice "
            "message. Please try again in a moment, or type your question.",
        ) from None
    if text is None:  # the endpoint said it does not transcribe
        raise _cannot_hear(local)
    if not text.strip():
        raise UsageError(
            "Mình không nghe ra lời nào trong tin nhắn thoại. Bạn nói lại hoặc gõ chữ giúp mình.",
            "I couldn't make out any words in that voice message. Please say it again or type.",
        )
    return text.strip()


def heard_line(ctx: Ctx, transcript: str) -> str:
    """The transcript shown first, so a misheard question is seen before its answer."""
    name = ctx.member.display_name
    return ctx.t(
        "🎙️ {who} hỏi: «{q}»",
        "🎙️ {who} asked: “{q}”",
        who=name or ctx.t("Bạn", "You"),
        q=transcript,
    )


async def answer_voice(ctx: Ctx) -> Reply:
    """A voice question: transcribed, kept as the message's text, answered, transcript first."""
    question = await hear(ctx)
    if ctx.message_row_id is not None:  # the conversation history reads what was said
        await ctx.services.db.execute(
            "UPDATE messages SET text = ? WHERE family_id = ? AND id = ?",
            (question, ctx.family.id, ctx.message_row_id),
        )
    reply = await ctx.services.answers.answer(ctx, question)
    reply.text = heard_line(ctx, question) + "\n\n" + reply.text
    return reply


async def see(ctx: Ctx) -> Photo:
    """The message's photo, fetched and cleaned, once an endpoint that may see it exists."""
    _, data, local = await _fetch_for(ctx, "vision")
    try:
        mime, clean = images.strip_metadata(data)
    except images.NotAnImage:
        raise UsageError(
            "Mình chỉ đọc được ảnh JPEG hoặc PNG. Bạn gửi lại dưới dạng ảnh giúp mình nhé.",
            "I can read JPEG or PNG photos only. Please send it again as a photo.",
        ) from None
    return Photo(mime, clean, local)


async def answer_photo(ctx: Ctx) -> Reply:
    """A photo with (or without) a question: answered by a vision endpoint with the same
    family context as a typed question; the photo rides as an image part of the question."""
    ctx.photo = await see(ctx)
    question = ctx.args.strip() or ctx.t(*PHOTO_QUESTION)
    return await ctx.services.answers.answer(ctx, question)


async def answer_media(ctx: Ctx) -> Reply:
    """A message whose attachment is a voice note or a photo, without a command."""
    att = ctx.incoming.attachment
    assert att is not None and att.kind in MEDIA_KINDS
    if att.kind == "image":
        return await answer_photo(ctx)
    if ctx.args.strip():
        return await ctx.services.answers.answer(ctx, ctx.args)  # typed words win
    return await answer_voice(ctx)


def vision_call(
    ctx: Ctx, messages: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The prompt with the photo added to the question as an image content part, and the
    options that ask a vision endpoint (a local one only, for strict privacy)."""
    photo = ctx.photo
    if photo is None:
        return list(messages), {}
    sent = list(messages)
    last = max(i for i, m in enumerate(sent) if m.get("role") == "user")
    sent[last] = {
        **sent[last],
        "content": [
            {"type": "text", "text": str(sent[last]["content"])},
            {"type": "image_url", "image_url": {"url": images.data_url(photo.mime, photo.data)}},
        ],
    }
    return sent, {"kind": "vision", "local_only": photo.local_only}


def photo_note(ctx: Ctx) -> dict[str, Any] | None:
    """What the answer log keeps of the photo: its type, size and fingerprint, never it."""
    photo = ctx.photo
    if photo is None:
        return None
    return {"mime": photo.mime, "bytes": len(photo.data), "sha256": images.digest(photo.data)}


def _cannot_hear(local: bool) -> UsageError:
    if local:
        return UsageError(
            "Nhà mình đặt riêng tư nghiêm (strict), nên tin nhắn thoại chỉ được gửi tới máy nghe "
            "giọng nói chạy tại chỗ, mà Hearth chưa có máy nào như vậy. Bạn gõ câu hỏi giúp mình, "
            "hoặc nhờ người quản lý Hearth thêm một máy chủ chuyển giọng nói thành chữ tại chỗ.",
            "Your family's privacy is strict, so voice messages go only to a speech-to-text "
            "server on this machine, and there is none. Please type your question, or ask "
            "whoever runs Hearth to add a local transcription endpoint.",
        )
    return UsageError(
        "Xin lỗi, Hearth chưa nghe được tin nhắn thoại (chưa có máy chủ chuyển giọng nói thành "
        "chữ). Bạn gõ câu hỏi giúp mình, hoặc nhờ người quản lý Hearth thêm một máy chủ như vậy.",
        "Sorry, Hearth can't listen to voice messages here yet (no speech-to-text endpoint). "
        "Please type your question, or ask whoever runs Hearth to add a transcription endpoint.",
    )


def _cannot_see(local: bool) -> UsageError:
    if local:
        return UsageError(
            "Nhà mình đặt riêng tư nghiêm (strict), nên ảnh chỉ được gửi tới mô hình xem ảnh chạy "
            "tại chỗ, mà Hearth chưa có mô hình nào như vậy. Bạn tả bằng chữ giúp mình, hoặc nhờ "
            "người quản lý Hearth thêm một mô hình xem ảnh (vision) tại chỗ.",
            "Your family's privacy is strict, so photos go only to a vision model on this "
            "machine, and there is none. Please describe it in words, or ask whoever runs "
            "Hearth to add a local vision endpoint.",
        )
    return UsageError(
        "Xin lỗi, Hearth chưa xem được ảnh (chưa có mô hình xem ảnh). Bạn tả bằng chữ giúp mình, "
        "hoặc nhờ người quản lý Hearth thêm một mô hình xem ảnh (vision).",
        "Sorry, Hearth can't look at photos here yet (no vision endpoint). Please describe it "
        "in words, or ask whoever runs Hearth to add a vision endpoint.",
    )


def _too_long(seconds: int) -> UsageError:
    return UsageError(
        f"Tin nhắn thoại dài quá (tối đa {seconds} giây). Bạn chia thành mấy tin ngắn hơn nhé.",
        f"That voice message is too long ({seconds} seconds at most). "
        "Please split it into shorter ones.",
    )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"
