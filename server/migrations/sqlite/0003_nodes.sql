-- Scale-out: which data root this registry serves, and the processes (nodes) sharing it.

-- `root_id` = the id in the data root's `.ewg-root-id`: a process whose data dir holds another id is
-- looking at other storage (an unmounted share) and refuses to start.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every `ewg serve` and `ewg worker` process, renewed by its heartbeat (database clock).
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,               -- host-pid-random, as in jobs.worker and cleanup_runs.owner
    role         TEXT NOT NULL,                  -- serve, worker
    host         TEXT NOT NULL,
    slots        BIGINT NOT NULL,                -- jobs it runs at once (0: serves only)
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    stopped_at   BIGINT
);
CREATE INDEX jobs_worker ON jobs (worker, state);
