"""Telegram's own rules, as the loopback Bot API enforces them: lengths in UTF-16 units,
the HTML and MarkdownV2 parsers' errors, and the entities Telegram computes for a message."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from html import unescape
from typing import Any

MAX_TEXT = 4096
HTML_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
HTML_ENTITIES = {"lt", "gt", "amp", "quot"}
MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>")
COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?")
MENTION_RE = re.compile(r"@[A-Za-z0-9_]{5,32}")


class ApiError(Exception):
    """A Bot API error answer: HTTP status, Telegram's description, optional parameters."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def utf16_len(text: str) -> int:
    """Telegram counts lengths and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """Visible text of a Telegram-HTML message, or ApiError like Telegram's parser."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for match in re.finditer(r"<[^>]*>?|&[^;\s<&]*;?", text):
        out.append(text[pos : match.start()])
        pos = match.end()
        token = match.group()
        if token.startswith("&"):
            name = token[1:-1] if token.endswith(";") else None
            if name is None:
                out.append(token)  # a bare '&' is tolerated as text
            elif name in HTML_ENTITIES or re.fullmatch(r"#\d+|#x[0-9a-fA-F]+", name):
                out.append(unescape(token))
            else:
                raise _parse_error(
                    f'Unsupported HTML entity "{token}" at byte offset {match.start()}'
                )
            continue
        tag = TAG_RE.fullmatch(token)
        if tag is None:
            raise _parse_error(f"Unsupported start tag at byte offset {match.start()}")
        closing, name = tag.group(1) == "/", tag.group(2).lower()
        if name not in HTML_TAGS:
            raise _parse_error(f'Unsupported start tag "{name}" at byte offset {match.start()}')
        if not closing:
            stack.append(name)
        elif not stack or stack[-1] != name:
            raise _parse_error(
                f'Can\'t find end tag corresponding to start tag "{stack[-1] if stack else name}"'
            )
        else:
            stack.pop()
    out.append(text[pos:])
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def parse_markdown_v2(text: str) -> str:
    """Visible text of a MarkdownV2 message; unescaped reserved characters are errors."""
    out: list[str] = []
    open_marks: dict[str, int] = defaultdict(int)
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch in "*_~`|":
            open_marks[ch] += 1
        elif ch in MDV2_RESERVED:
            raise _parse_error(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.append(ch)
        i += 1
    for mark, count in open_marks.items():
        if count % 2:
            raise _parse_error(
                f"Can't find end of the entity starting at byte offset {text.find(mark)}"
            )
    return "".join(out)


def _parse_error(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {detail}")


def visible_text(text: str, parse_mode: Any) -> str:
    if parse_mode == "HTML":
        return parse_html(text)
    if parse_mode == "MarkdownV2":
        return parse_markdown_v2(text)
    if parse_mode not in (None, "", "Markdown"):
        raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode}")
    return text


def json_param(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


def entities_of(text: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    command = COMMAND_RE.match(text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
    for match in MENTION_RE.finditer(text):
        if command and match.start() < command.end():
            continue
        found.append(
            {
                "type": "mention",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return found
