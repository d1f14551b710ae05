"""Search the way families type: folded syllables, phrase bigrams, typo neighbours, BM25.

The user's text never reaches FTS5 syntax: it is reduced to ASCII syllables (plus accented
syllables made only of letters), each quoted, so quotes, `*`, `NEAR(` or `-` are just text.
Scope is matched inside the index: global entries live in the columns `head` … `exact`,
a family's in `fhead` … `fexact` together with its token `zf<id>`, so another family's
entries are never even candidates; the SQL filters `family_id IS NULL OR family_id = ?` too.

Cost: FTS5's bm25() reads the whole document list of every query term and scores every
matching row, so the ranked query takes the rarest terms (bigrams first, they are rarer
than their syllables) up to RANK_BUDGET documents; the rest only widen the unranked fallback.

`SearchHit.strong` (the verbatim threshold): the entry's title or one alias, as folded
syllables, occurs whole in the question (titles of two or more syllables, or a one-syllable
title that *is* the whole question), or the question's topic words (two or more) occur
contiguously in the title/alias and cover at least 60% of it. `verbatim_match` quotes an
entry only when it is the top hit, strong, and marked verbatim.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from typing import Any

from bot.store.db import Database, packed_rows
from knowledge.normalize import (
    accented,
    contains_phrase,
    content_tokens,
    fold,
    syllables,
    unique,
)
from knowledge.question import analyse
from knowledge.rows import row_to_entry
from knowledge.search_sql import (
    RANK_COLUMNS,
    fallback_sql,
    ranked_sql,
    scoped,
    scoped_parts,
)
from knowledge.search_text import EntryText, row_text, snippet
from knowledge.selection import TITLE_KEYS, family_first
from knowledge.termstats import TermStats
from knowledge.types import SearchHit
from knowledge.vectors import VectorIndex

MAX_QUERY_CHARS = 1000
MAX_TOKENS = 32
RRF_K = 60.0
RANK_BUDGET = 600  # documents bm25 may read per query (summed document frequencies)
RANK_SINGLE_MAX = 1000  # … or for the one rarest term
TRANSLATION_WEIGHT = 1.5  # a whole phrase in the other language says more than its words …
SYNONYM_WEIGHT = 0.5  # … another word for them in the same language, half
FAMILY_SLACK = 8  # extra candidates read so a family version can pass the shared one
NAMESAKE_HITS = 2  # shared hits whose names may find the family's version of them

TITLE_SCAN_MAX = 300  # entries a title-only match may skip per term (holding it elsewhere)
HEAD_FIELDS = ("head", "tags")


async def typo_alternatives(
    stats: TermStats, tokens: list[str], df: dict[str, int]
) -> list[list[str]]:
    """For each token, itself plus indexed syllables one edit away when it is not indexed."""
    unknown = [t for t in tokens if len(t) >= 3 and not df.get(t)]
    near = await stats.neighbours(unknown) if unknown else {}
    live = await stats.df([c for t in unknown for c in near[t]])
    out: list[list[str]] = []
    for tok in tokens:
        close = sorted(
            (t for t in near.get(tok, ()) if live[t]),
            key=lambda t: (abs(len(t) - len(tok)), -live[t], t),
        )
        out.append([tok, *close[:3]])
    return out


def query_terms(tokens: list[str], alternatives: list[list[str]], accents: list[str]) -> list[str]:
    """Every term worth asking the index for: syllables, typo neighbours, bigrams, accents
    (no pair of two stopwords such as `the_nao`, no accented stopword such as `nào`: each
    costs a document count and a bm25 phrase, and says nothing about the topic)."""
    topic = tokens_content(tokens)
    alt_of = {tok: alts for tok, alts in zip(topic, alternatives, strict=False)}
    terms: list[str] = [a for alts in alternatives for a in alts]
    expanded = [alt_of.get(t, [t]) for t in tokens]
    for (lt, left), (rt, right) in itertools.pairwise(zip(tokens, expanded, strict=True)):
        if lt in alt_of or rt in alt_of:
            terms += [f"{a}_{b}" for a in left for b in right]
    stop = set(tokens).difference(alt_of)
    return unique(terms + [a for a in accents if fold(a) not in stop])


def match_expression(
    tokens: list[str], alternatives: list[list[str]], accents: list[str], family_id: int | None
) -> str | None:
    """The FTS5 query: scope AND (any syllable, typo neighbour, bigram or accented form)."""
    return scoped(query_terms(tokens, alternatives, accents), family_id)


def tokens_content(tokens: list[str]) -> list[str]:
    """Topic syllables of a query, capped so one long message stays one cheap query."""
    return unique(content_tokens(tokens))[:MAX_TOKENS]


def is_strong(query_tokens: list[str], text: EntryText) -> bool:
    """The verbatim threshold (see the module docstring)."""
    core = tokens_content(query_tokens)
    for p in (text.title, *text.aliases):
        if not p:
            continue
        if p in (core, query_tokens):
            return True
        if len(p) >= 2 and contains_phrase(query_tokens, p):
            return True
        if len(core) >= 2 and contains_phrase(p, core) and len(core) >= 0.6 * len(p):
            return True
    return False


def _rank_bonus(query_tokens: list[str], core: list[str], row: Any) -> float:
    """Small nudges BM25 cannot see: the title phrase in the question, or the question's
    topic words as one run inside the title (more for the title than for an alias)."""
    text = row_text(row)
    title = text.title
    bonus = 0.0
    if title and title in (core, query_tokens):
        bonus += 5.0  # the question is exactly this entry's title
    elif any(a in (core, query_tokens) for a in text.aliases):
        bonus += 4.0  # … or exactly one of its aliases
    elif len(title) >= 2 and contains_phrase(query_tokens, title):
        bonus += 2.0
    elif len(core) >= 2 and contains_phrase(title, core):
        bonus += 3.0 * len(core) / len(title)
    elif len(core) >= 2 and any(contains_phrase(a, core) for a in text.aliases):
        bonus += 0.3
    if row["family_id"] is not None:
        bonus += 1.5  # the family's own version beats the shared one
    if text.glossary:
        bonus -= 1.5  # definitions are served by glossary_for; recipes answer questions
    return bonus


async def lexical_hits(
    db: Database,
    stats: TermStats,
    text: str,
    family_id: int | None,
    limit: int,
    expansions: Sequence[str] = (),
    synonyms: Sequence[str] = (),
) -> list[tuple[Any, float]]:
    """BM25 over the terms rare enough to rank by; the common rest ranked here, cheaply.

    `expansions` are index terms of the question's words in the other language, `synonyms`
    of other words for them in its own (the lexicon's): each set is ranked on its own and
    an entry scores the best of them, so an English question finds the Vietnamese entry
    as readily as an English one, and a synonym never outweighs the word typed."""
    tokens = syllables(text)[: MAX_TOKENS * 2]
    content = tokens_content(tokens)
    if not content:
        return []
    accents = unique(accented(text))[:MAX_TOKENS]
    base = query_terms(tokens, [[t] for t in content], accents)
    df = await stats.df(base)
    alternatives = await typo_alternatives(stats, content, df)
    terms = query_terms(tokens, alternatives, accents)
    translations = [t for t in unique(expansions) if t not in terms]
    synonyms_ = [t for t in unique(synonyms) if t not in terms and t not in translations]
    extra = [t for t in (*terms, *translations, *synonyms_) if t not in df]
    if extra:
        df.update(await stats.df(extra))
    live = [t for t in terms if df[t]]
    cap = await stats.common_cap()
    rare = within_budget([t for t in live if df[t] <= cap], df)
    sets = [
        (weight, within_budget([t for t in group if 0 < df[t] <= cap], df))
        for weight, group in (
            (1.0, rare),
            (TRANSLATION_WEIGHT, translations),
            (SYNONYM_WEIGHT, synonyms_),
        )
    ]
    want = max(limit * 4, 20)
    scored: dict[int, tuple[Any, float]] = {}
    queries = [
        (w, {f"q{g}{n}": e for n, e in enumerate(scoped_parts(ts, family_id))})
        for g, (w, ts) in enumerate(sets)
        if ts
    ]
    if queries:
        sql = " UNION ALL ".join(
            f"SELECT {g} AS src, * FROM ({ranked_sql(list(names))})"
            for g, (_, names) in enumerate(queries)
        )
        params = {k: v for _, names in queries for k, v in names.items()}
        rows = await db.fetchall_packed(sql, {**params, "fam": family_id, "lim": want})
        bm25: dict[int, list[Any]] = {}
        for r in rows:  # the best of the groups: words and their other forms never add up
            got = bm25.setdefault(r["id"], [r, 0.0])
            got[1] = max(got[1], -r["rank"] * queries[r["src"]][0])
        for row, total in bm25.values():
            scored[row["id"]] = (row, total * (1.0 + 0.1 * _rank_bonus(tokens, content, row)))
    if len(scored) < limit and len(rare) < len(live):
        # common syllables only: entries holding all of them (in the title first), ranked by
        # where they occur; a few dozen candidates at most, never a BM25 pass over them
        groups = [g for g in ([a for a in alts if df.get(a)] for alts in alternatives) if g]
        # "all in the title" only when each group occurs in titles about as often as at all:
        # a title-only match of a syllable that is mostly in bodies reads (and column-checks)
        # every entry holding it before it finds the few titles, with or without a result
        head_df = await stats.df([a for g in groups for a in g], head=True)
        head_groups = [
            [a for a in g if head_df[a] and df[a] - head_df[a] <= TITLE_SCAN_MAX] for g in groups
        ]
        # "any of them": the syllables alone find every entry a bigram or an accented form
        # would (fewer phrases, same rows); accented words with no folded syllable stay
        syllable = unique(a for g in groups for a in g)
        any_of = syllable + [t for t in live if "_" not in t and fold(t) not in syllable]
        parts = {
            1: scoped_parts([], family_id, all_of=head_groups, fields=HEAD_FIELDS)
            if all(head_groups)
            else [],
            2: scoped_parts([], family_id, all_of=groups),
            3: scoped_parts(any_of, family_id),
        }
        asked = {f"q{part}{n}": (e, part) for part, es in parts.items() for n, e in enumerate(es)}
        if parts[2] and parts[3]:
            sql = fallback_sql([(name, part) for name, (_, part) in asked.items()])
            params = {name: e for name, (e, _) in asked.items()}
            rows = await db.fetchall_packed(sql, {**params, "fam": family_id, "lim": 12})
            floor = min((sc for _, sc in scored.values()), default=1.0)
            ranked = sorted(
                rows, key=lambda r: (r["part"], -_plain_score(groups, tokens, content, r))
            )
            for n, r in enumerate(ranked):
                scored.setdefault(r["id"], (r, floor * 0.5 / (n + 1)))
    return sorted(scored.values(), key=lambda rs: -rs[1])


def within_budget(terms: list[str], df: dict[str, int], budget: int = RANK_BUDGET) -> list[str]:
    """All the terms when their documents fit the budget, else the rarest that fit (the
    rarest alone up to RANK_SINGLE_MAX): bm25's cost grows with every document of every
    term it ranks by. Nothing left means the unranked fallback ranks the question."""
    if sum(df[t] for t in terms) <= budget:
        return terms
    chosen: set[str] = set()
    spent = 0
    for t in sorted(terms, key=lambda t: df[t]):
        if spent + df[t] > (budget if chosen else max(budget, RANK_SINGLE_MAX)):
            break
        chosen.add(t)
        spent += df[t]
    return [t for t in terms if t in chosen]


def _plain_score(groups: list[list[str]], tokens: list[str], core: list[str], row: Any) -> float:
    """Where the query's syllables occur: title/aliases count most, then tags."""
    text = row_text(row)
    head, tags = text.head, text.tags
    score = 0.0
    for alts in groups:
        if any(a in head for a in alts):
            score += 3.0
        elif any(a in tags for a in alts):
            score += 2.0
        else:
            score += 0.5
    return score * (1.0 + 0.1 * _rank_bonus(tokens, core, row)) / (1.0 + 0.02 * len(head))


async def search(
    db: Database,
    vectors: VectorIndex,
    query: str,
    family_id: int | None,
    limit: int = 5,
    stats: TermStats | None = None,
) -> list[SearchHit]:
    """Best entries first; BM25 alone, or fused with vector similarity when available."""
    limit = max(1, min(int(limit), 50))
    text = (query or "")[:MAX_QUERY_CHARS]
    question = analyse(text)
    wanted = question.search_text  # without what it asks to leave out ("không ớt")
    tokens = syllables(wanted)[: MAX_TOKENS * 2]
    content = tokens_content(tokens)
    found = await lexical_hits(
        db, stats or TermStats(db), wanted, family_id, limit, question.expansions, question.synonyms
    )
    hits: dict[int, tuple[Any, float]] = {r["id"]: (r, sc) for r, sc in found}
    lexical = [r["id"] for r, _ in found]
    semantic = await vectors.nearest(text, family_id) if text.strip() else None
    cosines = dict(semantic or ())
    if semantic:
        fused: dict[int, float] = {}
        for rank, eid in enumerate(lexical):
            fused[eid] = fused.get(eid, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, (eid, _cos) in enumerate(semantic):
            fused[eid] = fused.get(eid, 0.0) + 1.0 / (RRF_K + rank + 1)
        missing = [eid for eid in fused if eid not in hits]
        for r in await visible_rows(db, missing, family_id, RANK_COLUMNS):
            hits[r["id"]] = (r, 0.0)
        order = sorted((eid for eid in fused if eid in hits), key=lambda e: -fused[e])
        ranked = [(hits[e][0], fused[e] * 1000.0) for e in order]
    else:
        ranked = found
    ranked = definitions_after_namesakes(ranked)
    # a few family rows beyond the limit too: one found only through a translation may rank
    # below shared entries matching the question's common words, and family_first lifts it
    more = [rs for rs in ranked[limit : limit + FAMILY_SLACK] if rs[0]["family_id"] is not None]
    ranked = ranked[:limit] + more
    namesakes = (  # only a dish the question names: "braised fish" → "Cá kho tộ"
        family_id is not None
        and all(r["family_id"] is None for r, _ in ranked)
        and any(is_strong(tokens, row_text(r)) for r, _ in ranked[:NAMESAKE_HITS])
    )

    def read(conn: sqlite3.Connection) -> tuple[list[tuple[Any, float]], list[Any]]:
        """The family's namesakes when no family row ranked, and every row's body: one job."""
        found = family_namesakes_in(conn, ranked, family_id) if namesakes else []
        return found, _visible_rows_in(conn, [r["id"] for r, _ in ranked + found], family_id)

    extra, rows = await db.read(read)
    ranked += extra
    whole = {r["id"]: r for r in rows}
    out = []
    for ranked_row, score in ranked:
        row = whole.get(ranked_row["id"])
        if row is None:
            continue  # hidden or removed since it was ranked
        entry = row_to_entry(row)
        out.append(
            SearchHit(
                entry,
                round(score, 4),
                snippet(entry.body, content),
                is_strong(tokens, row_text(row)),
                cosines.get(entry.id),
            )
        )
    return family_first(out)[:limit]


def family_namesakes_in(
    conn: sqlite3.Connection, top: list[tuple[Any, float]], family_id: int | None
) -> list[tuple[Any, float]]:
    """The family's entries named like the best shared hits ("Cá rô kho tộ", "Món kho cá"
    for "Cá kho tộ", which an English alias named), when no family entry ranked at all: the
    family's version of a dish need not share the question's words, only the dish's name.
    Asked by the names' syllable pairs (either order) in the family's own title column:
    rare terms, no ranking, a few rows, in the job that reads the hits' bodies. They come
    after the shared hit (family_first lifts the ones that are the same dish)."""
    shared = [(r, sc) for r, sc in top if not row_text(r).glossary][:NAMESAKE_HITS]
    pairs: list[str] = []
    for row, _ in shared:
        names = [t for t in row_text(row).title if t not in TITLE_KEYS]
        pairs += [f"{a}_{b}" for a, b in itertools.pairwise(names)]
        pairs += [f"{b}_{a}" for a, b in itertools.pairwise(names)]
    if not pairs or family_id is None:
        return []
    expr = f'scope : "zf{int(family_id)}" AND {{fhead2}} : ({_quoted_terms(unique(pairs))})'
    params = {"q": expr, "fam": family_id, "lim": NAMESAKE_HITS + 1}
    rows = packed_rows(conn, fallback_sql([("q", 0)]), params)
    floor = min(sc for _, sc in shared)
    return [(r, floor * 0.5 / (n + 1)) for n, r in enumerate(rows)]


def _quoted_terms(terms: list[str]) -> str:
    return " OR ".join(f'"{t}"' for t in terms)  # syllable pairs: [a-z0-9_] only


def definitions_after_namesakes(ranked: list[tuple[Any, float]]) -> list[tuple[Any, float]]:
    """A glossary term goes just below the entry named after it ("cá kho" → "Cá kho tộ"):
    the definition is fed to the model by glossary_for; the recipe is what the user wants."""
    result = list(ranked)
    moved: set[int] = set()
    i = 0
    while i < len(result):
        row, score = result[i]
        text = row_text(row)
        if text.title and row["id"] not in moved and text.glossary:
            moved.add(row["id"])
            for j in range(i + 1, len(result)):
                other = row_text(result[j][0])
                if not other.glossary and contains_phrase(other.title, text.title):
                    named, named_score = result.pop(j)
                    result.insert(i, (named, max(named_score, score)))
                    result[i + 1] = (row, min(score, result[i][1]) * 0.99)
                    break
        i += 1
    return result


def _visible_sql(ids: list[int], family_id: int | None, columns: str) -> tuple[str, list[Any]]:
    marks = ",".join("?" * len(ids))
    sql = (
        f"SELECT {columns} FROM entries e WHERE e.id IN ({marks}) AND e.status = 'approved'"
        " AND (e.family_id IS NULL OR e.family_id = ?) AND NOT (e.family_id IS NULL AND"
        " ? IS NOT NULL AND EXISTS (SELECT 1 FROM entries s WHERE s.shadows = e.id AND"
        " s.family_id = ?))"
    )
    return sql, [*ids, family_id, family_id, family_id]


async def visible_rows(
    db: Database, ids: list[int], family_id: int | None, columns: str = "e.*"
) -> list[Any]:
    """The rows of `ids` this family may see (approved; its own copy hides the shared one)."""
    if not ids:
        return []
    return await db.fetchall_packed(*_visible_sql(ids, family_id, columns))


def _visible_rows_in(conn: sqlite3.Connection, ids: list[int], family_id: int | None) -> list[Any]:
    return packed_rows(conn, *_visible_sql(ids, family_id, "e.*")) if ids else []


def verbatim_match(hits: list[SearchHit]) -> SearchHit | None:
    """The hit to quote word for word: the top hit, when it is strong and marked verbatim."""
    if hits and hits[0].strong and hits[0].entry.verbatim:
        return hits[0]
    return None
