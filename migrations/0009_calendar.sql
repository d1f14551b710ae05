-- The family calendar: events (giỗ, festivals, personal reminders) with their recurrence
-- rule, and one row per reminder to deliver. An active event has exactly one pending
-- delivery: its next one. A delivery goes pending → claimed (by one running process) →
-- sending (the platform call is about to be made) → sent; after a crash a claimed row is
-- pending again (nothing went out), a row left sending is sent again at most once more.
-- Late ones are sent marked late, older ones are kept as missed.
CREATE TABLE calendar_events (
    id          INTEGER PRIMARY KEY,
    family_id   INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    no          INTEGER NOT NULL,                 -- the number lists show, never reused
    kind        TEXT NOT NULL CHECK (kind IN ('reminder', 'gio', 'event')),
    scope       TEXT NOT NULL CHECK (scope IN ('personal', 'family')),
    member_id   INTEGER REFERENCES members (id) ON DELETE SET NULL,  -- who created it
    member_name TEXT NOT NULL DEFAULT '',
    title       TEXT NOT NULL,
    rule        TEXT NOT NULL,                    -- JSON, bot/calendar/rules.py
    at_time     TEXT NOT NULL,                    -- HH:MM in the family's time zone
    leads       TEXT NOT NULL DEFAULT '0',        -- days ahead to remind, comma-separated
    lang        TEXT NOT NULL DEFAULT 'vi',
    thread_id   TEXT,                             -- where in the chat to announce it
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (family_id, no)
);
CREATE INDEX calendar_events_active ON calendar_events (family_id, kind) WHERE active = 1;

CREATE TABLE calendar_deliveries (
    id          INTEGER PRIMARY KEY,
    family_id   INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    event_id    INTEGER NOT NULL REFERENCES calendar_events (id) ON DELETE CASCADE,
    platform    TEXT NOT NULL,
    occurs_on   TEXT NOT NULL,                    -- the occurrence's day, YYYY-MM-DD
    lead_days   INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,                 -- unix seconds: when it should go out
    try_at      INTEGER NOT NULL,                 -- unix seconds: when it may be tried next
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'claimed', 'sending', 'sent', 'missed', 'failed')),
    late        INTEGER NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    claimed_by  TEXT,
    sent_at     INTEGER,
    message_ids TEXT,
    UNIQUE (event_id, occurs_on, lead_days)
);
-- the due-check: pending rows of one platform in the order they may go out
CREATE INDEX calendar_deliveries_due ON calendar_deliveries (platform, try_at)
    WHERE status = 'pending';
CREATE INDEX calendar_deliveries_claimed ON calendar_deliveries (platform, status)
    WHERE status IN ('claimed', 'sending');
CREATE INDEX calendar_deliveries_family ON calendar_deliveries (family_id, due_at);
