-- The sequenced audit log (RFC 6962 Merkle tree over audit_entries).
-- audit_log gives each entry its seq (0-based leaf index) in the order the
-- sequencer saw entries committed; audit_entries itself is never updated.
-- No foreign key to audit_entries: the verifier, not a constraint, is what
-- proves an entry is still there, and a constraint would only hide a deletion
-- behind an error instead of naming its seq.
create table audit_log (
  seq bigint primary key check (seq >= 0),
  entry_id bigint not null unique
);

-- Hashes of the perfect subtrees: (level, index) covers leaves
-- [index * 2^level, (index + 1) * 2^level); level 0 holds the leaf hashes.
-- Any root or proof is a fold of at most log2(n) of these, so proofs and new
-- heads never reread the entries.
create table audit_tree_nodes (
  level smallint not null check (level between 0 and 62),
  index bigint not null check (index >= 0),
  hash bytea not null check (length(hash) = 32),
  primary key (level, index)
);

-- Signed tree heads: Ed25519 over 0x00 ‖ 0x01 ‖ timestamp ms (uint64 BE) ‖
-- tree size (uint64 BE) ‖ root (32 bytes), RFC 6962 §3.5's TreeHeadSignature.
create table audit_tree_heads (
  tree_size bigint primary key check (tree_size >= 0),
  root_hash bytea not null check (length(root_hash) = 32),
  timestamp_ms bigint not null,
  signature bytea not null check (length(signature) = 64),
  key_id text not null
);

-- Append-only for everyone, the owner included: the sequencer only inserts.
create function audit_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'the audit log is append-only: % on % refused', tg_op, tg_table_name using errcode = 'insufficient_privilege';
end
$$;
create trigger audit_log_no_change before update or delete on audit_log
  for each row execute function audit_log_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_append_only();
create trigger audit_tree_nodes_no_change before update or delete on audit_tree_nodes
  for each row execute function audit_log_append_only();
create trigger audit_tree_nodes_no_truncate before truncate on audit_tree_nodes
  for each statement execute function audit_log_append_only();
create trigger audit_tree_heads_no_change before update or delete on audit_tree_heads
  for each row execute function audit_log_append_only();
create trigger audit_tree_heads_no_truncate before truncate on audit_tree_heads
  for each statement execute function audit_log_append_only();

-- The app role never touches these: the sequencer and readers use the owner's
-- platform transactions. Revoke in case a default privilege granted anything.
revoke all on audit_log, audit_tree_nodes, audit_tree_heads from tresor_app;
