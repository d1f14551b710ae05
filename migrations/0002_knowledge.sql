-- Knowledge base: entries (global when family_id IS NULL), every revision of every entry,
-- an FTS5 index over a normalised (diacritics-folded) form, typo variants and vectors.
-- Family-scoped reads always filter `family_id IS NULL OR family_id = ?`.

CREATE TABLE entries (
    id                INTEGER PRIMARY KEY,
    family_id         INTEGER REFERENCES families (id) ON DELETE CASCADE,  -- NULL: global
    title             TEXT NOT NULL,
    body              TEXT NOT NULL,
    tags              TEXT NOT NULL DEFAULT '[]',     -- JSON list of strings
    aliases           TEXT NOT NULL DEFAULT '[]',     -- JSON list of strings
    language          TEXT NOT NULL DEFAULT 'vi',
    region            TEXT,
    verbatim          INTEGER NOT NULL DEFAULT 0,
    status            TEXT NOT NULL DEFAULT 'approved'
                      CHECK (status IN ('approved', 'pending', 'rejected', 'removed')),
    author            TEXT,
    author_platform   TEXT,
    author_user_id    TEXT,
    author_member_id  INTEGER REFERENCES members (id) ON DELETE SET NULL,
    approved_by       TEXT,
    source            TEXT NOT NULL DEFAULT 'chat',   -- chat | import | starter | suggestion
    shadows           INTEGER REFERENCES entries (id) ON DELETE SET NULL,  -- family copy of a global
    version           INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX entries_family_status ON entries (family_id, status, id);
CREATE INDEX entries_shadows ON entries (shadows, family_id) WHERE shadows IS NOT NULL;
CREATE INDEX entries_family_title ON entries (family_id, title);
CREATE INDEX entries_source ON entries (source) WHERE source = 'starter';

-- Every state an entry has been in; nothing a curator typed is ever lost.
CREATE TABLE entry_revisions (
    id          INTEGER PRIMARY KEY,
    entry_id    INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    family_id   INTEGER REFERENCES families (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    action      TEXT NOT NULL,  -- add | edit | remove | undo | suggest | approve | reject | fork
    restores    INTEGER,        -- for undo: the version whose state was restored
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    tags        TEXT NOT NULL,
    aliases     TEXT NOT NULL,
    language    TEXT NOT NULL,
    region      TEXT,
    verbatim    INTEGER NOT NULL,
    status      TEXT NOT NULL,
    actor       TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (entry_id, version)
);

-- Only approved, visible entries are indexed. Columns hold normalised text:
-- head = title + aliases, tags, body (folded syllables), head2/body2 = syllable bigrams
-- (ca_kho) so adjacent words outrank scattered ones, exact = accented syllables (a typed
-- diacritic is a signal), scope = one token (zglobal or zf<family id>) to filter in the index.
CREATE VIRTUAL TABLE entries_fts USING fts5 (
    head, tags, body, head2, body2, exact, scope,
    tokenize = "unicode61 remove_diacritics 0 tokenchars '_'"
);
INSERT INTO entries_fts (entries_fts, rank) VALUES ('rank', 'bm25(10.0, 5.0, 1.0, 12.0, 2.0, 2.0, 0.0)');

-- Known folded syllables and their one-deletion variants (symmetric-delete typo lookup).
CREATE TABLE kb_terms (
    term  TEXT PRIMARY KEY
) WITHOUT ROWID;
CREATE TABLE kb_term_variants (
    variant  TEXT NOT NULL,
    term     TEXT NOT NULL,
    PRIMARY KEY (variant, term)
) WITHOUT ROWID;

-- Embeddings from the endpoint's /embeddings, as float32 blobs searched with numpy.
CREATE TABLE entry_vectors (
    entry_id    INTEGER PRIMARY KEY REFERENCES entries (id) ON DELETE CASCADE,
    family_id   INTEGER REFERENCES families (id) ON DELETE CASCADE,
    dim         INTEGER NOT NULL,
    text_hash   TEXT NOT NULL,
    vec         BLOB NOT NULL,
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX entry_vectors_family ON entry_vectors (family_id);
