"""Families (one chat each), their members and profile."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bot.core.errors import UsageError
from bot.store.db import Database

PROFILE_KEYS = (
    "name",
    "region",
    "language",
    "kitchen",
    "diet",
    "note",
    "privacy",
    "timezone",
    "voice",
)
SEEN_REFRESH = "-60 seconds"  # last_seen_at is rewritten at most once a minute per member
T = TypeVar("T")

FAMILY_BY_CHAT = "SELECT * FROM families WHERE platform = ? AND chat_id = ?"
MEMBER_UPSERT = (
    "INSERT INTO members (family_id, user_id, display_name, role, language, last_seen_at)"
    " VALUES (:fid, :uid, :name, :role, :lang, strftime('%Y-%m-%dT%H:%M:%fZ','now'))"
    " ON CONFLICT (family_id, user_id) DO UPDATE SET"
    " display_name = CASE WHEN excluded.display_name != '' THEN"
    "   excluded.display_name ELSE members.display_name END,"
    " role = CASE WHEN :keep THEN members.role ELSE excluded.role END,"
    " language = COALESCE(excluded.language, members.language),"
    " last_seen_at = excluded.last_seen_at"
    # nothing changed and seen within the minute: no write at all (the common case)
    " WHERE members.display_name IS NOT (CASE WHEN excluded.display_name != '' THEN"
    "   excluded.display_name ELSE members.display_name END)"
    " OR members.role IS NOT (CASE WHEN :keep THEN members.role ELSE excluded.role END)"
    " OR members.language IS NOT COALESCE(excluded.language, members.language)"
    " OR members.last_seen_at IS NULL"
    f" OR members.last_seen_at < strftime('%Y-%m-%dT%H:%M:%fZ','now','{SEEN_REFRESH}')"
)


@dataclass(frozen=True, slots=True)
class Family:
    """One chat on one platform."""

    id: int
    platform: str
    chat_id: str
    kind: str
    name: str | None
    greeted: bool

    @property
    def key(self) -> str:
        """`platform:chat_id`, the form the CLI accepts."""
        return f"{self.platform}:{self.chat_id}"


@dataclass(frozen=True, slots=True)
class Member:
    """A person in a family, with their role there."""

    id: int
    family_id: int
    user_id: str
    display_name: str
    role: str
    language: str | None


def _family(row: object) -> Family:
    r = row  # sqlite3.Row
    return Family(r["id"], r["platform"], r["chat_id"], r["kind"], r["name"], bool(r["greeted"]))  # type: ignore[index]


def _member(r: Any) -> Member:
    return Member(
        r["id"], r["family_id"], r["user_id"], r["display_name"], r["role"], r["language"]
    )


@dataclass(frozen=True, slots=True)
class Who:
    """Who wrote: the chat and the person, as the messenger described them."""

    platform: str
    chat_id: str
    kind: str
    title: str | None
    user_id: str
    display_name: str
    chat_admin: bool | None = False
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Arrival(Generic[T]):
    """What one `arrive` transaction read and wrote."""

    family: Family
    member: Member
    profile: dict[str, str]
    result: T


def kind_from_chat_id(platform: str, chat_id: str) -> str:
    """The kind a chat id alone tells, for paths with no message in hand (a CLI import).

    Telegram's group and channel ids are negative, private chats are the user's positive id;
    the console is one person. Where the id tells nothing (Zalo), a family starts as a
    group — nobody is an admin by being a member — until its first message says.
    """
    if platform == "telegram":
        return "group" if chat_id.startswith("-") else "private"
    if platform == "console":
        return "private"
    return "group"


def _no_members(conn: sqlite3.Connection, family_id: int) -> bool:
    return (
        conn.execute("SELECT 1 FROM members WHERE family_id = ?", (family_id,)).fetchone() is None
    )


def ensure_in(
    conn: sqlite3.Connection, platform: str, chat_id: str, kind: str, title: str | None
) -> Family:
    """The family row for a chat, inserted if missing (inside the caller's transaction).

    `kind` is the platform's word on this chat (a message's chat type), and it wins over
    the kind stored by whichever path created the family first: a chat the platform calls
    a group is one at once; a family becomes private only on its first message (before it
    has members), so a message without a chat type can never open a group up.
    """
    row = conn.execute(FAMILY_BY_CHAT, (platform, chat_id)).fetchone()
    if row is None:
        conn.execute(
            "INSERT INTO families (platform, chat_id, kind, title) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (platform, chat_id) DO NOTHING",
            (platform, chat_id, kind, title),
        )
        row = conn.execute(FAMILY_BY_CHAT, (platform, chat_id)).fetchone()
    elif row["kind"] != kind and (kind == "group" or _no_members(conn, row["id"])):  # type: ignore[index]
        conn.execute("UPDATE families SET kind = ? WHERE id = ?", (kind, row["id"]))  # type: ignore[index]
        row = conn.execute(FAMILY_BY_CHAT, (platform, chat_id)).fetchone()
    assert row is not None
    return _family(row)


def member_in(
    conn: sqlite3.Connection,
    family: Family,
    user_id: str,
    display_name: str,
    chat_admin: bool | None,
    language: str | None,
) -> Member:
    """Upsert a member (a no-op unless something changed), then read the row back."""
    role = "admin" if chat_admin or family.kind == "private" else "member"
    keep_role = chat_admin is None and family.kind != "private"
    conn.execute(
        MEMBER_UPSERT,
        {
            "fid": family.id,
            "uid": user_id,
            "name": display_name,
            "role": role,
            "lang": language,
            "keep": keep_role,
        },
    )
    row = conn.execute(
        "SELECT * FROM members WHERE family_id = ? AND user_id = ?", (family.id, user_id)
    ).fetchone()
    assert row is not None
    return _member(row)


def profile_in(conn: sqlite3.Connection, family_id: int) -> dict[str, str]:
    """The family's profile as key → value."""
    rows = conn.execute(
        "SELECT key, value FROM family_profile WHERE family_id = ?", (family_id,)
    ).fetchall()
    return {r[0]: r[1] for r in rows}


