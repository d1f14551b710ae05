"""What a change of membership in a group chat means for the stored family, at once.

Telegram tells a bot when someone is promoted, demoted or leaves (`chat_member`) and when
the bot itself is removed or added (`my_chat_member`); without these a demoted admin kept
curating until the next admin lookup, and a removed bot kept answering into the void.
"""

from __future__ import annotations

import logging

from bot.store.db import Database

log = logging.getLogger(__name__)

FAMILY = "SELECT id FROM families WHERE platform = ? AND chat_id = ? AND kind = 'group'"


class Membership:
    """Stored roles and pending messages follow the group's membership."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def role_changed(self, platform: str, chat_id: str, user_id: str, admin: bool) -> None:
        """A member was promoted or demoted (or left): their stored role follows now."""
        await self.db.execute(
            f"UPDATE members SET role = ? WHERE family_id = ({FAMILY}) AND user_id = ?",
            ("admin" if admin else "member", platform, chat_id, user_id),
        )

    async def bot_removed(self, platform: str, chat_id: str) -> None:
        """The bot was removed from a group: what waits there is not answered later."""
        await self.db.execute(
            f"UPDATE messages SET status = 'ignored' WHERE family_id = ({FAMILY})"
            " AND status = 'pending'",
            (platform, chat_id),
        )
        log.info("%s chat %s removed the bot: nothing more is sent there", platform, chat_id)
