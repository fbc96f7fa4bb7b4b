-- Coordination lives in the registry, not in one process's memory (README "Coordination").

-- A cleanup run is owned by the process (node) executing it, which renews `heartbeat_at` while it works.
-- Recovery touches only runs whose heartbeat has expired; `then_action` is the end state the run intends
-- for the episodes it owns, so recovery can replay it; `report` lets other callers wait for the outcome.
ALTER TABLE cleanup_runs ADD COLUMN owner TEXT;
ALTER TABLE cleanup_runs ADD COLUMN heartbeat_at INTEGER;
ALTER TABLE cleanup_runs ADD COLUMN then_action TEXT;
ALTER TABLE cleanup_runs ADD COLUMN report TEXT;
-- Deep Clean is single-flight across every process sharing the registry.
CREATE UNIQUE INDEX cleanup_runs_one_live_deep_clean ON cleanup_runs (trigger)
    WHERE trigger = 'deep-clean' AND dry_run = 0 AND phase <> 'done';
CREATE INDEX cleanup_runs_phase ON cleanup_runs (phase);

-- One owner per episode: a live job (jobs_one_live_per_episode) or the cleanup run named here, never both.
ALTER TABLE episodes ADD COLUMN cleanup_run TEXT;
CREATE INDEX episodes_cleanup_run ON episodes (cleanup_run);

-- Browser uploads being streamed into uploads/: sweeps skip parts whose owner still heartbeats.
CREATE TABLE uploads (
    part         TEXT PRIMARY KEY,               -- relative to the data root: uploads/<random>.part
    owner        TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);
