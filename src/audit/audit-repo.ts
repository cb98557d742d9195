import type { Queries, TenantTx } from '../db/db.ts';

export interface AuditFilter {
  from?: Date;
  to?: Date;
  actor?: string;
  action?: string;
  recordId?: string;
  /** Platform queries only: one tenant's entries. */
  tenantId?: string;
  /** Entry ids beyond this one (below it when newest first, above it when oldest first). */
  after?: string;
  order: 'newest' | 'oldest';
  limit: number;
}

export interface AuditRow { id: string; leaf: Uint8Array | null; leafHash: Uint8Array; createdAt: Date; tenantId: string | null; action: string; seq?: string | null }

/**
 * Only the conditions given are put into the statement (no `$n is null or …`),
 * so each combination gets a plan that can use its index; every operator used
 * is leakproof, so under RLS the indexes still apply.
 */
export function auditQuery(f: AuditFilter, withSeq = false): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const where: string[] = [];
  const add = (sql: (n: string) => string, v: unknown) => { params.push(v); where.push(sql(`$${params.length}`)); };
  if (f.from) add((n) => `e.created_at >= ${n}`, f.from);
  if (f.to) add((n) => `e.created_at < ${n}`, f.to);
  if (f.actor) add((n) => `e.actor_id = ${n}`, f.actor);
  if (f.action) add((n) => `e.action = ${n}`, f.action);
  if (f.tenantId) add((n) => `e.tenant_id = ${n}::uuid`, f.tenantId);
  if (f.after) add((n) => `e.id ${f.order === 'newest' ? '<' : '>'} ${n}::bigint`, f.after);
  if (f.recordId) add((n) => `e.id in (select r.entry_id from audit_record_refs r where r.record_id = ${n}::uuid)`, f.recordId);
  params.push(f.limit);
  return {
    text: `select e.id::text as id, e.leaf, e.leaf_hash as "leafHash", e.created_at as "createdAt", e.tenant_id as "tenantId", e.action
        ${withSeq ? ', l.seq::text as seq' : ''}
      from audit_entries e ${withSeq ? 'left join audit_log l on l.entry_id = e.id' : ''} ${where.length ? `where ${where.join(' and ')}` : ''}
      order by e.id ${f.order === 'newest' ? 'desc' : 'asc'} limit $${params.length}`,
    params,
  };
}

export const auditRepo = {
  /** A tenant's entries (RLS keeps the transaction to its tenant). */
  tenantEntries: (tx: TenantTx, f: AuditFilter) => { const q = auditQuery(f); return tx.query<AuditRow>(q.text, q.params); },
  /**
   * Every tenant's entries and the platform's own (operators, export), with
   * the seq the sequencer gave each (null until sequenced): platform context,
   * no RLS role (the app role may not read the Merkle tables).
   */
  platformEntries: (db: Queries, f: AuditFilter) => { const q = auditQuery(f, true); return db.query<AuditRow>(q.text, q.params); },
};
