-- Access control: tenant roles (owner, auditor) and platform support on API
-- keys, key scope and expiry, security events, break-glass support grants.

-- Tenant keys take every tenant role; platform keys are operator or support.
alter table api_keys drop constraint api_keys_role_check;
alter table api_keys add constraint api_keys_role_check
  check (role in ('operator', 'support', 'owner', 'admin', 'editor', 'viewer', 'auditor'));
alter table api_keys drop constraint api_keys_check;
alter table api_keys add constraint api_keys_platform_check check ((role in ('operator', 'support')) = (tenant_id is null));
-- collections: null = every collection, else a JSON array of collection names.
alter table api_keys add column collections jsonb;
alter table api_keys add column expires_at timestamptz;

-- A tenant may let support in without asking each time (still recorded).
alter table tenants add column support_preauthorized boolean not null default false;

-- Security events: who did what to access, never a secret or a field value.
-- tenant_id null = a platform event (an operator's or support's own doings).
create table security_events (
  id uuid primary key,
  tenant_id uuid references tenants (id),
  type text not null,
  actor_type text not null,
  actor_id text not null,
  actor_role text not null,
  ip text,
  user_agent text,
  detail jsonb not null default '{}',
  created_at timestamptz not null
);
create index security_events_page on security_events (tenant_id, id);
create index security_events_type on security_events (tenant_id, type, id);

alter table security_events enable row level security;
alter table security_events force row level security;
create policy tenant_isolation on security_events
  using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
-- Platform events are written and read only outside any tenant context (the
-- platform transaction, never the app role), so FORCE does not lock out an
-- owner that is not a superuser.
create policy platform_events on security_events
  using (tenant_id is null and coalesce(current_setting('app.tenant_id', true), '') = '')
  with check (tenant_id is null and coalesce(current_setting('app.tenant_id', true), '') = '');
grant select, insert on security_events to tresor_app;

-- Break-glass: a support actor asks for read access to one tenant for a
-- while; an owner approves (or the tenant pre-authorised support); access
-- ends by itself at expires_at.
create table support_grants (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  requester_type text not null,
  requester_id text not null,
  reason text not null,
  minutes int not null check (minutes between 1 and 1440),
  status text not null default 'pending' check (status in ('pending', 'approved')),
  requested_at timestamptz not null,
  approved_by text,
  approved_at timestamptz,
  expires_at timestamptz,
  primary key (tenant_id, id),
  check ((status = 'approved') = (expires_at is not null))
);
create index support_grants_active on support_grants (tenant_id, requester_id, expires_at);
alter table support_grants enable row level security;
alter table support_grants force row level security;
create policy tenant_isolation on support_grants
  using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, update on support_grants to tresor_app;
