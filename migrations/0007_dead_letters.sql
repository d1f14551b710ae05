-- Updates and messages Hearth could not read (nested too deeply, no usable payload, given
-- up after their last attempt): one row each, so `hearth logs` can show what was dropped.
-- No message text is kept; `ref` is the platform's update id or the stored message's id.
CREATE TABLE dead_letters (
    id          INTEGER PRIMARY KEY,
    platform    TEXT NOT NULL,
    family_id   INTEGER REFERENCES families (id) ON DELETE CASCADE,
    ref         TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX dead_letters_family ON dead_letters (family_id, id) WHERE family_id IS NOT NULL;
