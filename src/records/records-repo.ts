import { byteaParam, moreTermsSql, type IndexTerm } from '../db/index-terms.ts';
import type { TenantTx } from '../db/db.ts';
import type { EncodedRecord, IndexEntry } from './record-codec.ts';

export interface RecordRow {
  id: string; collectionId: string; version: number; keyVersion: number;
  enc: Record<string, string>; plain: Record<string, unknown>; sealed: Uint8Array | null; createdAt: Date; updatedAt: Date;
}
/** What a write answers with: the data itself is already known to the caller. */
export interface WrittenRow { id: string; version: number; createdAt: Date; updatedAt: Date }
const written = 'id, version, created_at as "createdAt", updated_at as "updatedAt"';
const columns = `r.id, r.collection_id as "collectionId", r.version, r.key_version as "keyVersion", r.enc, r.plain, r.sealed,
  r.created_at as "createdAt", r.updated_at as "updatedAt"`;

const insertIndexSql = (t: string, c: string, r: string, json: string) => `insert into record_index
  (tenant_id, collection_id, record_id, field, hash, is_unique)
  select ${t}, ${c}, ${r}, x.field, decode(x.hash, 'hex'), x.u from jsonb_to_recordset(${json}::text::jsonb) as x(field text, hash text, u boolean)`;

// Under RLS, PostgreSQL uses a condition as an index condition only if its
// functions are leakproof; decode() is not, so `hash = decode(param, 'hex')`
// (in a generic plan) or `= decode(x.hash, 'hex')` over a join would scan the
// collection's whole index. Hashes therefore travel as bytea parameters, or
// are decoded first in a materialised CTE and probed LATERALly.
// test/db/index-use.test.ts checks the plans as the app role.

export const TAKEN_UNIQUE_SQL = `with x as materialized (
    select x.field, decode(x.hash, 'hex') as hash from jsonb_to_recordset($2::text::jsonb) as x(field text, hash text))
  select i.field, encode(i.hash, 'hex') as hash from x cross join lateral (
    select i.field, i.hash from record_index i
    where i.collection_id = $1 and i.field = x.field and i.hash = x.hash and i.is_unique
      and ($3::uuid is null or i.record_id <> $3::uuid)) i`;

/** Exact match on every given (field, hash) pair (exported so a test can EXPLAIN the very statement). */
export function searchQuery(collectionId: string, terms: IndexTerm[], after: string | null, limit: number) {
  const params: unknown[] = [collectionId, limit, after, terms[0].field, byteaParam(terms[0].hash)];
  const extra = moreTermsSql(params, terms, 'r.id');
  // The first term's index hits are materialised first, so no plan (generic
  // or on a table without statistics) can walk all records in id order instead.
  return { text: `with hits as materialized (select record_id from record_index
       where collection_id = $1 and field = $4 and hash = $5::bytea)
     select ${columns} from hits join records r on r.id = hits.record_id
     where ($3::uuid is null or r.id > $3::uuid)${extra} order by r.id limit $2`, params };
}


