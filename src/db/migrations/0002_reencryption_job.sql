-- Background re-encryption (key rotation) runs as a job on whichever node
-- leads. It finds its work through tenants.reencrypt_requested_at, a platform
-- column readable without a tenant context; rotation sets it in the tenant
-- transaction that adds the key version, and the job clears it when done.
alter table tenants add column reencrypt_requested_at timestamptz;
grant update (reencrypt_requested_at) on tenants to tresor_app;
create index tenants_reencrypt on tenants (reencrypt_requested_at) where reencrypt_requested_at is not null;

-- A record that cannot be decrypted is set aside (reported in the key status
-- by id and collection) instead of stopping the rotation.
alter table records add column unreadable_at timestamptz;

-- Rotations under way when this migration runs: the owner reads every
-- tenant's key rows once, with RLS lifted for this transaction only.
alter table tenant_keys no force row level security;
update tenants set reencrypt_requested_at = now()
  where id in (select tenant_id from tenant_keys where status = 'retiring');
alter table tenant_keys force row level security;
