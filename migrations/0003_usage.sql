-- Usage: the credit rule as a view (never a stored counter), confirmations, and indexes for
-- the maintainer report. Credit can be recomputed with another rule by replacing the view.

-- One row per (positive return, knowledge entry the answer used). 👎 (positive = 0) is a
-- return but never credit.
CREATE VIEW credit_events AS
SELECT r.id AS return_id, r.family_id, r.answer_id, r.member_id, r.kind, r.created_at,
       ae.entry_id, ae.rank
FROM returns r
JOIN answer_entries ae ON ae.answer_id = r.answer_id
WHERE r.positive = 1;

-- A dangerous command waiting for its confirmation (/deletefamily → /deletefamily confirm).
CREATE TABLE pending_confirmations (
    family_id   INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    member_id   INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    action      TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (family_id, member_id, action)
);

CREATE INDEX saved_answers_member ON saved_answers (family_id, member_id, created_at);
CREATE INDEX returns_family_created ON returns (family_id, created_at);
CREATE INDEX messages_family_created ON messages (family_id, created_at);
CREATE INDEX llm_calls_endpoint ON llm_calls (endpoint, model);
