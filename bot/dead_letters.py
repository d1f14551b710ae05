"""Updates and messages Hearth could not read: one log line each and a row `hearth logs`
shows, instead of a traceback and a retry at every start."""

from __future__ import annotations

import logging
from typing import Any

from bot.store.db import Database

log = logging.getLogger(__name__)

INSERT = "INSERT INTO dead_letters (platform, family_id, ref, reason) VALUES (?, ?, ?, ?)"


class DeadLetters:
    """Where adapters and the pipeline put what they drop."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def drop(
        self, platform: str, ref: str, reason: str, family_id: int | None = None
    ) -> None:
        """Log one line and keep a row; never raises (it runs on the way out of a failure)."""
        log.warning("%s update %s dropped: %s", platform, ref, reason)
        try:
            await self.db.execute(INSERT, (platform, family_id, ref, reason))
        except Exception:
            log.exception("could not record the dropped %s update %s", platform, ref)

    async def recent(self, family_id: int | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The newest dead letters (of one family, or all), newest first."""
        where, params = ("WHERE family_id = ?", (family_id,)) if family_id is not None else ("", ())
        rows = await self.db.fetchall(
            "SELECT id, platform, family_id, ref, reason, created_at FROM dead_letters"
            f" {where} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return [dict(r) for r in rows]

    async def count(self, family_id: int | None = None) -> int:
        """How many there are (of one family, or all)."""
        where, params = ("WHERE family_id = ?", (family_id,)) if family_id is not None else ("", ())
        return int(await self.db.scalar(f"SELECT count(*) FROM dead_letters {where}", params) or 0)
