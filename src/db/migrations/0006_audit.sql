-- The audit log: one platform-wide, append-only table. Each row's `leaf` is
-- the canonical bytes of one entry (UTF-8 JSON, keys sorted), exactly what the
-- Merkle tree hashes; `leaf_hash` = SHA-256(0x00 ‖ leaf) (RFC 6962 leaf hash),
-- kept when retention redacts an old entry so the tree stays verifiable.
-- The other columns repeat parts of the leaf for queries. The sequencer gives
-- entries their `seq` in tables of its own: audit_entries is never updated.
create table audit_entries (
  id bigserial primary key,
  -- No foreign key: a request entry may name a tenant id that does not exist (a 404).
  tenant_id uuid,
  created_at timestamptz not null,
  kind text not null check (kind in ('data', 'request')),
  actor_type text,
  actor_id text,
  action text not null,
  collection text,
  leaf bytea,
  leaf_hash bytea not null check (length(leaf_hash) = 32),
  -- Redacted (retention) rows keep only what the tree and the tenant's
  -- history need: id, tenant, time, kind, action and the leaf hash.
  redacted_at timestamptz,
  check ((leaf is null) = (redacted_at is not null))
);
create index audit_entries_tenant on audit_entries (tenant_id, id);
create index audit_entries_tenant_actor on audit_entries (tenant_id, actor_id, id);
create index audit_entries_tenant_action on audit_entries (tenant_id, action, id);
create index audit_entries_created on audit_entries (created_at);

-- Which entries name a record (history). A table of its own rather than an
-- array column: under RLS PostgreSQL only uses an index for leakproof
-- operators, and uuid equality is one, array containment is not.
create table audit_record_refs (
  tenant_id uuid not null,
  record_id uuid not null,
  entry_id bigint not null references audit_entries (id),
  primary key (tenant_id, record_id, entry_id)
);

-- A tenant transaction (role tresor_app) sees and writes only its tenant's
-- entries. RLS is not FORCEd: the owner's platform transactions (operators'
-- platform-wide queries, the request-log writer, the sequencer, export) read
-- and write across tenants, and never run as tresor_app.
do $$
declare t text;
begin
  foreach t in array array['audit_entries', 'audit_record_refs'] loop
    execute format('alter table %I enable row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
      with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
    execute format('grant select, insert on %I to tresor_app', t);
  end loop;
end
$$;

-- Append-only: the app role may only insert and read (no UPDATE/DELETE grant,
-- unlike the other tenant tables), and the trigger refuses UPDATE, DELETE and
-- TRUNCATE for everyone, the owner included. The one exception is retention's
-- redaction, which the owner turns on for its transaction: it may only blank
-- the leaf and the query columns, keeping id, tenant, time, kind, action and
-- leaf_hash. A DBA can still drop the trigger; the signed Merkle tree is what
-- makes that detectable.
grant select, insert on audit_entries to tresor_app;
grant usage on sequence audit_entries_id_seq to tresor_app;

create function audit_entries_append_only() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and current_setting('tresor.audit_redact', true) = 'on' and current_user <> 'tresor_app' then
    if old.leaf is not null and new.leaf is null and new.redacted_at is not null
      and new.id = old.id and new.tenant_id is not distinct from old.tenant_id and new.created_at = old.created_at
      and new.kind = old.kind and new.action = old.action and new.leaf_hash = old.leaf_hash
      and new.actor_type is null and new.actor_id is null and new.collection is null then
      return new;
    end if;
  end if;
  raise exception 'audit entries are append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end
$$;
create trigger audit_entries_no_change before update or delete on audit_entries
  for each row execute function audit_entries_append_only();
create trigger audit_entries_no_truncate before truncate on audit_entries
  for each statement execute function audit_entries_append_only();

create function audit_record_refs_append_only() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' and current_setting('tresor.audit_redact', true) = 'on' and current_user <> 'tresor_app'
    and exists (select 1 from audit_entries e where e.id = old.entry_id and e.leaf is null) then
    return old;
  end if;
  raise exception 'audit record references are append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end
$$;
create trigger audit_record_refs_no_change before update or delete on audit_record_refs
  for each row execute function audit_record_refs_append_only();
create trigger audit_record_refs_no_truncate before truncate on audit_record_refs
  for each statement execute function audit_record_refs_append_only();

-- Retention counts from a tenant's closure. The status 'closed' exists; its
-- time did not: closed_at is set when the status becomes 'closed' (cleared
-- on reopening), whatever code closes the tenant. A tenant closed before this
-- column existed has none, and its entries are never purged automatically.
alter table tenants add column closed_at timestamptz;
create function tenants_closed_at() returns trigger language plpgsql as $$
begin
  if new.status = 'closed' and old.status is distinct from 'closed' then new.closed_at := coalesce(new.closed_at, now()); end if;
  if new.status <> 'closed' then new.closed_at := null; end if;
  return new;
end
$$;
create trigger tenants_closed_at before update of status on tenants for each row execute function tenants_closed_at();
