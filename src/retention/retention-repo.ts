import type { Db, Queries, TenantTx } from '../db/db.ts';

export type RetentionBasis = 'created' | 'updated' | 'field';
export interface PolicyRow { collectionId: string; collection: string; basis: RetentionBasis; days: number; field: string | null; updatedAt: Date }

const columns = `p.collection_id as "collectionId", c.name as collection, p.basis, p.days, p.field, p.updated_at as "updatedAt"`;

// What makes a record expired, per basis, given the parameters holding the
// cutoff (as of the run, minus the policy's days) and the field name. A date
// field is compared as text in the C collation: stored values are validated
// YYYY-MM-DD, so text order is date order; a missing value never expires.
function expired(basis: RetentionBasis, cutoff: string, field: string): string {
  if (basis === 'created') return `r.created_at < ${cutoff}::timestamptz`;
  if (basis === 'updated') return `r.updated_at < ${cutoff}::timestamptz`;
  return `(r.plain ->> ${field}::text) collate "C" < ${cutoff}::text collate "C"`;
}

/** One page of expired records of a collection, in id order after `after` (exported for the plan check of test/db). */
export const expiredPage = (basis: RetentionBasis) => `select r.id from records r where r.collection_id = $1
  and ($3::uuid is null or r.id > $3::uuid) and ${expired(basis, '$2', '$5')} order by r.id limit $4`;

const expiredCount = (basis: RetentionBasis) =>
  `select count(*)::int as n from records r where r.collection_id = $1 and ${expired(basis, '$2', '$3')}`;

const args = (p: PolicyRow, ...rest: unknown[]) => (p.basis === 'field' ? [...rest, p.field] : rest);

// Every tenant call runs inside withTenant(): RLS limits it to the tenant.
export const retentionRepo = {
  /** The run that just finished, for every node to read (job_runs). */
  recordRun: (db: Pick<Db, 'transaction'>, at: Date, deleted: number) => db.transaction((tx) => tx.query(`insert into job_runs (name, finished_at, detail)
    values ('retention', $1, jsonb_build_object('deleted', $2::int))
    on conflict (name) do update set finished_at = excluded.finished_at, detail = excluded.detail`, [at, deleted])),

  upsert: async (tx: TenantTx, p: { collectionId: string; basis: RetentionBasis; days: number; field: string | null; updatedAt: Date }) =>
    (await tx.query<{ updatedAt: Date }>(`insert into retention_policies (tenant_id, collection_id, basis, days, field, updated_at)
      values ($1, $2, $3, $4, $5, $6)
      on conflict (tenant_id, collection_id) do update set basis = excluded.basis, days = excluded.days, field = excluded.field, updated_at = excluded.updated_at
      returning updated_at as "updatedAt"`, [tx.tenantId, p.collectionId, p.basis, p.days, p.field, p.updatedAt]))[0],
  find: async (tx: TenantTx, collectionId: string) =>
    (await tx.query<PolicyRow>(`select ${columns} from retention_policies p join collections c on c.tenant_id = p.tenant_id and c.id = p.collection_id
      where p.collection_id = $1`, [collectionId]))[0],
  remove: async (tx: TenantTx, collectionId: string) =>
    (await tx.query('delete from retention_policies where collection_id = $1 returning collection_id', [collectionId])).length > 0,
  list: (tx: TenantTx) =>
    tx.query<PolicyRow>(`select ${columns} from retention_policies p join collections c on c.tenant_id = p.tenant_id and c.id = p.collection_id
      order by c.name`),
  expired: async (tx: TenantTx, p: PolicyRow, cutoff: string, after: string | null, limit: number) =>
    (await tx.query<{ id: string }>(expiredPage(p.basis), args(p, p.collectionId, cutoff, after, limit))).map((r) => r.id),
  countExpired: async (tx: TenantTx, p: PolicyRow, cutoff: string) =>
    (await tx.query<{ n: number }>(expiredCount(p.basis), args(p, p.collectionId, cutoff)))[0].n,
  /** Deletes the given records (their blind-index rows go with them, on delete cascade). */
  delete: async (tx: TenantTx, ids: readonly string[]) =>
    (await tx.query<{ id: string }>(`delete from records where id in (select jsonb_array_elements_text($1::text::jsonb)::uuid) returning id`,
      [JSON.stringify(ids)])).map((r) => r.id),
  /** Platform query: the tenants whose policies are enforced (closed ones are frozen, and wait for their purge). */
  activeTenants: async (db: Queries, only: string | null) =>
    (await db.query<{ id: string }>(`select id::text as id from tenants where status = 'active' and ($1::uuid is null or id = $1::uuid) order by id`,
      [only])).map((r) => r.id),
};
