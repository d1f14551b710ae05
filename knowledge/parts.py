"""What bulk work (imports, exports, the starter pack) needs of a knowledge base.

A protocol, so knowledge/transfer.py and knowledge/starter.py take the parts they use
without importing the store that uses them (no import circle).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.store.db import Database
    from knowledge.rows import EntryWriter
    from knowledge.vectors import VectorIndex


class KBParts(Protocol):
    """The database, the entry writer and the vector index of one knowledge base."""

    @property
    def db(self) -> Database: ...

    @property
    def writer(self) -> EntryWriter: ...

    @property
    def vectors(self) -> VectorIndex: ...
