-- When a background run last finished, kept in the database so that every
-- node reads the same answer: the TOM register's evidence for the retention
-- job must not depend on which node happens to serve the report (only the
-- job leader runs it). One row per job, overwritten by each run.
create table job_runs (
  name text primary key,
  finished_at timestamptz not null,
  detail jsonb not null default '{}'
);

-- Bursts of refusals and lockouts are counted in the database (on the tenant
-- an event is recorded on), so that events recorded on every node add up.
create index security_events_burst on security_events (tenant_id, type, actor_id, created_at);
