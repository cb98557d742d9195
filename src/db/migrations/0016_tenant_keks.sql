-- Crypto-shredding that reaches backups, and closure gaps.
--
-- Per-tenant key-encryption keys: a tenant's data, blind-index and pseudonym
-- keys are wrapped under a KEK derived from the root key and a secret kept
-- outside the database (TRESOR_TENANT_KEY_DIR). `wrapping` says which key
-- wraps a row: 'root' (rows made before this migration, until the start-up
-- re-wrap) or 'tenant'. tenants.tenant_kek_at marks tenants whose every key
-- row is tenant-wrapped, so the start-up step skips them.
alter table tenant_keys add column wrapping text not null default 'root' check (wrapping in ('root', 'tenant'));
alter table pseudonym_keys add column wrapping text not null default 'root' check (wrapping in ('root', 'tenant'));
alter table tenants add column tenant_kek_at timestamptz;
grant update (tenant_kek_at) on tenants to tresor_app;

-- The write freeze of closed tenants binds the pseudonym role too (its keys
-- and mappings are written as tresor_pseudonym), and it serialises with
-- closing: the check takes a KEY SHARE lock on the tenant row, which the
-- close's FOR UPDATE waits for (and which waits for a close under way, then
-- reads the committed status). A write that passed the check therefore
-- commits before the close does, never after it. The lock is taken by a
-- definer function, since the pseudonym role holds no update grant on tenants.
create function tenant_status_for_write(tenant uuid) returns text language sql security definer
  set search_path = pg_catalog, public as $$
  select status from public.tenants where id = tenant for key share
$$;
revoke all on function tenant_status_for_write(uuid) from public;
grant execute on function tenant_status_for_write(uuid) to tresor_app, tresor_pseudonym;

create or replace function tenant_writes_frozen() returns trigger language plpgsql as $$
begin
  if current_user in ('tresor_app', 'tresor_pseudonym')
      and coalesce(tenant_status_for_write(nullif(current_setting('app.tenant_id', true), '')::uuid), 'active') <> 'active' then
    raise exception 'tenant is not active: writes are refused' using errcode = 'TR409';
  end if;
  return null;
end
$$;
do $$
declare t text;
begin
  foreach t in array array['pseudonym_keys', 'pseudonym_map'] loop
    execute format('create trigger %I before insert or update or delete on %I for each statement execute function tenant_writes_frozen()',
      t || '_frozen_when_closed', t);
  end loop;
end
$$;

-- Retention selects a collection's records created or last updated before a
-- cutoff: these serve the range as an index condition instead of a scan of
-- the whole collection.
create index records_retention_created on records (tenant_id, collection_id, created_at);
create index records_retention_updated on records (tenant_id, collection_id, updated_at);

-- A legal hold covers collections made after it too: the subject's lookup
-- values are kept sealed (AES-256-GCM under a key derived from the tenant's
-- blind-index key, AAD bound to tenant and hold) while the hold is active, so
-- a new collection's terms can be computed when it is created; released holds
-- drop them. Holds from before this migration keep only their terms.
alter table legal_holds add column subject_sealed bytea;
