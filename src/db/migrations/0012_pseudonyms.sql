-- Pseudonyms and the deployment's declared environment.
--
-- The pseudonym key and the mapping pseudonym -> sealed value live apart from
-- the data: in their own tables, readable only by their own role
-- tresor_pseudonym (NOSUPERUSER NOBYPASSRLS). The app role tresor_app has no
-- grant on them, so a query running as the app role (the role of every tenant
-- transaction) cannot read a pseudonym key or a mapping. The pseudonyms code
-- switches to tresor_pseudonym for its own statements only.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'tresor_pseudonym') then
    begin
      create role tresor_pseudonym nologin nosuperuser nobypassrls;
    exception when duplicate_object or unique_violation then null;
    end;
  end if;
  begin
    grant tresor_pseudonym to current_user;
  exception when duplicate_object or unique_violation then null;
  end;
end
$$;

-- One row per key version. wrapped: a random 32-byte key wrapped by the root
-- key (AAD: tenant, purpose 'pseudonym', version), set to null when the
-- version retires (its mapping rows are deleted with it).
create table pseudonym_keys (
  tenant_id uuid not null references tenants (id) on delete cascade,
  version int not null,
  wrapped bytea,
  kek_id text not null,
  status text not null default 'active' check (status in ('active', 'retiring', 'retired')),
  created_at timestamptz not null default now(),
  retire_after timestamptz,
  primary key (tenant_id, version),
  check ((status = 'retired') = (wrapped is null))
);
create unique index pseudonym_keys_one_active on pseudonym_keys (tenant_id) where status = 'active';

-- pseudonym -> the value, sealed under the version's mapping key, one row per
-- record, field and live key version: a deleted record takes its rows along
-- (so an erased value does not survive here), and resolving a pseudonym is
-- one index probe, never a scan of the records. The record reference is
-- checked at commit, so the rows can be written before the record's final
-- statement.
create table pseudonym_map (
  tenant_id uuid not null,
  record_id uuid not null,
  collection_id uuid not null,
  field text not null,
  purpose text not null,
  version int not null,
  pseudonym bytea not null,
  sealed bytea not null,
  primary key (tenant_id, record_id, field, version),
  foreign key (tenant_id, record_id) references records (tenant_id, id) on delete cascade deferrable initially deferred,
  foreign key (tenant_id, version) references pseudonym_keys (tenant_id, version)
);
create index pseudonym_map_lookup on pseudonym_map (tenant_id, purpose, pseudonym);
create index pseudonym_map_version on pseudonym_map (tenant_id, version, record_id, field);

do $$
declare t text;
begin
  foreach t in array array['pseudonym_keys', 'pseudonym_map'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
      with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
    execute format('revoke all on %I from public, tresor_app', t);
    execute format('grant select, insert, update, delete on %I to tresor_pseudonym', t);
  end loop;
end
$$;
grant select on tenants to tresor_pseudonym;

-- What this deployment holds, as it declares itself (TRESOR_ENVIRONMENT,
-- written by every start and `tresor migrate`): `tresor tenant clone` reads
-- it from the target store and refuses a production target.
create table deployment (
  id boolean primary key default true check (id),
  environment text not null check (environment in ('production', 'staging', 'test')),
  declared_at timestamptz not null default now()
);
grant select on deployment to tresor_app;
