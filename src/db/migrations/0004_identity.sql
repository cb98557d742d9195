-- People: tenant users and platform users (operator, support), one-time
-- tokens (invitation, enrolment, second factor, password reset), sessions and
-- login throttling. Secrets are stored only as hashes (passwords: argon2id;
-- 256-bit tokens and recovery codes: SHA-256) or encrypted (TOTP secrets).

-- A tenant's users are tenant data (RLS); platform users have no tenant and
-- are read only in platform context. Every query also names its tenant
-- explicitly, as platform transactions are not under the RLS role.
create table users (
  id uuid primary key,
  tenant_id uuid references tenants (id),
  email text not null,
  -- Trimmed, NFC, lower case: one account per person and tenant.
  email_norm text not null,
  name text,
  role text not null,
  status text not null default 'invited' check (status in ('invited', 'active', 'deactivated')),
  password_hash text,
  password_changed_at timestamptz,
  -- argon2id hashes of earlier passwords, newest first (only kept when the policy asks for history).
  password_history jsonb not null default '[]',
  -- nonce ‖ ciphertext ‖ tag under the tenant's data key totp_key_version (or wrapped by the root key for platform users).
  totp_secret bytea,
  totp_key_version int,
  -- The last accepted time step: a code is accepted once.
  totp_last_step bigint,
  mfa_enrolled_at timestamptz,
  -- hex SHA-256 of each unused recovery code.
  recovery_codes jsonb not null default '[]',
  created_at timestamptz not null,
  updated_at timestamptz not null,
  check ((role in ('operator', 'support')) = (tenant_id is null))
);
create unique index users_email on users (coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), email_norm);
create index users_tenant on users (tenant_id, created_at, id);

alter table users enable row level security;
alter table users force row level security;
create policy tenant_isolation on users
  using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, update, delete on users to tresor_app;

-- Per-tenant overrides of the platform's authentication policy (null: the platform default).
create table tenant_auth_policy (
  tenant_id uuid primary key references tenants (id),
  password_min_length int,
  password_composition boolean,
  password_max_age_days int,
  password_history int,
  session_idle_minutes int,
  session_absolute_minutes int,
  updated_at timestamptz not null
);
alter table tenant_auth_policy enable row level security;
alter table tenant_auth_policy force row level security;
create policy tenant_isolation on tenant_auth_policy
  using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, update, delete on tenant_auth_policy to tresor_app;

-- Platform tables: a token or session is looked up by its hash before any
-- tenant is known (as api_keys). They hold no personal value.
create table auth_tokens (
  hash bytea primary key,
  kind text not null check (kind in ('invitation', 'enrollment', 'mfa', 'password_reset')),
  tenant_id uuid references tenants (id),
  user_id uuid not null references users (id) on delete cascade,
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null
);
create index auth_tokens_user on auth_tokens (user_id);

create table sessions (
  id uuid primary key,
  hash bytea not null unique,
  csrf_hash bytea not null,
  tenant_id uuid references tenants (id),
  user_id uuid not null references users (id) on delete cascade,
  role text not null,
  ip text,
  user_agent text,
  created_at timestamptz not null,
  last_seen_at timestamptz not null,
  idle_ms int not null,
  expires_at timestamptz not null,
  revoked_at timestamptz
);
create index sessions_user on sessions (user_id) where revoked_at is null;

-- Failed logins per account (SHA-256 of tenant ‖ normalised email, known or
-- not, so unknown accounts lock alike) and per source address.
create table auth_throttle (
  key bytea primary key,
  consecutive int not null default 0,
  locked_until timestamptz,
  window_start timestamptz not null,
  window_failures int not null default 0
);

-- In a tenant transaction (under tresor_app) only the tenant's own tokens and
-- sessions are visible: deactivating a user ends its sessions in the same
-- transaction. Not FORCEd: lookups by hash run in platform context as owner.
do $$
declare t text;
begin
  foreach t in array array['auth_tokens', 'sessions'] loop
    execute format('alter table %I enable row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
      with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
    execute format('grant select, insert, update, delete on %I to tresor_app', t);
  end loop;
end
$$;
-- Counters only (hashed keys, no tenant data): written by login flows that
-- also record the tenant's security events in the same transaction.
grant select, insert, update on auth_throttle to tresor_app;
