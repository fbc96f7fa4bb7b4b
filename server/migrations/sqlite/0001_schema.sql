-- EWG Studio registry. Times are Unix milliseconds (INTEGER) so the schema ports to Postgres unchanged
-- apart from the AUTOINCREMENT ids.

CREATE TABLE episodes (
    id               TEXT PRIMARY KEY,
    show             TEXT NOT NULL,
    source_path      TEXT NOT NULL,          -- relative to the data root, always under inbox/
    title            TEXT NOT NULL,
    duration_secs    REAL,
    stage            TEXT NOT NULL DEFAULT 'discovered',
    state            TEXT NOT NULL DEFAULT 'idle',
    attempt          INTEGER NOT NULL DEFAULT 0,
    failed_stage     TEXT,
    error            TEXT,
    progress_stage   TEXT,
    progress_percent INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX episodes_state ON episodes (state);
CREATE INDEX episodes_show ON episodes (show);

CREATE TABLE stage_runs (
    episode     TEXT NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    stage       TEXT NOT NULL,
    finished_at INTEGER NOT NULL,
    PRIMARY KEY (episode, attempt, stage)
);

CREATE TABLE artifacts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    episode    TEXT NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    stage      TEXT NOT NULL,
    path       TEXT NOT NULL UNIQUE,          -- relative to the data root
    bytes      INTEGER NOT NULL,
    attempt    INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX artifacts_episode ON artifacts (episode, attempt);

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    episode          TEXT NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL DEFAULT 'process',
    state            TEXT NOT NULL,           -- queued, running, done, failed, cancelled, interrupted
    attempt          INTEGER NOT NULL,
    force            INTEGER NOT NULL DEFAULT 0,
    worker           TEXT,
    lease_until      INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER
);
CREATE INDEX jobs_state ON jobs (state, id);
-- At most one live job per episode, enforced by the database rather than by hope.
CREATE UNIQUE INDEX jobs_one_live_per_episode ON jobs (episode) WHERE state IN ('queued', 'running');

CREATE TABLE cleanup_runs (
    id          TEXT PRIMARY KEY,
    actor       TEXT NOT NULL,
    trigger     TEXT NOT NULL,                -- failure, force, retry, deep-clean, episode, schedule
    scope       TEXT NOT NULL,
    episode     TEXT,
    dry_run     INTEGER NOT NULL,
    phase       TEXT NOT NULL,                -- planned (until finished; a crash leaves it), done
    result      TEXT,
    files       INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0,
    errors      INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX cleanup_runs_started ON cleanup_runs (started_at);
CREATE INDEX cleanup_runs_episode ON cleanup_runs (episode, started_at);

CREATE TABLE cleanup_errors (
    run_id  TEXT NOT NULL REFERENCES cleanup_runs (id) ON DELETE CASCADE,
    path    TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX cleanup_errors_run ON cleanup_errors (run_id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
