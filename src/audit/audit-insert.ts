import type { PendingEntry } from './audit-leaf.ts';
import { leafHash } from './audit-leaf.ts';

// One statement for any number of entries: a constant text (prepared once per
// connection) with one JSON parameter. Leaf bytes travel as base64 so the
// stored bytes are exactly those the application encoded and hashed.
export const AUDIT_INSERT_SQL = `insert into audit_entries
  (tenant_id, created_at, kind, actor_type, actor_id, action, collection, record_ids, leaf, leaf_hash)
  select x.tenant_id, x.created_at, x.kind, x.actor_type, x.actor_id, x.action, x.collection,
    case when x.record_ids is null then null else array(select jsonb_array_elements_text(x.record_ids))::uuid[] end,
    decode(x.leaf, 'base64'), decode(x.leaf_hash, 'base64')
  from jsonb_to_recordset($1::text::jsonb) as x(tenant_id uuid, created_at timestamptz, kind text, actor_type text,
    actor_id text, action text, collection text, record_ids jsonb, leaf text, leaf_hash text)`;

export function auditInsertParams(entries: readonly PendingEntry[]): [string] {
  return [JSON.stringify(entries.map(({ leaf, bytes }) => ({
    tenant_id: leaf.tenantId,
    created_at: leaf.time,
    kind: leaf.kind,
    actor_type: leaf.actor?.type ?? null,
    actor_id: leaf.actor?.id ?? null,
    action: leaf.kind === 'request' ? 'http.request' : leaf.action,
    collection: leaf.kind === 'data' ? leaf.collection ?? null : null,
    record_ids: leaf.kind === 'data' && leaf.recordIds ? leaf.recordIds : null,
    leaf: bytes.toString('base64'),
    leaf_hash: leafHash(bytes).toString('base64'),
  })))];
}
