-- Data-subject rights: legal holds and the erasure ledger. Both keep a
-- subject's blind-index hashes (per collection and field), never a value.

-- A hold on a subject blocks its erasure (and retention's deletions) until
-- released. A record is held when it matches every term of one (hold,
-- collection) group: `terms` counts the group's terms.
create table legal_holds (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  reason text not null check (length(reason) between 1 and 500),
  fields jsonb not null,
  created_by text not null,
  created_at timestamptz not null,
  released_by text,
  released_at timestamptz,
  primary key (tenant_id, id)
);
create index legal_holds_page on legal_holds (tenant_id, id);

create table legal_hold_terms (
  tenant_id uuid not null,
  hold_id uuid not null,
  collection_id uuid not null,
  field text not null,
  hash bytea not null,
  terms int not null check (terms between 1 and 10),
  primary key (tenant_id, hold_id, collection_id, field),
  foreign key (tenant_id, hold_id) references legal_holds (tenant_id, id)
);
create index legal_hold_terms_lookup on legal_hold_terms (tenant_id, collection_id, field, hash);

-- What was erased: the subject's hashes per collection and field, and the ids
-- of the records deleted. Append-only; re-applied to a restored store for any
-- entry it lacks (the entries are also kept, signed, in TRESOR_BACKUP_DIR).
create table erasure_ledger (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  erased_at timestamptz not null,
  entry bytea not null,
  signature bytea not null,
  reapplied_at timestamptz,
  primary key (tenant_id, id)
);

do $$
declare t text;
begin
  foreach t in array array['legal_holds', 'legal_hold_terms', 'erasure_ledger'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
      with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
  end loop;
end
$$;
grant select, insert, update on legal_holds to tresor_app;
grant select, insert on legal_hold_terms, erasure_ledger to tresor_app;
