-- Undo: a run that keeps its trash records what it took, the artifact rows it deleted and the state its
-- episodes had, so a restore can put all three back. Expiry and sizes live here, never in file times.
ALTER TABLE cleanup_runs ADD COLUMN trash TEXT;              -- NULL (nothing kept), kept, purging, restoring, purged, restored
ALTER TABLE cleanup_runs ADD COLUMN trash_files BIGINT;      -- measured in the trash after the answer
ALTER TABLE cleanup_runs ADD COLUMN trash_bytes BIGINT;
ALTER TABLE cleanup_runs ADD COLUMN expires_at BIGINT;       -- database clock, ms
ALTER TABLE cleanup_runs ADD COLUMN purged_at BIGINT;
ALTER TABLE cleanup_runs ADD COLUMN purge_reason TEXT;       -- retention, budget, disk, emptied, now, recovery
ALTER TABLE cleanup_runs ADD COLUMN restored_by TEXT;        -- the restore run
ALTER TABLE cleanup_runs ADD COLUMN trash_owner TEXT;        -- the node purging or restoring it
ALTER TABLE cleanup_runs ADD COLUMN trash_heartbeat BIGINT;
CREATE INDEX cleanup_runs_trash ON cleanup_runs (trash, started_at);

CREATE TABLE trash_paths (
    run_id TEXT NOT NULL REFERENCES cleanup_runs (id) ON DELETE CASCADE,
    path   TEXT NOT NULL,                     -- where it was, relative to the data root
    stored TEXT NOT NULL,                     -- its name under .trash/<run>/ (path, or path.~N if taken twice)
    PRIMARY KEY (run_id, path)
);

CREATE TABLE trash_rows (
    run_id     TEXT NOT NULL REFERENCES cleanup_runs (id) ON DELETE CASCADE,
    episode    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    stage      TEXT NOT NULL,
    path       TEXT NOT NULL,
    bytes      BIGINT NOT NULL,
    attempt    BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX trash_rows_run ON trash_rows (run_id);

CREATE TABLE trash_episodes (
    run_id       TEXT NOT NULL REFERENCES cleanup_runs (id) ON DELETE CASCADE,
    episode      TEXT NOT NULL,
    stage        TEXT NOT NULL,
    state        TEXT NOT NULL,
    failed_stage TEXT,
    error        TEXT,
    PRIMARY KEY (run_id, episode)
);
