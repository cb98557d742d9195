import type { TenantTx } from '../db/db.ts';
import { toBuffer } from '../db/db.ts';
import { byteaParam, moreTermsSql } from '../db/index-terms.ts';
import type { Term } from './subject-terms.ts';

// Tenant transactions only: RLS scopes every statement.
const idsJson = (ids: readonly string[]) => JSON.stringify(ids);

/** Ids of the collection's records matching every term (the same plan as a record search). */
export function matchingIdsQuery(collectionId: string, terms: Term[]) {
  const params: unknown[] = [collectionId, terms[0].field, byteaParam(terms[0].hash)];
  const extra = moreTermsSql(params, terms, 'hits.record_id');
  return { text: `with hits as materialized (select record_id from record_index
      where collection_id = $1 and field = $2 and hash = $3::bytea)
    select hits.record_id::text as id from hits where true${extra}`, params };
}

export interface HoldRow {
  id: string; reason: string; fields: string[]; createdBy: string; createdAt: Date; releasedBy: string | null; releasedAt: Date | null;
}
const holdColumns = `id::text as id, reason, fields, created_by as "createdBy", created_at as "createdAt",
  released_by as "releasedBy", released_at as "releasedAt"`;

export const subjectsRepo = {
  matchingIds: async (tx: TenantTx, collectionId: string, terms: Term[]) => {
    const q = matchingIdsQuery(collectionId, terms);
    return (await tx.query<{ id: string }>(q.text, q.params)).map((r) => r.id);
  },

  /** Deletes these records (their index rows go by cascade); returns how many were there. */
  deleteRecords: async (tx: TenantTx, ids: readonly string[]) =>
    ids.length ? (await tx.query('delete from records where id in (select jsonb_array_elements_text($1::text::jsonb)::uuid) returning id', [idsJson(ids)])).length : 0,

  insertLedger: (tx: TenantTx, e: { id: string; erasedAt: Date; entry: Buffer; signature: Buffer; reappliedAt?: Date }) =>
    tx.query('insert into erasure_ledger (tenant_id, id, erased_at, entry, signature, reapplied_at) values ($1, $2, $3, $4, $5, $6)',
      [tx.tenantId, e.id, e.erasedAt, e.entry, e.signature, e.reappliedAt ?? null]),

  ledgerIds: async (tx: TenantTx) => new Set((await tx.query<{ id: string }>('select id::text as id from erasure_ledger')).map((r) => r.id)),

  ledger: async (tx: TenantTx) => (await tx.query<{ entry: Uint8Array; signature: Uint8Array }>('select entry, signature from erasure_ledger order by id'))
    .map((r) => ({ entry: toBuffer(r.entry), signature: toBuffer(r.signature) })),

  insertHold: async (tx: TenantTx, h: { id: string; reason: string; fields: string[]; createdBy: string; createdAt: Date; subjectSealed: Buffer;
    groups: Array<{ collectionId: string; terms: Term[] }> }) => {
    const terms = h.groups.flatMap((g) => g.terms.map((t) => ({ c: g.collectionId, f: t.field, h: t.hash, n: g.terms.length })));
    const [row] = await tx.query<HoldRow>(
      `with h as (insert into legal_holds (tenant_id, id, reason, fields, created_by, created_at, subject_sealed) values ($1, $2, $3, $4::text::jsonb, $5, $6, $8)
         returning ${holdColumns}),
       t as (insert into legal_hold_terms (tenant_id, hold_id, collection_id, field, hash, terms)
         select $1, $2, x.c, x.f, decode(x.h, 'hex'), x.n from jsonb_to_recordset($7::text::jsonb) as x(c uuid, f text, h text, n int))
       select * from h`,
      [tx.tenantId, h.id, h.reason, JSON.stringify(h.fields), h.createdBy, h.createdAt, JSON.stringify(terms), h.subjectSealed]);
    return row;
  },

  listHolds: (tx: TenantTx, after: string | null, limit: number) =>
    tx.query<HoldRow>(`select ${holdColumns} from legal_holds where ($1::uuid is null or id < $1::uuid) order by id desc limit $2`, [after, limit]),

  releaseHold: async (tx: TenantTx, id: string, by: string, at: Date) =>
    (await tx.query<HoldRow>(`update legal_holds set released_by = $2, released_at = $3, subject_sealed = null where id = $1 and released_at is null returning ${holdColumns}`,
      [id, by, at]))[0],

  /** Active holds whose lookup values are kept (sealed), for a collection created after them. */
  activeHoldSubjects: (tx: TenantTx) =>
    tx.query<{ id: string; sealed: Uint8Array }>('select id::text as id, subject_sealed as sealed from legal_holds where released_at is null and subject_sealed is not null'),

  /** A hold's terms in one more collection. */
  insertHoldTerms: (tx: TenantTx, holdId: string, collectionId: string, terms: Term[]) =>
    tx.query(`insert into legal_hold_terms (tenant_id, hold_id, collection_id, field, hash, terms)
      select $1, $2, $3, x.f, decode(x.h, 'hex'), $5 from jsonb_to_recordset($4::text::jsonb) as x(f text, h text) on conflict do nothing`,
    [tx.tenantId, holdId, collectionId, JSON.stringify(terms.map((t) => ({ f: t.field, h: t.hash }))), terms.length]),

  /**
   * Which of these records an active legal hold covers: a record is held when
   * it matches every term of one (hold, collection) group.
   */
  heldRecordIds: async (tx: TenantTx, recordIds: readonly string[]): Promise<Set<string>> => {
    if (!recordIds.length) return new Set();
    const rows = await tx.query<{ id: string }>(
      `with ids as materialized (select jsonb_array_elements_text($1::text::jsonb)::uuid as id)
       select distinct m.id::text as id from (
         select i.record_id as id from ids
         join record_index i on i.record_id = ids.id
         join legal_hold_terms t on t.collection_id = i.collection_id and t.field = i.field and t.hash = i.hash
         join legal_holds h on h.tenant_id = t.tenant_id and h.id = t.hold_id and h.released_at is null
         group by i.record_id, t.hold_id, t.collection_id having count(*) = min(t.terms)) m`,
      [idsJson(recordIds)]);
    return new Set(rows.map((r) => r.id));
  },
};

/**
 * For background deletions (retention): which of `recordIds` an active legal
 * hold covers, so the caller skips them. Runs in the caller's tenant transaction.
 */
export const heldRecordIds = subjectsRepo.heldRecordIds;
