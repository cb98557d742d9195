-- Incident management (GDPR Art. 33): a platform-level register kept by the
-- operators. aware_at starts the 72-hour clock; the notifiability decision
-- (Art. 33(1)) and the closure are recorded on the incident, everything else
-- in an append-only timeline. Which tenants an incident affects, and how
-- (counts and record ids computed from the audit trail, never values), is kept
-- per tenant under row-level security: a tenant context sees only its own part,
-- and only the incidents that have one.

create table incidents (
  id uuid primary key,
  title text not null,
  category text not null,
  severity text not null check (severity in ('low', 'medium', 'high', 'critical')),
  status text not null check (status in ('open', 'closed')),
  detected_at timestamptz not null,
  aware_at timestamptz not null check (aware_at >= detected_at),
  affected_systems jsonb not null,
  data_categories jsonb not null,
  description text not null,
  -- An automatic rule that opened it, and what it is about (deduplication).
  rule text,
  rule_subject text,
  opened_by_type text not null,
  opened_by_id text not null,
  created_at timestamptz not null,
  -- The notifiability decision (Art. 33(1)) and the assessment behind it.
  notifiable boolean,
  decision_reason text,
  consequences text,
  measures text,
  authority_notified_at timestamptz,
  decided_at timestamptz,
  decided_by_type text,
  decided_by_id text,
  -- The highest clock warning given (0, 24, 48, 66): each is given once.
  warned_hours int not null default 0,
  closed_at timestamptz,
  lessons_learned text,
  closed_by_type text,
  closed_by_id text,
  check ((status = 'closed') = (closed_at is not null)),
  check ((decided_at is null) = (notifiable is null))
);
create index incidents_open_rule on incidents (rule, rule_subject, created_at) where status = 'open';

create table incident_events (
  incident_id uuid not null references incidents (id),
  seq int not null,
  at timestamptz not null,
  kind text not null,
  actor_type text not null,
  actor_id text not null,
  note text not null,
  primary key (incident_id, seq)
);

create table incident_tenants (
  incident_id uuid not null references incidents (id),
  tenant_id uuid not null references tenants (id),
  -- The query that found them: actor, window, actions; and what it found.
  query jsonb not null,
  records_read int not null,
  records_changed int not null,
  records_total int not null,
  -- {collection: [record ids]}, at most TRESOR_INCIDENT_RECORD_IDS_MAX ids in all.
  record_ids jsonb not null,
  record_ids_truncated boolean not null,
  computed_at timestamptz not null,
  primary key (incident_id, tenant_id)
);

-- The timeline is append-only for everyone.
create function incident_events_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'incident timeline events are append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end
$$;
create trigger incident_events_no_change before update or delete on incident_events
  for each row execute function incident_events_append_only();
create trigger incident_events_no_truncate before truncate on incident_events
  for each statement execute function incident_events_append_only();

-- Tenant contexts (role tresor_app) read their own part and the incidents it
-- belongs to; platform transactions (the owner) keep the register. RLS is not
-- FORCEd, like the audit tables: the owner works across tenants.
alter table incident_tenants enable row level security;
create policy tenant_isolation on incident_tenants
  using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
alter table incidents enable row level security;
create policy tenant_part on incidents
  using (exists (select 1 from incident_tenants t where t.incident_id = incidents.id));
grant select on incidents, incident_tenants to tresor_app;
