-- Data lifecycle, part one: retention policies per collection, tenant closure
-- (read-only, then crypto-shredding and row deletion after the retention
-- period) and signed deletion certificates.

-- One policy per collection: a record is deleted `days` days after its
-- creation, its last update, or the date in a (non-encrypted) date field.
create table retention_policies (
  tenant_id uuid not null,
  collection_id uuid not null,
  basis text not null check (basis in ('created', 'updated', 'field')),
  days int not null check (days between 0 and 36500),
  field text,
  updated_at timestamptz not null,
  primary key (tenant_id, collection_id),
  foreign key (tenant_id, collection_id) references collections (tenant_id, id) on delete cascade,
  check ((basis = 'field') = (field is not null))
);
alter table retention_policies enable row level security;
alter table retention_policies force row level security;
create policy tenant_isolation on retention_policies
  using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
grant select, insert, update, delete on retention_policies to tresor_app;

-- Closure: 'closed' tenants are read-only until purge_after; then the purge
-- destroys their keys (keys_destroyed_at), deletes their rows and leaves the
-- tenant row as a tombstone ('purged') that names the deletion certificates.
-- purge_manifest: what the tenant held when its keys were destroyed (counts
-- per table, collection names), the certificate's content.
alter table tenants drop constraint tenants_status_check;
alter table tenants add constraint tenants_status_check check (status in ('active', 'closed', 'purged'));
alter table tenants add column purge_after timestamptz;
alter table tenants add column keys_destroyed_at timestamptz;
alter table tenants add column purged_at timestamptz;
alter table tenants add column purge_manifest jsonb;

-- closed_at (0006) now outlives the purge, so audit retention still counts
-- from the closure once the tenant is a tombstone; reopening clears it.
create or replace function tenants_closed_at() returns trigger language plpgsql as $$
begin
  if new.status = 'closed' and old.status is distinct from 'closed' then new.closed_at := coalesce(new.closed_at, now()); end if;
  if new.status = 'active' then new.closed_at := null; new.purge_after := null; end if;
  return new;
end
$$;

-- A tenant that is not active is read-only for the application role: every
-- statement that would change its collections, records, retention policies
-- or keys is refused with SQLSTATE TR409 (answered 409 tenant.not_active),
-- whatever code path sends it (API, import workers, jobs). The purge runs as
-- the owner, not as tresor_app, and is not refused. One lookup per statement.
create function tenant_writes_frozen() returns trigger language plpgsql as $$
begin
  if current_user = 'tresor_app' and exists (select 1 from tenants
      where id = nullif(current_setting('app.tenant_id', true), '')::uuid and status <> 'active') then
    raise exception 'tenant is not active: writes are refused' using errcode = 'TR409';
  end if;
  return null;
end
$$;
do $$
declare t text;
begin
  foreach t in array array['collections', 'records', 'tenant_keys', 'retention_policies'] loop
    execute format('create trigger %I before insert or update or delete on %I for each statement execute function tenant_writes_frozen()',
      t || '_frozen_when_closed', t);
  end loop;
end
$$;

-- Deletion certificates: platform evidence that outlives the tenant's data.
-- `certificate` holds the exact bytes that were signed (canonical JSON), so a
-- verifier needs only this row and the public key. Appended, never changed.
create table deletion_certificates (
  id uuid primary key,
  tenant_id uuid not null references tenants (id),
  kind text not null check (kind in ('tenant.purge')),
  issued_at timestamptz not null,
  certificate bytea not null,
  signature bytea not null,
  key_id text not null,
  public_key bytea not null
);
create index deletion_certificates_tenant on deletion_certificates (tenant_id, id);
create function deletion_certificates_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'deletion_certificates is append-only';
end
$$;
create trigger deletion_certificates_append_only before update or delete or truncate on deletion_certificates
  for each statement execute function deletion_certificates_append_only();
