"""Optional semantic search: endpoint embeddings stored as float32 blobs, searched with numpy.

The endpoint is the only source of embeddings. When it has no `/embeddings` (the embedder
returns None or fails) vectors switch off for a while and search is BM25 alone — silently
for the user, one DEBUG line in the log.
"""

from __future__ import annotations

import hashlib
import logging
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence

import aiosqlite
import numpy as np

from bot.store.db import Database
from knowledge.embed_batch import EmbedBatcher
from knowledge.indexing import json_list
from knowledge.reload_gate import ReloadGate

log = logging.getLogger(__name__)

Embedder = Callable[[list[str]], Awaitable[list[list[float]] | None]]
GEN_KEY = "kb_vectors_gen"
RETRY_AFTER_S = 300.0
BATCH = 64
# How stale the cached index may be for another process's writes (`hearth kb` while the
# bot runs); this process's own writes are seen at once. Checked per search, the version
# cost a database round trip on every question.
GEN_CHECK_S = 1.0
QUERY_CACHE = 256  # recent query embeddings kept: a repeated question costs no endpoint call


def entry_text(row: object) -> str:
    """What is embedded for an entry: title, aliases, tags and the start of the body."""
    r = row  # sqlite3.Row
    parts = [r["title"], ", ".join(json_list(r["aliases"])), ", ".join(json_list(r["tags"]))]  # type: ignore[index]
    return "\n".join([p for p in parts if p] + [str(r["body"])[:1500]])  # type: ignore[index]


