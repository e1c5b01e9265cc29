-- Training jobs are leased, not owned for ever: a node renews the lease of the job it is
-- running, and a running job whose lease ran out (its node died or hung) can be claimed
-- again. Several nodes can share one queue without re-queueing each other's live jobs.
-- Keep in step with migrations/postgres/0003_job_lease.sql.
ALTER TABLE jobs ADD COLUMN lease_until_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_lease ON jobs (lease_until_ms) WHERE state = 'running';