class FamilyStore:
    """Create-on-first-sight families and members; every query is keyed by family id."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def arrive(
        self, who: Who, then: Callable[[sqlite3.Connection, Family, Member], T]
    ) -> Arrival[T]:
        """Family, member, profile and the caller's own writes (`then`) in ONE transaction.

        One job on the database thread instead of one per statement; nothing is cached,
        so a change by /family, /deletefamily or another process is seen at once.
        """

        def work(conn: sqlite3.Connection) -> Arrival[T]:
            family = ensure_in(conn, who.platform, who.chat_id, who.kind, who.title)
            member = member_in(
                conn, family, who.user_id, who.display_name, who.chat_admin, who.language
            )
            profile = profile_in(conn, family.id)
            return Arrival(family, member, profile, then(conn, family, member))

        return await self.db.write(work)

    async def ensure(
        self, platform: str, chat_id: str, kind: str, title: str | None = None
    ) -> Family:
        """The family for this chat, created the first time it writes."""
        row = await self.db.fetchone(FAMILY_BY_CHAT, (platform, chat_id))
        if row is not None:
            return _family(row)
        return await self.db.write(lambda conn: ensure_in(conn, platform, chat_id, kind, title))

    async def get(self, family_id: int) -> Family | None:
        """A family by id."""
        row = await self.db.fetchone("SELECT * FROM families WHERE id = ?", (family_id,))
        return None if row is None else _family(row)

    async def resolve(self, ref: str) -> Family:
        """Find a family by `platform:chat_id` or by the name set with /family set name."""
        if ":" in ref:
            platform, _, chat_id = ref.partition(":")
            row = await self.db.fetchone(
                "SELECT * FROM families WHERE platform = ? AND chat_id = ?", (platform, chat_id)
            )
            if row is not None:
                return _family(row)
        rows = await self.db.fetchall(
            "SELECT * FROM families WHERE name = ? COLLATE NOCASE", (ref,)
        )
        if len(rows) == 1:
            return _family(rows[0])
        if len(rows) > 1:
            raise UsageError(f"family name {ref!r} is ambiguous; use platform:chat_id")
        raise UsageError(f"no family {ref!r} (use platform:chat_id or the family's name)")

    async def resolve_or_create(self, ref: str) -> Family:
        """For CLI imports into a family that has not chatted yet (`platform:chat_id`)."""
        try:
            return await self.resolve(ref)
        except UsageError:
            if ":" not in ref:
                raise
            platform, _, chat_id = ref.partition(":")
            if not platform or not chat_id:
                raise
            return await self.ensure(platform, chat_id, kind_from_chat_id(platform, chat_id))

    async def member(
        self,
        family: Family,
        user_id: str,
        display_name: str,
        *,
        chat_admin: bool | None = False,
        language: str | None = None,
    ) -> Member:
        """Upsert a member; the owner of a private chat and chat admins are admins.

        `chat_admin=None` means the platform did not say (a button press): an existing
        member keeps the role they have.
        """
        return await self.db.write(
            lambda conn: member_in(conn, family, user_id, display_name, chat_admin, language)
        )

    async def profile(self, family_id: int) -> dict[str, str]:
        """The family's profile as key → value."""
        return await self.db.read(lambda conn: profile_in(conn, family_id))

    async def set_profile(self, family_id: int, key: str, value: str) -> None:
        """Set one profile key (an empty value clears it); `name` also names the family."""
        if key not in PROFILE_KEYS:
            raise UsageError(
                f"Khóa không hợp lệ: {key}. Dùng một trong: {', '.join(PROFILE_KEYS)}",
                f"Unknown key: {key}. Use one of: {', '.join(PROFILE_KEYS)}",
            )
        async with self.db.transaction() as conn:
            if value:
                await conn.execute(
                    "INSERT INTO family_profile (family_id, key, value) VALUES (?, ?, ?)"
                    " ON CONFLICT (family_id, key) DO UPDATE SET value = excluded.value,"
                    " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')",
                    (family_id, key, value),
                )
            else:
                await conn.execute(
                    "DELETE FROM family_profile WHERE family_id = ? AND key = ?", (family_id, key)
                )
            if key == "name":
                await conn.execute(
                    "UPDATE families SET name = ? WHERE id = ?", (value or None, family_id)
                )

    async def mark_greeted(self, family_id: int) -> None:
        """Remember that the first-run greeting was shown."""
        await self.db.execute("UPDATE families SET greeted = 1 WHERE id = ?", (family_id,))
