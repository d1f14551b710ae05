-- Keep the search index in few segments. FTS5 writes one segment per write transaction
-- and merges them in fours per level, and every query term pays a seek in each segment: an
-- imported 100k-entry index had 22 (a ranked query 2.5 ms; merged into one, 0.45 ms).
-- usermerge = 2 lets knowledge/indexing.py's 'merge' steps pair up small segments of a
-- level (cheap, never rewriting the big one for a few new entries); 'optimize' merges
-- what exists now into one.
INSERT INTO entries_fts (entries_fts, rank) VALUES ('usermerge', 2);
INSERT INTO entries_fts (entries_fts) VALUES ('optimize');
