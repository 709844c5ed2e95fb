-- The queue on many workers: a job's lock version, raised by every claim and by every
-- lease taken back, is checked by each heartbeat and by the saving of a result, so a
-- worker whose lease was lost cannot overwrite its successor's work (fencing); a failed
-- attempt waits `run_after` (exponential backoff) before it is claimed again; a job that
-- used up its attempts is `dead` with its last error; a person's request (priority 0)
-- goes before scheduled work (priority 1, capped in flight); a device (`device`, a host
-- scan's target) has at most one running job, which the unique index holds even when
-- two workers claim at once; each job carries the time it may run (`timeout_ms`, by
-- kind), so a worker on another machine knows it.
ALTER TABLE jobs ADD COLUMN lock_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN priority BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN run_after BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN device TEXT;
ALTER TABLE jobs ADD COLUMN timeout_ms BIGINT NOT NULL DEFAULT 3600000;
UPDATE jobs SET state = 'dead' WHERE state = 'failed';
DROP INDEX jobs_queue;
CREATE INDEX jobs_queue ON jobs (state, priority, created_at, id);
CREATE INDEX jobs_running ON jobs (state, lease_until);
CREATE UNIQUE INDEX jobs_one_per_device ON jobs (device) WHERE state = 'running';
