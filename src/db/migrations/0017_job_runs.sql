-- When a background run last finished, kept in the database so that every
-- node reads the same answer: the TOM register's evidence for the retention
-- job must not depend on which node happens to serve the report (only the
-- job leader runs it). One row per job, overwritten by each run.
create table job_runs (
  name text primary key,
  finished_at timestamptz not null,
  detail jsonb not null default '{}'
);
