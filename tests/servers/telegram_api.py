"""A loopback Telegram Bot API that rejects what Telegram rejects.

Runs a stdlib ThreadingHTTPServer on 127.0.0.1 (port 0) in a background thread. Tests push
updates (user messages, group messages, button presses, reactions, files) and read what the
bot sent. Each reply is checked as Telegram checks it: length after entity parsing, HTML and
MarkdownV2 syntax, edits that change nothing, callback data size. Faults (429 with
retry_after, 5xx) can be injected per method.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import json
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

from tests.servers.telegram_checks import (
    MAX_TEXT,
    ApiError,
    entities_of,
    json_param,
    parse_html,
    parse_markdown_v2,
    utf16_len,
    visible_text,
)

TOKEN = "123456:ABCdefGhIJKlmnoPQRstuVWxyz_0123456789"
BOT_ID = 123456
BOT_USERNAME = "hearth_test_bot"
__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "TOKEN",
    "ApiError",
    "FakeTelegram",
    "entities_of",
    "parse_html",
    "parse_markdown_v2",
    "running_telegram",
    "utf16_len",
]
ADMIN_FLAGS = (
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: Any
    from_bot: bool
    edits: int = 0
    document: tuple[str, bytes] | None = None
    media: dict[str, Any] = field(default_factory=dict)  # a user's photo or voice, as sent


class FakeTelegram:
    """State and behaviour of the fake Bot API; thread-safe, shared by all requests."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.lock = threading.Condition()
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = 1000
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], StoredMessage] = {}
        self.next_message_id: dict[int, int] = defaultdict(lambda: 1)
        self.admins: dict[int, list[int]] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self.faults: dict[str, list[tuple[int, int | None, str]]] = defaultdict(list)
        self.callbacks: dict[str, bool] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] = {"url": ""}
        self.closed = False
        self.delays: dict[str, list[float]] = defaultdict(list)

    # --- what tests do -------------------------------------------------------------------
    def push_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (update_id is assigned)."""
        with self.lock:
            update = {"update_id": self.next_update_id, **payload}
            self.next_update_id += 1
            self.updates.append(update)
            self.lock.notify_all()
            return update

    def push_message(
        self,
        chat_id: int,
        text: str = "",
        *,
        user_id: int = 1001,
        first_name: str = "Lan",
        username: str | None = None,
        chat_type: str | None = None,
        chat_title: str = "Nhà mình",
        reply_to: int | None = None,
        language_code: str | None = "vi",
        document: tuple[str, bytes, str] | None = None,
        voice: bytes | None = None,
        voice_seconds: int = 2,
        photo: bytes | None = None,
        thread_id: int | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A user's message as Telegram would deliver it (entities computed like Telegram)."""
        kind = chat_type or ("private" if chat_id > 0 else "supergroup")
        chat: dict[str, Any] = {"id": chat_id, "type": kind}
        if kind == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = chat_title
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        with self.lock:
            message_id = self._new_message_id(chat_id)
            self.messages[(chat_id, message_id)] = StoredMessage(
                chat_id, message_id, text, None, None, from_bot=False
            )
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": user,
        }
        found = entities if entities is not None else entities_of(text)
        key = "text"
        if document is not None or voice is not None or photo is not None:
            key = "caption"
        if text:
            message[key] = text
            if found:
                message[f"{key}_entities" if key == "caption" else "entities"] = found
        if document is not None:
            name, data, mime = document
            file_id = self.add_file(data, f"documents/{name}")
            message["document"] = {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_name": name,
                "mime_type": mime,
                "file_size": len(data),
            }
        if voice is not None:
            file_id = self.add_file(voice, "voice/file_1.oga")
            message["voice"] = {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "duration": voice_seconds,
                "mime_type": "audio/ogg",
                "file_size": len(voice),
            }
        if photo is not None:
            small = self.add_file(photo[:64], "photos/file_1_s.jpg")
            large = self.add_file(photo, "photos/file_1.jpg")
            message["photo"] = [
                {
                    "file_id": fid,
                    "file_unique_id": f"u{fid}",
                    "width": w,
                    "height": w,
                    "file_size": n,
                }
                for fid, w, n in ((small, 90, min(64, len(photo))), (large, 1280, len(photo)))
            ]
        with self.lock:
            stored = self.messages[(chat_id, message_id)]
            stored.media = {k: message[k] for k in ("photo", "voice") if k in message}
            if stored.media:
                stored.document = ("media", b"")  # its text is a caption
        if reply_to is not None:
            message["reply_to_message"] = self._message_json(chat, reply_to)
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        self.push_update({"message": message})
        return message

    def push_callback(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int = 1001,
        first_name: str = "Lan",
    ) -> str:
        """A button press on one of the bot's messages; returns the callback query id."""
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        with self.lock:
            query_id = f"cq{self.next_update_id}"
            self.callbacks[query_id] = False
            message = self._message_json(chat, message_id)
        self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "chat_instance": str(chat_id),
                    "data": data,
                    "message": message,
                    "from": {
                        "id": user_id,
                        "is_bot": False,
                        "first_name": first_name,
                        "language_code": "vi",
                    },
                }
            }
        )
        return query_id

    def push_reaction(self, chat_id: int, message_id: int, emoji: str, *, user_id: int = 1001):
        """Someone reacted to a message with an emoji."""
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        if chat_id < 0:
            chat["title"] = "Nhà mình"
        return self.push_update(
            {
                "message_reaction": {
                    "chat": chat,
                    "message_id": message_id,
                    "date": int(time.time()),
                    "user": {"id": user_id, "is_bot": False, "first_name": "Lan"},
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": emoji}],
                }
            }
        )

    def push_member_change(
        self, chat_id: int, user_id: int, old: str, new: str, *, by: int | None = None
    ) -> dict[str, Any]:
        """Someone's status in a group changed (`chat_member`; `my_chat_member` when the
        user is the bot): statuses as Telegram names them (creator, administrator, member,
        left, kicked)."""
        is_bot = user_id == BOT_ID
        user = {"id": user_id, "is_bot": is_bot, "first_name": "Hearth" if is_bot else "Lan"}
        actor = {"id": by or user_id, "is_bot": False, "first_name": "Owner"}
        chat = {"id": chat_id, "type": "supergroup", "title": "Nhà mình"}
        update = {
            "chat": chat,
            "from": actor,
            "date": int(time.time()),
            "old_chat_member": _member_json(old, user),
            "new_chat_member": _member_json(new, user),
        }
        return self.push_update({"my_chat_member" if is_bot else "chat_member": update})

    def add_file(self, data: bytes, file_path: str) -> str:
        """Store a file the bot may fetch with getFile + download."""
        with self.lock:
            file_id = f"F{len(self.files) + 1}"
            self.files[file_id] = (file_path.replace("_1", f"_{len(self.files) + 1}"), data)
            return file_id

    def set_admins(self, chat_id: int, user_ids: list[int]) -> None:
        """Who getChatAdministrators lists for a group."""
        with self.lock:
            self.admins[chat_id] = list(user_ids)

    def fail_next(
        self,
        method: str,
        code: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        description: str = "",
    ) -> None:
        """The next `times` calls of `method` fail (429 RetryAfter, a 5xx, or a given 400)."""
        with self.lock:
            self.faults[method].extend([(code, retry_after, description)] * times)

    def slow_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `method` take `seconds` longer (a slow Telegram)."""
        with self.lock:
            self.delays[method].extend([seconds] * times)

    async def until(self, predicate: Callable[[], bool], seconds: float = 10.0) -> None:
        """The async form of wait_for, for tests whose bot shares the event loop."""
        deadline = time.monotonic() + seconds
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {seconds}s waiting for the bot")
            await asyncio.sleep(0.02)

    def sent(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        """Calls the bot made, optionally for one method and one chat."""
        with self.lock:
            return [
                c
                for c in self.calls
                if (method is None or c.method == method)
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
            ]

    def bot_messages(self, chat_id: int) -> list[StoredMessage]:
        """The bot's messages in a chat as they look now (after edits), oldest first."""
        with self.lock:
            found = [m for m in self.messages.values() if m.chat_id == chat_id and m.from_bot]
        return sorted(found, key=lambda m: m.message_id)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Block until predicate() is true (checked after every request), or fail."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for the bot")
                self.lock.wait(min(left, 0.2))

    def answered(self, query_id: str) -> bool:
        with self.lock:
            return self.callbacks.get(query_id, False)

    # --- the API ---------------------------------------------------------------------------
    def handle(self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]]):
        """Run one Bot API method; returns its result or raises ApiError."""
        with self.lock:
            self.calls.append(Call(method, params, time.monotonic(), files))
            self.lock.notify_all()
            faults = self.faults.get(method)
            if faults:
                code, retry_after, description = faults.pop(0)
                if description:
                    raise ApiError(code, description)
                if code == 429:
                    raise ApiError(
                        429,
                        f"Too Many Requests: retry after {retry_after}",
                        {"retry_after": retry_after},
                    )
                raise ApiError(code, "Internal Server Error")
            pause = self.delays[method].pop(0) if self.delays.get(method) else 0.0
        if pause:
            time.sleep(pause)
        if method == "getUpdates":
            return self._get_updates(params)
        api = getattr(self, f"_api_{method}", None)
        if api is None:
            raise ApiError(404, "Not Found")
        with self.lock:
            result = api(params, files)
            self.lock.notify_all()
            return result

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 30.0)
        allowed = json_param(params.get("allowed_updates")) or None
        deadline = time.monotonic() + timeout
        with self.lock:
            if offset:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while True:
                ready = [u for u in self.updates if not allowed or set(u) & set(allowed)]
                left = deadline - time.monotonic()
                if ready or left <= 0 or self.closed:
                    return ready[: int(params.get("limit") or 100)]
                self.lock.wait(left)

    def _api_getMe(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Hearth",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _api_deleteWebhook(self, params: dict[str, Any], files: Any) -> bool:
        self.webhook = {"url": ""}
        return True

    def _api_setWebhook(self, params: dict[str, Any], files: Any) -> bool:
        url = str(params.get("url", ""))
        if url and not url.startswith("https://") and not url.startswith("http://127.0.0.1"):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        self.webhook = dict(params)
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }

    def _api_setMyCommands(self, params: dict[str, Any], files: Any) -> bool:
        commands = json_param(params.get("commands"))
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100 items")
        for cmd in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(cmd.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = json_param(params.get("scope")) or {"type": "default"}
        self.commands[(scope["type"], str(params.get("language_code") or ""))] = commands
        return True

    def _api_getChatAdministrators(self, params: dict[str, Any], files: Any) -> list[dict]:
        chat_id = int(params["chat_id"])
        if chat_id > 0:
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        result = []
        for i, uid in enumerate(self.admins.get(chat_id, [])):
            user = {"id": uid, "is_bot": False, "first_name": f"Admin{uid}"}
            if i == 0:
                result.append({"status": "creator", "user": user, "is_anonymous": False})
            else:
                flags = ADMIN_FLAGS
                result.append(
                    {
                        "status": "administrator",
                        "user": user,
                        **{f: f == "can_manage_chat" for f in flags},
                    }
                )
        return result

    def _api_sendChatAction(self, params: dict[str, Any], files: Any) -> bool:
        if params.get("action") not in ("typing", "upload_document", "record_voice"):
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _api_sendMessage(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        text = str(params.get("text", ""))
        parse_mode = params.get("parse_mode")
        markup = json_param(params.get("reply_markup"))
        self._check_text(text, parse_mode)
        self._check_markup(markup)
        message_id = self._new_message_id(chat_id)
        self.messages[(chat_id, message_id)] = StoredMessage(
            chat_id, message_id, text, parse_mode, markup, from_bot=True
        )
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        if chat_id < 0:
            chat["title"] = "Nhà mình"
        return self._message_json(chat, message_id)

    def _api_editMessageText(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message_id = int(params["message_id"])
        stored = self.messages.get((chat_id, message_id))
        if stored is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not stored.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        text = str(params.get("text", ""))
        parse_mode = params.get("parse_mode")
        markup = json_param(params.get("reply_markup"))
        visible = self._check_text(text, parse_mode)
        self._check_markup(markup)
        old_visible = visible_text(stored.text, stored.parse_mode)
        if visible == old_visible and markup == stored.reply_markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        stored.text, stored.parse_mode, stored.reply_markup = text, parse_mode, markup
        stored.edits += 1
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        return self._message_json(chat, message_id)

    def _api_sendDocument(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]):
        chat_id = int(params["chat_id"])
        if "document" not in files:
            raise ApiError(400, "Bad Request: there is no document in the request")
        caption = str(params.get("caption", ""))
        if caption and utf16_len(visible_text(caption, params.get("parse_mode"))) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        message_id = self._new_message_id(chat_id)
        stored = StoredMessage(
            chat_id,
            message_id,
            caption,
            params.get("parse_mode"),
            json_param(params.get("reply_markup")),
            from_bot=True,
        )
        stored.document = files["document"]
        self.messages[(chat_id, message_id)] = stored
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        return self._message_json(chat, message_id)

    def _api_sendVoice(self, params: dict[str, Any], files: dict[str, tuple[str, bytes]]):
        chat_id = int(params["chat_id"])
        if "voice" not in files:
            raise ApiError(400, "Bad Request: there is no voice in the request")
        message_id = self._new_message_id(chat_id)
        stored = StoredMessage(chat_id, message_id, "", None, None, from_bot=True)
        stored.document = files["voice"]
        stored.media = {
            "voice": {"file_id": f"V{message_id}", "file_unique_id": "v", "duration": 1}
        }
        self.messages[(chat_id, message_id)] = stored
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        return self._message_json(chat, message_id)

    def _api_answerCallbackQuery(self, params: dict[str, Any], files: Any) -> bool:
        query_id = str(params.get("callback_query_id"))
        if self.callbacks.get(query_id, True):
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callbacks[query_id] = True
        return True

    def _api_getFile(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        file_id = str(params.get("file_id"))
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, data = self.files[file_id]
        if len(data) > 20 * 1024 * 1024:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(data),
            "file_path": path,
        }

    # --- helpers ---------------------------------------------------------------------------
    def file_bytes(self, file_path: str) -> bytes | None:
        with self.lock:
            for path, data in self.files.values():
                if path == file_path:
                    return data
        return None

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self.next_message_id[chat_id]
        self.next_message_id[chat_id] = message_id + 1
        return message_id

    def _message_json(self, chat: dict[str, Any], message_id: int) -> dict[str, Any]:
        stored = self.messages.get((chat["id"], message_id))
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": chat}
        if stored is not None:
            if stored.from_bot:
                message["from"] = {
                    "id": BOT_ID,
                    "is_bot": True,
                    "first_name": "Hearth",
                    "username": BOT_USERNAME,
                }
            else:
                message["from"] = {"id": 1001, "is_bot": False, "first_name": "Lan"}
            visible = visible_text(stored.text, stored.parse_mode)
            if visible:
                message["caption" if stored.document else "text"] = visible
            if stored.reply_markup:
                message["reply_markup"] = stored.reply_markup
            message.update(stored.media)
        return message

    @staticmethod
    def _check_text(text: str, parse_mode: Any) -> str:
        visible = visible_text(text, parse_mode)
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(visible) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return visible

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if not markup:
            return
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: BUTTON_TEXT_EMPTY")


def _member_json(status: str, user: dict[str, Any]) -> dict[str, Any]:
    """A ChatMember object with the fields Telegram sends for that status."""
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "administrator":
        member.update({f: f == "can_manage_chat" for f in ADMIN_FLAGS})
    elif status == "creator":
        member["is_anonymous"] = False
    elif status == "kicked":
        member["until_date"] = 0
    return member


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls per response
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        fake = self.server.fake
        path = unquote(urlparse(self.path).path)  # clients percent-encode the token's ':'
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        file_prefix = f"/file/bot{fake.token}/"
        if path.startswith(file_prefix):
            data = fake.file_bytes(path[len(file_prefix) :])
            if data is None:
                self._send(404, b"Not Found", "text/plain")
            else:
                self._send(200, data, "application/octet-stream")
            return
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", path)
        if match is None:
            self._json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        if match.group(1) != fake.token:
            self._json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        try:
            params, files = _parse_body(self.headers.get("Content-Type", ""), body)
            params.update(dict(parse_qsl(urlparse(self.path).query)))
            result = fake.handle(match.group(2), params, files)
        except ApiError as exc:
            payload: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.parameters:
                payload["parameters"] = exc.parameters
            self._json(exc.code, payload)
            return
        self._json(200, {"ok": True, "result": result})

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        try:
            body = json.dumps(payload, ensure_ascii=False).encode()
        except UnicodeEncodeError:  # a lone surrogate: Telegram sends it as a \ud800 escape
            body = json.dumps(payload).encode()
        self._send(status, body, "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _parse_body(content_type: str, body: bytes):
    params: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if not body:
        return params, files
    if content_type.startswith("application/json"):
        return json.loads(body), files
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            assert isinstance(payload, bytes)  # a leaf part decodes to bytes
            if filename is not None:
                files[str(name)] = (filename, payload)
            else:
                params[str(name)] = payload.decode()
        return params, files
    return dict(parse_qsl(body.decode(), keep_blank_values=True)), files


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 2048
    allow_reuse_address = True

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a cancelled long poll at shutdown) is not an error."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@contextmanager
def running_telegram(token: str = TOKEN) -> Iterator[tuple[FakeTelegram, str, str]]:
    """Start the fake Bot API; yields (fake, base_url, base_file_url) for TELEGRAM_API_*."""
    fake = FakeTelegram(token)
    server = _Server(fake)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        daemon=True,
        name="fake-telegram",
    )
    thread.start()
    host, port = server.server_address[:2]
    assert isinstance(host, str)  # an AF_INET address
    try:
        yield fake, f"http://{host}:{port}/bot", f"http://{host}:{port}/file/bot"
    finally:
        with fake.lock:
            fake.closed = True
            fake.lock.notify_all()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
