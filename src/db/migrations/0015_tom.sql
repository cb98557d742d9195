-- The register of technical and organisational measures (GDPR Art. 32): one
-- row per measure of the template shipped in src/tom (inserted on first use,
-- new template entries on later starts), which the operator adapts: owner,
-- review interval, descriptions. `status` is the last computed one (evidence
-- or attestation) and when it was computed: a change to failing or overdue
-- raises a platform security event once, not on every report.
create table tom_entries (
  key text primary key check (key ~ '^[a-z][a-z0-9_.]{0,63}$'),
  owner text,
  review_interval_days int not null check (review_interval_days between 1 and 3650),
  -- the operator's wording; null: the template's
  description_de text,
  description_en text,
  last_review_at timestamptz,
  status text not null default 'pending'
    check (status in ('met', 'failing', 'overdue', 'unattested', 'not_applicable', 'pending')),
  checked_at timestamptz,
  updated_at timestamptz not null
);

-- Attestations of organisational and physical measures (and technical ones
-- Tresor cannot check itself): who attested, when, the SHA-256 of the
-- document that shows it (the document itself stays with the operator), and
-- when it must be reviewed again. Appended, never changed: the newest counts.
create table tom_attestations (
  id uuid primary key,
  entry_key text not null references tom_entries (key),
  attested_by text not null,
  attested_at timestamptz not null,
  document_sha256 text check (document_sha256 ~ '^[0-9a-f]{64}$'),
  document_bytes bigint check (document_bytes >= 0),
  next_review_at timestamptz not null check (next_review_at > attested_at),
  note text,
  recorded_by_type text not null,
  recorded_by_id text not null,
  created_at timestamptz not null
);
create index tom_attestations_entry on tom_attestations (entry_key, attested_at desc, id desc);

create function tom_attestations_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'tom_attestations is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end
$$;
create trigger tom_attestations_no_change before update or delete on tom_attestations
  for each row execute function tom_attestations_append_only();
