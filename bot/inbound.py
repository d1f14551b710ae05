"""Make every string a platform hands over safe to store, search and show.

A lone surrogate cannot be written to SQLite (UTF-8), so one in a display name made every
message of that person fail; control characters in a name or title rewrite a terminal
(`hearth logs`) or a log line. Message text keeps its line breaks; names, titles, file
names and ids are single-line labels.
"""

from __future__ import annotations

import unicodedata
from dataclasses import fields, replace

from bot.core.types import Attachment, CallbackEvent, Incoming

MAX_LABEL_CHARS = 256
# bidirectional overrides and isolates: they make a name display as something else
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def _valid_utf8(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def clean_text(text: str, limit: int) -> tuple[str, bool]:
    """Message text: no NUL, no lone surrogates, NFC, capped; True when it was cut."""
    text = unicodedata.normalize("NFC", _valid_utf8(text.replace("\x00", "")))
    if len(text) > limit:
        return text[:limit], True
    return text, False


def clean_label(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    """A name, title, file name or id: one line, no control characters, NFC, capped."""
    if (  # the usual case, checked in C: nothing to clean
        len(text) <= limit
        and text.isprintable()  # no control, format (bidi) or surrogate code points
        and text == text.strip()
        and "  " not in text
        and unicodedata.is_normalized("NFC", text)
    ):
        return text
    text = _valid_utf8(text).translate(BIDI_CONTROLS)
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return " ".join(unicodedata.normalize("NFC", text).split())[:limit]


def _optional(value: str | None) -> str | None:
    return None if value is None else clean_label(value)


def clean_incoming(inc: Incoming, limit: int) -> tuple[Incoming, bool]:
    """Every string of a message cleaned (text as text, the rest as labels); True when the
    text was cut to `limit`."""
    text, cut = clean_text(inc.text, limit)
    changes: dict[str, object] = {"text": text}
    for f in fields(inc):
        value = getattr(inc, f.name)
        if f.name != "text" and isinstance(value, str):
            changes[f.name] = clean_label(value)
    att = inc.attachment
    if att is not None:
        changes["attachment"] = _clean_attachment(att)
    return replace(inc, **changes), cut  # type: ignore[arg-type]


def _clean_attachment(att: Attachment) -> Attachment:
    return replace(
        att,
        file_name=clean_label(att.file_name) or "file",
        mime_type=_optional(att.mime_type),
        ref=att.ref if att.ref is None else _valid_utf8(att.ref),
    )


def clean_event(event: CallbackEvent) -> CallbackEvent:
    """A button press's strings as labels (its data is matched, never stored raw)."""
    return replace(
        event,
        chat_id=clean_label(event.chat_id),
        user_id=clean_label(event.user_id),
        user_name=clean_label(event.user_name),
        message_id=_optional(event.message_id),
        language_code=_optional(event.language_code),
        data=_valid_utf8(event.data),
    )
