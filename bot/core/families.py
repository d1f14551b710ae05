"""Families (one chat each), their members and profile."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.db import Database
from bot.core.errors import UsageError

PROFILE_KEYS = ("name", "region", "language", "kitchen", "diet", "note", "privacy")


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


class FamilyStore:
    """Create-on-first-sight families and members; every query is keyed by family id."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def ensure(
        self, platform: str, chat_id: str, kind: str, title: str | None = None
    ) -> Family:
        """The family for this chat, created the first time it writes."""
        row = await self.db.fetchone(
            "SELECT * FROM families WHERE platform = ? AND chat_id = ?", (platform, chat_id)
        )
        if row is None:
            async with self.db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO families (platform, chat_id, kind, title) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (platform, chat_id) DO NOTHING",
                    (platform, chat_id, kind, title),
                )
                cur = await conn.execute(
                    "SELECT * FROM families WHERE platform = ? AND chat_id = ?",
                    (platform, chat_id),
                )
                row = await cur.fetchone()
        assert row is not None
        return _family(row)

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
            return await self.ensure(platform, chat_id, "private")

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
        role = "admin" if chat_admin or family.kind == "private" else "member"
        keep_role = chat_admin is None and family.kind != "private"
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO members (family_id, user_id, display_name, role, language,"
                " last_seen_at) VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))"
                " ON CONFLICT (family_id, user_id) DO UPDATE SET"
                " display_name = CASE WHEN excluded.display_name != '' THEN"
                "   excluded.display_name ELSE members.display_name END,"
                " role = CASE WHEN ? THEN members.role ELSE excluded.role END,"
                " language = COALESCE(excluded.language, members.language),"
                " last_seen_at = excluded.last_seen_at",
                (family.id, user_id, display_name, role, language, keep_role),
            )
            cur = await conn.execute(
                "SELECT * FROM members WHERE family_id = ? AND user_id = ?", (family.id, user_id)
            )
            row = await cur.fetchone()
        assert row is not None
        return Member(
            row["id"],
            row["family_id"],
            row["user_id"],
            row["display_name"],
            row["role"],
            row["language"],
        )

    async def profile(self, family_id: int) -> dict[str, str]:
        """The family's profile as key → value."""
        rows = await self.db.fetchall(
            "SELECT key, value FROM family_profile WHERE family_id = ?", (family_id,)
        )
        return {r["key"]: r["value"] for r in rows}

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
