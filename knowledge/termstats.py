"""Document frequencies of indexed terms, cached, so ranking can skip very common terms.

FTS5's bm25() counts every document of every query term to compute IDF, so one syllable
found in half of 100k entries costs milliseconds on every query. Terms that common carry
almost no ranking signal; search leaves them out of the ranked query when rarer terms (or
bigrams such as `ca_kho`) are present, and ranks the rest itself. Counting stops at the
"common" threshold, so looking a term up never costs more than reading that many ids.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from bot.store.db import Database
from knowledge.normalize import deletions, within_one_edit

TTL_S = 600.0
ZERO_TTL_S = 30.0  # "not indexed" is remembered briefly; this process's writes clear it
COMMON_MIN_DOCS = 1000
COMMON_FRACTION = 0.02
MAX_CACHED = 200_000
HEAD_KEY = "^"  # cache key prefix of a title/tag count ("^" never occurs in a term)
HEAD_COLUMNS = "{head tags fhead ftags}"
MAX_VARIANT_ROWS = 50  # indexed syllables read per unknown token


COUNT_SQL = (
    "SELECT ? AS t, (SELECT count(*) FROM (SELECT 1 FROM entries_fts"
    " WHERE entries_fts MATCH ? LIMIT ?)) AS d"
)
HEAD_COUNT_SQL = COUNT_SQL.replace("MATCH ?", f"MATCH '{HEAD_COLUMNS} : ' || ?")
# a common term's title/tag share from its first HEAD_SAMPLE entries' own text: counting
# title matches of a syllable found mostly in bodies would column-check every entry
# holding it (36k entries: 1-2 ms), the sample costs 0.2 ms whatever the term
HEAD_SAMPLE = 32
HEAD_SAMPLE_SQL = (
    "SELECT ? AS t, (SELECT count(*) FROM entries_fts c WHERE c.rowid IN (SELECT rowid"
    " FROM entries_fts WHERE entries_fts MATCH ? LIMIT ?) AND instr(' ' || c.head || ' '"
    " || c.tags || ' ' || c.fhead || ' ' || c.ftags || ' ', ?) > 0) * ? / ? AS d"
)


def _quote(key: str) -> str:
    # terms are [a-z0-9_] syllables or letters-only accented syllables: safe to quote
    return '"' + key.removeprefix(HEAD_KEY).replace('"', "") + '"'


def _count(key: str, cap: int, common: bool) -> tuple[str, list[object]]:
    """SQL and parameters counting one cache key's documents (see `TermStats.df`)."""
    term = _quote(key)
    if not key.startswith(HEAD_KEY):
        return COUNT_SQL, [key, term, cap + 1]
    if common:
        word = f" {key.removeprefix(HEAD_KEY)} "
        return HEAD_SAMPLE_SQL, [key, term, HEAD_SAMPLE, word, cap + 1, HEAD_SAMPLE]
    return HEAD_COUNT_SQL, [key, term, cap + 1]


class TermStats:
    """`df(terms)` with one query for the terms not yet cached; refreshed every ten minutes."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._df: dict[str, int] = {}
        self._zero: dict[str, float] = {}
        self._near: dict[str, tuple[float, list[str]]] = {}
        self._size = 0
        self._at = 0.0

    async def _fresh(self) -> None:
        if time.monotonic() - self._at > TTL_S or len(self._df) > MAX_CACHED:
            self._df.clear()
            self._zero.clear()
            self._near.clear()
            size = await self.db.scalar("SELECT max(rowid) FROM entries_fts")
            self._size = int(size or 0)
            self._at = time.monotonic()

    async def common_cap(self) -> int:
        """Terms in more documents than this are too common to rank by."""
        await self._fresh()
        return max(COMMON_MIN_DOCS, int(self._size * COMMON_FRACTION))

    async def df(self, terms: Iterable[str], *, head: bool = False) -> dict[str, int]:
        """How many indexed entries contain each term (0: none; capped just above
        `common_cap()`, which is all ranking needs to know); `head`: how many of those
        hold it in a title or tag (estimated from a sample for a term above the cap, whose
        count must be looked up first)."""
        cap = await self.common_cap()
        found = await self._lookup([HEAD_KEY + t if head else t for t in dict.fromkeys(terms)], cap)
        return {k.removeprefix(HEAD_KEY) if head else k: v for k, v in found.items()}

    async def _lookup(self, wanted: list[str], cap: int) -> dict[str, int]:
        now = time.monotonic()
        missing = [
            t for t in wanted if t not in self._df and now - self._zero.get(t, -1e9) > ZERO_TTL_S
        ]
        for start in range(0, len(missing), 200):
            chunk = missing[start : start + 200]
            common = {t: self._df.get(t.removeprefix(HEAD_KEY), 0) > cap for t in chunk}
            parts = [_count(t, cap, common[t]) for t in chunk]
            sql = " UNION ALL ".join(q for q, _ in parts)
            params = [v for _, ps in parts for v in ps]
            rows = await self.db.fetchall(sql, params)
            for r in rows:
                if r["d"]:
                    self._df[r["t"]] = int(r["d"])
                else:
                    self._zero[r["t"]] = now
        return {t: self._df.get(t, 0) for t in wanted}

    async def neighbours(self, tokens: list[str]) -> dict[str, list[str]]:
        """Indexed syllables one edit away from each token (typo candidates), one query for
        the tokens not yet cached; remembered like "not indexed" (briefly, cleared on write)."""
        now = time.monotonic()
        missing = [
            t for t in dict.fromkeys(tokens) if now - self._near.get(t, (-1e9,))[0] > ZERO_TTL_S
        ]
        if missing:
            probes = {t: sorted({t} | deletions(t)) for t in missing}
            union = sorted({p for ps in probes.values() for p in ps})
            marks = ",".join("?" * len(union))
            rows = await self.db.fetchall(
                f"SELECT variant, term FROM kb_term_variants WHERE variant IN ({marks})"
                f" LIMIT {MAX_VARIANT_ROWS * len(missing)}",
                union,
            )
            by_variant: dict[str, list[str]] = {}
            for r in rows:
                by_variant.setdefault(r["variant"], []).append(r["term"])
            for t in missing:
                found = [x for p in probes[t] for x in by_variant.get(p, ())]
                close = [x for x in dict.fromkeys(found) if within_one_edit(t, x)]
                self._near[t] = (now, close[:MAX_VARIANT_ROWS])
        return {t: self._near[t][1] for t in tokens}

    def written(self) -> None:
        """An entry was indexed here: terms that were missing may exist now."""
        self._zero.clear()
        self._near.clear()

    def forget(self) -> None:
        """Drop the whole cache."""
        self._at = 0.0
        self._zero.clear()
        self._near.clear()
