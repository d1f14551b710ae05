-- Photos and voice notes that become knowledge: a draft read from one waits for an admin's
-- /kb save; the saved entry keeps its photo (metadata already removed, size capped).
CREATE TABLE kb_drafts (
    id          INTEGER PRIMARY KEY,
    family_id   INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    member_id   INTEGER REFERENCES members (id) ON DELETE SET NULL,
    source      TEXT NOT NULL CHECK (source IN ('photo', 'voice')),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    tags        TEXT NOT NULL DEFAULT '[]',
    verbatim    INTEGER NOT NULL DEFAULT 0,
    photo_mime  TEXT,
    photo       BLOB,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX kb_drafts_family ON kb_drafts (family_id, id);

CREATE TABLE entry_photos (
    entry_id    INTEGER PRIMARY KEY REFERENCES entries (id) ON DELETE CASCADE,
    family_id   INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    mime        TEXT NOT NULL,
    data        BLOB NOT NULL,
    sha256      TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX entry_photos_family ON entry_photos (family_id);
