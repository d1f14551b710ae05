-- Search isolation without a scope phrase: global entries are indexed in the columns head …
-- exact, family entries in fhead … fexact (plus their scope token zf<id>). A global search
-- filters by column set, which costs nothing; the old `scope : "zglobal"` phrase made FTS5's
-- bm25 walk the doclist of every global entry (80k at 100k entries) on every query.
-- The normalised text moves as is: only the column it sits in changes.
CREATE VIRTUAL TABLE entries_fts_v2 USING fts5 (
    head, tags, body, head2, body2, exact,
    fhead, ftags, fbody, fhead2, fbody2, fexact,
    scope,
    tokenize = "unicode61 remove_diacritics 0 tokenchars '_'"
);
INSERT INTO entries_fts_v2 (entries_fts_v2, rank)
VALUES ('rank', 'bm25(10.0, 5.0, 1.0, 12.0, 2.0, 2.0, 10.0, 5.0, 1.0, 12.0, 2.0, 2.0, 0.0)');
INSERT INTO entries_fts_v2 (rowid, head, tags, body, head2, body2, exact,
                            fhead, ftags, fbody, fhead2, fbody2, fexact, scope)
SELECT rowid,
       iif(g, head, ''), iif(g, tags, ''), iif(g, body, ''),
       iif(g, head2, ''), iif(g, body2, ''), iif(g, exact, ''),
       iif(g, '', head), iif(g, '', tags), iif(g, '', body),
       iif(g, '', head2), iif(g, '', body2), iif(g, '', exact),
       scope
FROM (SELECT rowid, *, scope = 'zglobal' AS g FROM entries_fts);
DROP TABLE entries_fts;
ALTER TABLE entries_fts_v2 RENAME TO entries_fts;
INSERT INTO entries_fts (entries_fts) VALUES ('optimize');
