-- Tresor core schema: tenants, API keys, per-tenant keys, collections, records.
-- Tenant-owned tables carry tenant_id and are guarded by row-level security on
-- current_setting('app.tenant_id'); FORCE makes the policy bind the table owner
-- too. The application role tresor_app is NOSUPERUSER NOBYPASSRLS.
-- Roles are cluster-wide but the migration lock is per database: when two
-- databases of one cluster migrate at once (parallel test files, two
-- deployments), the loser of the race finds the role or membership made.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'tresor_app') then
    begin
      create role tresor_app nologin nosuperuser nobypassrls;
    exception when duplicate_object or unique_violation then null;
    end;
  end if;
  begin
    grant tresor_app to current_user;
  exception when duplicate_object or unique_violation then null;
  end;
end
$$;

-- Which root key wraps the tenant keys: lets a start with a missing or wrong
-- key file fail loudly instead of creating a fresh key. Holds no secret.
create table root_key (
  id boolean primary key default true check (id),
  provider text not null,
  kek_id text not null,
  salt bytea,
  created_at timestamptz not null default now()
);

create table tenants (
  id uuid primary key,
  name text not null,
  status text not null default 'active' check (status in ('active', 'closed')),
  created_at timestamptz not null default now()
);

-- Platform table: a key is looked up by its hash before any tenant is known.
create table api_keys (
  id uuid primary key,
  tenant_id uuid references tenants (id),
  name text not null,
  role text not null check (role in ('operator', 'admin', 'editor', 'viewer')),
  prefix text not null unique,
  hash bytea not null unique,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  check ((role = 'operator') = (tenant_id is null))
);

create table tenant_keys (
  tenant_id uuid not null references tenants (id),
  purpose text not null check (purpose in ('data', 'index', 'pseudonym')),
  version int not null,
  wrapped bytea not null,
  kek_id text not null,
  status text not null default 'active' check (status in ('active', 'retiring', 'retired')),
  created_at timestamptz not null default now(),
  primary key (tenant_id, purpose, version)
);

create table collections (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  name text not null,
  fields jsonb not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, name)
);

-- enc: {field: base64(nonce ‖ ciphertext ‖ tag)} for personal fields, all under
-- key_version; plain: fields classified 'none'.
create table records (
  tenant_id uuid not null,
  id uuid not null,
  collection_id uuid not null,
  version int not null default 1,
  key_version int not null,
  enc jsonb not null,
  plain jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  foreign key (tenant_id, collection_id) references collections (tenant_id, id)
);
create index records_list on records (tenant_id, collection_id, id);
create index records_key_version on records (tenant_id, key_version);

-- Blind index: HMAC-SHA256 of the normalised value under the tenant's index key.
create table record_index (
  tenant_id uuid not null,
  collection_id uuid not null,
  record_id uuid not null,
  field text not null,
  hash bytea not null,
  is_unique boolean not null,
  primary key (tenant_id, record_id, field),
  foreign key (tenant_id, record_id) references records (tenant_id, id) on delete cascade
);
create index record_index_lookup on record_index (tenant_id, collection_id, field, hash);
create unique index record_index_unique on record_index (tenant_id, collection_id, field, hash) where is_unique;

do $$
declare t text;
begin
  foreach t in array array['tenant_keys', 'collections', 'records', 'record_index'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
      with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
    execute format('grant select, insert, update, delete on %I to tresor_app', t);
  end loop;
end
$$;
grant select on tenants to tresor_app;
