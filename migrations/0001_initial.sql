-- Hearth core: families, members, messages, memory, answers, model calls, returns.
-- Every table that holds family data carries family_id and an index that starts with it.

CREATE TABLE families (
    id          INTEGER PRIMARY KEY,
    platform    TEXT NOT NULL,
    chat_id     TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'private' CHECK (kind IN ('private', 'group')),
    title       TEXT,
    name        TEXT,
    greeted     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (platform, chat_id)
);
CREATE INDEX families_name ON families (name) WHERE name IS NOT NULL;

CREATE TABLE family_profile (
    family_id   INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (family_id, key)
);

CREATE TABLE members (
    id            INTEGER PRIMARY KEY,
    family_id     INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL,
    display_name  TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
    language      TEXT,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_seen_at  TEXT,
    UNIQUE (family_id, user_id)
);

-- Every incoming message is stored before it is processed; the unique key drops duplicates.
CREATE TABLE messages (
    id                   INTEGER PRIMARY KEY,
    family_id            INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    member_id            INTEGER REFERENCES members (id) ON DELETE SET NULL,
    platform_message_id  TEXT NOT NULL,
    role                 TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'assistant')),
    text                 TEXT NOT NULL,
    reply_to             TEXT,
    thread_id            TEXT,
    payload              TEXT,
    status               TEXT NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'answered', 'failed', 'ignored')),
    attempts             INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    answered_at          TEXT,
    UNIQUE (family_id, platform_message_id)
);
CREATE INDEX messages_family_recent ON messages (family_id, id);
CREATE INDEX messages_pending ON messages (status, id) WHERE status = 'pending';

CREATE TABLE summaries (
    family_id        INTEGER PRIMARY KEY REFERENCES families (id) ON DELETE CASCADE,
    text             TEXT NOT NULL,
    upto_message_id  INTEGER NOT NULL,
    updated_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE facts (
    id          INTEGER PRIMARY KEY,
    family_id   INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    member_id   INTEGER REFERENCES members (id) ON DELETE SET NULL,
    text        TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX facts_family ON facts (family_id, id);

-- The answer log: what was asked, exactly what the model was sent, and what came back.
CREATE TABLE answers (
    id                 INTEGER PRIMARY KEY,
    family_id          INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    message_id         INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    member_id          INTEGER REFERENCES members (id) ON DELETE SET NULL,
    question           TEXT NOT NULL,
    question_norm      TEXT NOT NULL DEFAULT '',
    answer             TEXT NOT NULL,
    prompt_json        TEXT NOT NULL DEFAULT '[]',
    context_json       TEXT NOT NULL DEFAULT '{}',
    source             TEXT NOT NULL DEFAULT 'model' CHECK (source IN ('model', 'kb', 'none')),
    model              TEXT,
    endpoint           TEXT,
    latency_ms         INTEGER,
    prompt_tokens      INTEGER,
    completion_tokens  INTEGER,
    created_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX answers_family ON answers (family_id, id);
CREATE INDEX answers_family_question ON answers (family_id, question_norm);
CREATE INDEX answers_created ON answers (created_at);

-- Knowledge entries an answer used, in rank order (credit is derived from this + returns).
CREATE TABLE answer_entries (
    answer_id  INTEGER NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    entry_id   INTEGER NOT NULL,
    rank       INTEGER NOT NULL,
    PRIMARY KEY (answer_id, entry_id)
);
CREATE INDEX answer_entries_entry ON answer_entries (entry_id);

-- Which platform messages carry which answer (a reply to one of them is a return).
CREATE TABLE answer_messages (
    family_id            INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    platform_message_id  TEXT NOT NULL,
    answer_id            INTEGER NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    PRIMARY KEY (family_id, platform_message_id)
);
CREATE INDEX answer_messages_answer ON answer_messages (answer_id);

-- One row per model request, for latency and error rates per endpoint.
CREATE TABLE llm_calls (
    id                 INTEGER PRIMARY KEY,
    family_id          INTEGER REFERENCES families (id) ON DELETE SET NULL,
    endpoint           TEXT NOT NULL,
    model              TEXT NOT NULL,
    purpose            TEXT NOT NULL DEFAULT 'chat',
    ok                 INTEGER NOT NULL,
    error              TEXT,
    latency_ms         INTEGER NOT NULL,
    prompt_tokens      INTEGER,
    completion_tokens  INTEGER,
    created_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX llm_calls_created ON llm_calls (created_at);

-- Return events: someone came back to an answer. dedup_key makes a double press one event.
CREATE TABLE returns (
    id          INTEGER PRIMARY KEY,
    family_id   INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    answer_id   INTEGER NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    member_id   INTEGER REFERENCES members (id) ON DELETE SET NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('reply', 'helpful', 'not_helpful', 'save',
                                              'open_saved', 'reaction', 'ask_again')),
    positive    INTEGER NOT NULL DEFAULT 1,
    detail      TEXT,
    dedup_key   TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX returns_family ON returns (family_id, id);
CREATE INDEX returns_answer ON returns (answer_id);
CREATE INDEX returns_created ON returns (created_at);

CREATE TABLE saved_answers (
    family_id   INTEGER NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    member_id   INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    answer_id   INTEGER NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (family_id, member_id, answer_id)
);

-- Anonymous counts left behind by /deletefamily.
CREATE TABLE deleted_family_stats (
    id          INTEGER PRIMARY KEY,
    platform    TEXT NOT NULL,
    messages    INTEGER NOT NULL,
    answers     INTEGER NOT NULL,
    returns     INTEGER NOT NULL,
    deleted_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Small key/value settings of the installation (e.g. whether the starter pack was loaded).
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
