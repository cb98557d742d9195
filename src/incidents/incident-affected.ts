import type { Db, Tx } from '../db/db.ts';
import type { Actor } from '../access/permissions.ts';
import { type AffectedQuery, type IncidentRow, type TenantPartRow, incidentsRepo as repo } from './incidents-repo.ts';
import { incidentWrites } from './incident-writes.ts';

// Who an incident affects, read from the audit trail: the records an actor
// read or changed in a window, per tenant, as counts and record ids — never a
// value. Each tenant's records are read in that tenant's own context (RLS on
// the audit tables), so one tenant's query can never return another's rows.

/** Audit actions that read records, and those that change them (the default query covers both). */
export const READ_ACTIONS = ['record.read', 'record.list', 'record.search', 'subject.find', 'subject.export'];
export const CHANGE_ACTIONS = ['record.create', 'record.update', 'record.delete', 'record.import', 'subject.erase'];
export const AFFECTED_ACTIONS = [...READ_ACTIONS, ...CHANGE_ACTIONS];

/** One tenant's part: the records touched, by collection, at most `idsMax` ids in all. */
export async function tenantPart(db: Pick<Db, 'withTenant'>, incidentId: string, tenantId: string, q: AffectedQuery, idsMax: number, at: Date): Promise<TenantPartRow> {
  const rows = await db.withTenant(tenantId, (tx) => repo.recordsTouched(tx, q));
  const read = new Set<string>();
  const changed = new Set<string>();
  const ids: Record<string, string[]> = {};
  let kept = 0;
  let total = 0;
  for (const r of rows) {
    const key = `${r.collection ?? ''}/${r.recordId}`;
    if (!read.has(key) && !changed.has(key)) {
      total++;
      if (kept < idsMax) { (ids[r.collection ?? ''] ??= []).push(r.recordId); kept++; }
    }
    (READ_ACTIONS.includes(r.action) ? read : changed).add(key);
  }
  return { incidentId, tenantId, query: q, recordsRead: read.size, recordsChanged: changed.size, recordsTotal: total,
    recordIds: ids, recordIdsTruncated: total > kept, computedAt: at };
}

interface Deps { db: Db; recordIdsMax: number; openForChange: (tx: Tx, id: string) => Promise<IncidentRow> }

/** Computes every touched tenant's part and stores it on the incident, each tenant's audit log noting it. */
export async function affectedRecords({ db, recordIdsMax, openForChange }: Deps, actor: Actor, incidentId: string, q: AffectedQuery, at: Date) {
  const tenants = await repo.tenantsTouched(db, q);
  const parts = await Promise.all(tenants.map((t) => tenantPart(db, incidentId, t, q, recordIdsMax, at)));
  await db.transaction(async (tx) => {
    const row = await openForChange(tx, incidentId);
    for (const p of parts) {
      await repo.upsertPart(tx, p);
      tx.audit({ action: 'incident.affected', actor, tenantId: p.tenantId, target: { type: 'incident', id: incidentId },
        detail: { recordsRead: p.recordsRead, recordsChanged: p.recordsChanged, recordsTotal: p.recordsTotal } });
    }
    await incidentWrites.event(tx, actor, row, { kind: 'affected_computed',
      note: `records of actor ${q.actorId} from ${q.from} to ${q.to}: ${parts.length} tenant(s), ${parts.reduce((n, p) => n + p.recordsTotal, 0)} record(s)` },
    at, 'incident.affected', { tenants: parts.length, records: parts.reduce((n, p) => n + p.recordsTotal, 0) });
  });
}
