-- One AES-256-GCM seal per record over all of its encrypted fields (padded,
-- AAD tenant ‖ collection ‖ record ‖ key version) instead of one per field.
-- Rows written before keep `enc` and a null `sealed`; they read as they are,
-- and the re-encryption job seals them (key_version <> active or sealed is null).
alter table records add column sealed bytea;
create index records_unsealed on records (tenant_id) where sealed is null;

-- Every tenant with records has rows to convert: ask the job, with RLS lifted
-- for the owner in this transaction only.
alter table records no force row level security;
update tenants set reencrypt_requested_at = coalesce(reencrypt_requested_at, now())
  where id in (select distinct tenant_id from records);
alter table records force row level security;
