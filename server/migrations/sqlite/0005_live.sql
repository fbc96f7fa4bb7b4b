-- The live feed (GET /api/events) reads what changed since its last tick, four times a second while a
-- stream is open: by index, not by scanning every episode and run.
CREATE INDEX episodes_updated ON episodes (updated_at);
CREATE INDEX cleanup_runs_finished ON cleanup_runs (finished_at);
