-- Per-term document counts straight from the knowledge index, cached by
-- knowledge/termstats.py so ranking can leave out terms too common to matter.
-- (0003 is taken by the usage migration.)
CREATE VIRTUAL TABLE IF NOT EXISTS entries_vocab USING fts5vocab (entries_fts, 'row');