class VectorIndex:
    """Embeds entries after they are written and answers nearest-neighbour queries."""

    def __init__(self, db: Database, embedder: Embedder | None) -> None:
        self.db = db
        self.embedder = embedder
        self._off_until = 0.0
        self._gen: str | None = None
        self._gate = ReloadGate(lambda: GEN_CHECK_S)
        self._ids = np.zeros(0, dtype=np.int64)
        self._fams = np.zeros(0, dtype=np.int64)
        self._mat = np.zeros((0, 0), dtype=np.float32)
        # query text -> its unit vector; only the question's own text, never family data
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._batcher = EmbedBatcher(self._embed)

    @property
    def enabled(self) -> bool:
        """An embedder exists and has not failed recently."""
        return self.embedder is not None and time.monotonic() >= self._off_until

    async def _embed(self, texts: list[str]) -> np.ndarray | None:
        if not self.enabled or not texts:
            return None
        assert self.embedder is not None
        try:
            result = await self.embedder(texts)
        except Exception as exc:  # any endpoint failure means: BM25 only for a while
            log.debug("embeddings unavailable (%s); using BM25 only", type(exc).__name__)
            result = None
        if result is None or len(result) != len(texts) or not result or not result[0]:
            self._off_until = time.monotonic() + RETRY_AFTER_S
            return None
        mat = np.asarray(result, dtype=np.float32)
        norms = np.linalg.norm(mat, axis=1, keepdims=True)
        return mat / np.where(norms == 0, 1.0, norms)

    async def embed_entries(self, entry_ids: Sequence[int], family_id: int | None = None) -> int:
        """Embed approved entries whose text changed; returns how many vectors were written."""
        if not self.enabled or not entry_ids:
            return 0
        written = 0
        for start in range(0, len(entry_ids), BATCH):
            chunk = list(entry_ids[start : start + BATCH])
            marks = ",".join("?" * len(chunk))
            rows = await self.db.fetchall(
                "SELECT e.*, v.text_hash FROM entries e LEFT JOIN entry_vectors v"
                f" ON v.entry_id = e.id WHERE e.id IN ({marks}) AND e.status = 'approved'"
                " AND (e.family_id IS NULL OR e.family_id = ? OR ? IS NULL)",
                [*chunk, family_id, family_id],
            )
            todo = []
            for r in rows:
                text = entry_text(r)
                digest = hashlib.sha256(text.encode()).hexdigest()[:32]
                if digest != r["text_hash"]:
                    todo.append((r["id"], r["family_id"], text, digest))
            mat = await self._embed([t[2] for t in todo])
            if mat is None:
                return written
            async with self.db.transaction() as conn:
                await conn.executemany(
                    "INSERT INTO entry_vectors (entry_id, family_id, dim, text_hash, vec)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (entry_id) DO UPDATE SET"
                    " family_id = excluded.family_id, dim = excluded.dim,"
                    " text_hash = excluded.text_hash, vec = excluded.vec,"
                    " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                    [
                        (eid, fam, mat.shape[1], digest, mat[i].tobytes())
                        for i, (eid, fam, _text, digest) in enumerate(todo)
                    ],
                )
                await self._bump(conn)
            written += len(todo)
        return written

    async def backfill(self, limit: int = 256) -> int:
        """Embed approved entries that have no vector yet (e.g. added while offline)."""
        if not self.enabled:
            return 0
        rows = await self.db.fetchall(
            "SELECT e.id FROM entries e LEFT JOIN entry_vectors v ON v.entry_id = e.id"
            " WHERE e.status = 'approved' AND v.entry_id IS NULL LIMIT ?",
            (limit,),
        )
        return await self.embed_entries([r["id"] for r in rows])

    async def forget(self, conn: aiosqlite.Connection, entry_id: int) -> None:
        """Drop an entry's vector inside the caller's transaction (it left the index)."""
        cur = await conn.execute("DELETE FROM entry_vectors WHERE entry_id = ?", (entry_id,))
        if cur.rowcount:
            await self._bump(conn)

    async def _bump(self, conn: aiosqlite.Connection) -> None:
        self._gate.stale()  # (a search racing this commit may see it up to GEN_CHECK_S late)
        await conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET"
            " value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
            (GEN_KEY,),
        )

    async def _load(self) -> None:
        await self._gate.ensure(self._reload)

    async def _reload(self) -> None:
        gen = await self.db.scalar("SELECT value FROM meta WHERE key = ?", (GEN_KEY,))
        if gen == self._gen:
            return
        # The whole vector index is cached in memory and masked per family at query time.
        rows = await self.db.fetchall("SELECT entry_id, family_id, dim, vec FROM entry_vectors")
        dims = [r["dim"] for r in rows]
        dim = max(set(dims), key=dims.count) if dims else 0
        rows = [r for r in rows if r["dim"] == dim]
        self._ids = np.array([r["entry_id"] for r in rows], dtype=np.int64)
        self._fams = np.array(
            [-1 if r["family_id"] is None else r["family_id"] for r in rows], dtype=np.int64
        )
        self._mat = (
            np.frombuffer(b"".join(r["vec"] for r in rows), dtype=np.float32).reshape(
                len(rows), dim
            )
            if rows
            else np.zeros((0, 0), dtype=np.float32)
        )
        self._gen = gen

    async def _query_vector(self, query: str) -> np.ndarray | None:
        """The query's embedding, from the small LRU when this exact text was asked lately."""
        key = " ".join(unicodedata.normalize("NFC", query).split())
        hit = self._queries.get(key)
        if hit is not None:
            self._queries.move_to_end(key)
            return hit
        qmat = await self._batcher.one(query)  # shares a request with concurrent questions
        if qmat is not None:
            self._queries[key] = qmat
            if len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return qmat

    async def nearest(
        self, query: str, family_id: int | None, k: int = 20, min_cos: float = 0.2
    ) -> list[tuple[int, float]] | None:
        """(entry id, cosine) best first among entries this family sees; None: no vectors."""
        if not self.enabled:
            return None
        await self._load()
        if self._mat.shape[0] == 0:
            return []  # nothing to compare with: spare the endpoint a query embedding
        qmat = await self._query_vector(query)
        if qmat is None:
            return None
        if self._mat.shape[1] != qmat.shape[1]:
            return []
        mask = (self._fams == -1) | (self._fams == (-2 if family_id is None else family_id))
        idx = np.nonzero(mask)[0]
        if idx.size == 0:
            return []
        sims = self._mat[idx] @ qmat[0]
        order = np.argsort(-sims)[:k]
        return [(int(self._ids[idx[i]]), float(sims[i])) for i in order if sims[i] >= min_cos]