// Every statement runs inside withTenant(): RLS scopes it to one tenant.
export const recordsRepo = {
  /** Record and its blind-index rows in one statement (one round trip). */
  insert: async (tx: TenantTx, p: { tenantId: string; id: string; collectionId: string; keyVersion: number; rec: EncodedRecord }) =>
    (await tx.query<WrittenRow>(
      `with r as (insert into records (tenant_id, id, collection_id, key_version, enc, sealed, plain)
         values ($1, $2, $3, $4, '{}', decode($5, 'base64'), $6::text::jsonb) returning ${written}),
       i as (${insertIndexSql('$1::uuid', '$3::uuid', '$2::uuid', '$7')})
       select * from r`,
      [p.tenantId, p.id, p.collectionId, p.keyVersion, p.rec.sealed, JSON.stringify(p.rec.plain), JSON.stringify(p.rec.index)],
    ))[0],

  /** Many records at once (import): rowsJson is a JSON array of {id, enc, plain, index}, serialised by the encode workers. */
  insertMany: (tx: TenantTx, p: { tenantId: string; collectionId: string; keyVersion: number; rowsJson: string }) =>
    tx.query(
      `with x as (select * from jsonb_to_recordset($4::text::jsonb) as x(id uuid, sealed text, plain jsonb, index jsonb)),
       r as (insert into records (tenant_id, id, collection_id, key_version, enc, sealed, plain)
         select $1, x.id, $2, $3, '{}', decode(x.sealed, 'base64'), x.plain from x)
       insert into record_index (tenant_id, collection_id, record_id, field, hash, is_unique)
         select $1, $2, x.id, e.field, decode(e.hash, 'hex'), e.u
         from x, jsonb_to_recordset(x.index) as e(field text, hash text, u boolean)`,
      [p.tenantId, p.collectionId, p.keyVersion, p.rowsJson],
    ),

  /** The tenant's records, all collections (RLS scopes it). */
  count: async (tx: TenantTx) => (await tx.query<{ n: number }>('select count(*)::int as n from records'))[0].n,

  find: async (tx: TenantTx, collectionId: string, id: string, forUpdate = false) =>
    (await tx.query<RecordRow>(
      `select ${columns} from records r where r.id = $1 and r.collection_id = $2${forUpdate ? ' for update' : ''}`, [id, collectionId],
    ))[0],

  /**
   * One statement (one round trip, so it may end the transaction): index rows
   * of fields no longer indexed go, the others are upserted. The two CTEs touch
   * disjoint rows, so their order inside the statement does not matter.
   */
  update: async (tx: TenantTx, p: { tenantId: string; id: string; collectionId: string; keyVersion: number; rec: EncodedRecord }) =>
    (await tx.query<WrittenRow>(
      `with x as (select * from jsonb_to_recordset($7::text::jsonb) as x(field text, hash text, u boolean)),
       d as (delete from record_index where record_id = $1 and field not in (select field from x)),
       i as (insert into record_index (tenant_id, collection_id, record_id, field, hash, is_unique)
         select $6::uuid, $2::uuid, $1::uuid, x.field, decode(x.hash, 'hex'), x.u from x
         on conflict (tenant_id, record_id, field) do update set hash = excluded.hash, is_unique = excluded.is_unique),
       r as (update records set enc = '{}', sealed = decode($3, 'base64'), plain = $4::text::jsonb, key_version = $5,
         version = version + 1, updated_at = now() where id = $1 returning ${written})
       select * from r`,
      [p.id, p.collectionId, p.rec.sealed, JSON.stringify(p.rec.plain), p.keyVersion, p.tenantId, JSON.stringify(p.rec.index)],
    ))[0],

  remove: async (tx: TenantTx, collectionId: string, id: string) =>
    (await tx.query('delete from records where id = $1 and collection_id = $2 returning id', [id, collectionId])).length > 0,

  list: (tx: TenantTx, collectionId: string, after: string | null, limit: number) =>
    tx.query<RecordRow>(
      `select ${columns} from records r where r.collection_id = $1 and ($2::uuid is null or r.id > $2::uuid) order by r.id limit $3`,
      [collectionId, after, limit],
    ),

  /** Exact match on every given (field, hash) pair, in id order after `after`. */
  search: (tx: TenantTx, collectionId: string, terms: Array<{ field: string; hash: string }>, after: string | null, limit: number) => {
    const q = searchQuery(collectionId, terms, after, limit);
    return tx.query<RecordRow>(q.text, q.params);
  },

  /** Which of these unique (field, hash) pairs are already taken (by a record other than exceptId). */
  takenUnique: (tx: TenantTx, collectionId: string, entries: IndexEntry[], exceptId: string | null = null) =>
    tx.query<{ field: string; hash: string }>(TAKEN_UNIQUE_SQL,
      [collectionId, JSON.stringify(entries.map((e) => ({ field: e.field, hash: e.hash }))), exceptId],
    ),

  /** Rows on an older key version or still in the per-field format (versions only grow: `<` can use the index). */
  staleBatch: (tx: TenantTx, activeVersion: number, limit: number) =>
    tx.query<{ id: string; collectionId: string; keyVersion: number; enc: Record<string, string>; sealed: Uint8Array | null }>(
      `select id, collection_id as "collectionId", key_version as "keyVersion", enc, sealed from records
       where (key_version < $1 or sealed is null) and unreadable_at is null limit $2 for update skip locked`, [activeVersion, limit]),

  setUnreadable: (tx: TenantTx, ids: string[]) =>
    tx.query('update records set unreadable_at = now() where id in (select jsonb_array_elements_text($1::text::jsonb)::uuid)', [JSON.stringify(ids)]),

  setSealed: (tx: TenantTx, keyVersion: number, rows: Array<{ id: string; sealed: string }>) =>
    tx.query(
      `update records r set sealed = decode(x.sealed, 'base64'), enc = '{}', key_version = $1
       from jsonb_to_recordset($2::text::jsonb) as x(id uuid, sealed text) where r.id = x.id`,
      [keyVersion, JSON.stringify(rows)],
    ),
};
