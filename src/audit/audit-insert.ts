import type { PendingEntry } from './audit-leaf.ts';
import { leafHash } from './audit-leaf.ts';

// One statement for any number of entries: a constant text (prepared once per
// connection) with one JSON parameter. Leaf bytes travel as base64 so the
// stored bytes are exactly those the application encoded and hashed. Ids are
// drawn first so the record references can point at their entries.
export const AUDIT_INSERT_SQL = `with x as materialized (
    select nextval('audit_entries_id_seq') as id, x.* from jsonb_to_recordset($1::text::jsonb) as x(tenant_id uuid,
      created_at timestamptz, kind text, actor_type text, actor_id text, action text, collection text, record_ids jsonb,
      leaf text, leaf_hash text)),
  e as (insert into audit_entries (id, tenant_id, created_at, kind, actor_type, actor_id, action, collection, leaf, leaf_hash)
    select x.id, x.tenant_id, x.created_at, x.kind, x.actor_type, x.actor_id, x.action, x.collection,
      decode(x.leaf, 'base64'), decode(x.leaf_hash, 'base64') from x)
  insert into audit_record_refs (tenant_id, record_id, entry_id)
    select distinct x.tenant_id, r.id::uuid, x.id from x cross join lateral jsonb_array_elements_text(x.record_ids) as r(id)
    where x.tenant_id is not null and x.record_ids is not null`;

export function auditInsertParams(entries: readonly PendingEntry[]): [string] {
  return [JSON.stringify(entries.map(({ leaf, bytes }) => ({
    tenant_id: leaf.tenantId,
    created_at: leaf.time,
    kind: leaf.kind,
    actor_type: leaf.actor?.type ?? null,
    actor_id: leaf.actor?.id ?? null,
    action: leaf.kind === 'request' ? 'http.request' : leaf.action,
    collection: leaf.kind === 'data' ? leaf.collection ?? null : null,
    record_ids: leaf.kind === 'data' && leaf.recordIds?.length ? leaf.recordIds : null,
    leaf: bytes.toString('base64'),
    leaf_hash: leafHash(bytes).toString('base64'),
  })))];
}
