"""The FTS5 query text of a search, scope included (see knowledge.search).

A global entry's text lives in the columns `head` … `exact`, a family's in `fhead` …
`fexact` with its token `zf<id>`, so another family's entries are never even candidates;
the SQL filters `family_id IS NULL OR family_id = ?` too, and a family's own copy hides
the shared entry it shadows.
"""

from __future__ import annotations

from knowledge.indexing import FAMILY_FIELDS, TEXT_FIELDS

# What ranking reads of an entry; the rest (its body above all) only for the hits returned:
# 20-40 candidates' bodies were packed into JSON and decoded for five hits.
RANK_COLUMNS = "e.id, e.family_id, e.title, e.aliases, e.tags"
SEARCH_SQL = f"""
SELECT {RANK_COLUMNS}, entries_fts.rank AS rank FROM entries_fts JOIN entries e ON e.id = entries_fts.rowid
WHERE entries_fts MATCH :q AND e.status = 'approved'
  AND (e.family_id IS NULL OR e.family_id = :fam)
  AND NOT (e.family_id IS NULL AND :fam IS NOT NULL AND EXISTS (
      SELECT 1 FROM entries s WHERE s.shadows = e.id AND s.family_id = :fam))
ORDER BY entries_fts.rank LIMIT :lim
"""
_UNRANKED = SEARCH_SQL.replace("ORDER BY entries_fts.rank LIMIT :lim", "LIMIT :lim").replace(
    "entries_fts.rank AS rank", "{part} AS part"
)


def ranked_sql(names: list[str]) -> str:
    """The best :lim rows over the MATCH expressions :<name> …, in one round trip."""
    if names == ["q"]:
        return SEARCH_SQL
    parts = " UNION ALL ".join(
        "SELECT * FROM (" + SEARCH_SQL.replace(":q", f":{n}") + ")" for n in names
    )
    return f"SELECT * FROM ({parts}) ORDER BY rank LIMIT :lim"


def fallback_sql(parts: list[tuple[str, int]]) -> str:
    """Unranked candidate sets (:<name>, part) … in one round trip, each tagged `part`."""
    return " UNION ALL ".join(
        "SELECT * FROM (" + _UNRANKED.replace(":q", f":{n}").format(part=part) + ")"
        for n, part in parts
    )


def scope_parts(family_id: int | None, fields: tuple[str, ...], body: str) -> list[str]:
    """`body` in the global columns `fields`, and for a family, in its own copies of them.

    A column filter is free for FTS5; a scope phrase would be counted by bm25. Asked as
    separate queries, each row gets the bm25 score it gets from their OR (a phrase's
    statistics do not depend on the rest of the query), but FTS5 walks an OR's branches
    together and that costs more than the two apart (2.2 vs 1.2 + 0.4 ms at 100k)."""
    glob = "{" + " ".join(fields) + "} : (" + body + ")"
    if family_id is None:
        return [glob]
    own = "{" + " ".join(FAMILY_FIELDS[TEXT_FIELDS.index(f)] for f in fields) + "}"
    return [glob, f'scope : "zf{int(family_id)}" AND {own} : ({body})']


def in_scope(family_id: int | None, fields: tuple[str, ...], body: str) -> str:
    """`body` matched in the global columns `fields`, or in the family's own copies of them."""
    parts = scope_parts(family_id, fields, body)
    return parts[0] if len(parts) == 1 else " OR ".join(f"({p})" for p in parts)


def _quoted(terms: list[str]) -> str:
    return " OR ".join('"' + t.replace('"', "") + '"' for t in terms if t.replace('"', ""))


def match_body(terms: list[str], all_of: list[list[str]] | None = None) -> str:
    """`t1 OR t2 …`, or with `all_of`, `(a OR a2) AND (b) …`: every group must match."""
    if all_of:
        return " AND ".join(f"({_quoted(g)})" for g in all_of if _quoted(g))
    return _quoted(terms)


def scoped(
    terms: list[str],
    family_id: int | None,
    *,
    all_of: list[list[str]] | None = None,
    fields: tuple[str, ...] = TEXT_FIELDS,
) -> str | None:
    """`t1 OR t2 …` within the family's scope, or with `all_of`, every group must match."""
    body = match_body(terms, all_of)
    return in_scope(family_id, fields, body) if body else None


def scoped_parts(
    terms: list[str],
    family_id: int | None,
    *,
    all_of: list[list[str]] | None = None,
    fields: tuple[str, ...] = TEXT_FIELDS,
) -> list[str]:
    """`scoped` as one expression per scope (see `scope_parts`); none when nothing to match."""
    body = match_body(terms, all_of)
    return scope_parts(family_id, fields, body) if body else []
