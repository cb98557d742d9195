-- Signed evidence of restore verifications (tresor backup verify, and the
-- weekly job): which backup was restored, when, every check and the result.
-- `evidence` holds the exact bytes that were signed (canonical JSON), so a
-- verifier needs only this row and the public key. Platform-wide, no tenant.
create table backup_verifications (
  id uuid primary key,
  backup_id text not null,
  verified_at timestamptz not null,
  result text not null check (result in ('passed', 'failed')),
  evidence bytea not null,
  signature bytea not null,
  key_id text not null,
  public_key bytea not null
);
create index backup_verifications_recent on backup_verifications (verified_at desc, id desc);

-- Evidence is appended, never changed: a failed verification cannot be
-- rewritten into a pass (and the signature would no longer match anyway).
create function backup_verifications_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'backup_verifications is append-only';
end
$$;
create trigger backup_verifications_append_only before update or delete on backup_verifications
  for each statement execute function backup_verifications_append_only();
