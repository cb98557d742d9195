import type { Db, Queries, TenantTx } from '../db/db.ts';

// Read-only queries the register's checks run, as an auditor would: tenant
// tables under each tenant's own context (withTenant, the RLS role),
// platform tables in platform context. They count and date; they never read
// a field value.

export interface TenantFigures {
  tenantId: string;
  activeUsers: number; enrolledUsers: number; duplicateAccounts: number;
  collections: { id: string; name: string; sealed: string[] }[];
  dataKeys: number; indexKeys: number; pseudonymKeys: number; lastRotation: Date | null;
  instructionConfirmed: boolean;
  events: Record<string, number>;
}

const TRACKED_EVENTS = ['access.denied', 'login.failed', 'mfa.failed', 'account.locked'];

async function one<T>(q: Queries | TenantTx, sql: string, params: unknown[] = []): Promise<T> {
  return (await q.query<T & Record<string, unknown>>(sql, params))[0];
}

export const evidenceRepo = {
  /** When a background job last finished, on whichever node ran it (job_runs). */
  lastJobRun: async (q: Queries, name: string): Promise<Date | null> =>
    (await q.query<{ at: Date }>('select finished_at as at from job_runs where name = $1', [name]))[0]?.at ?? null,

  /** Tenants whose data is still held (purged ones keep only a tombstone). */
  tenantIds: async (q: Queries): Promise<string[]> =>
    (await q.query<{ id: string }>("select id from tenants where status <> 'purged' order by id")).map((r) => r.id),

  async tenantFigures(tx: TenantTx, since: Date): Promise<TenantFigures> {
    const users = await one<{ active: number; enrolled: number; dup: number }>(tx, `select
      count(*) filter (where status = 'active')::int as active,
      count(*) filter (where status = 'active' and mfa_enrolled_at is not null)::int as enrolled,
      (select count(*) from (select email_norm from users group by email_norm having count(*) > 1) d)::int as dup from users`);
    const collections = (await tx.query<{ id: string; name: string; fields: { name: string; classification: string }[] }>(
      'select id, name, fields from collections order by name')).map((c) => ({
      id: c.id, name: c.name, sealed: c.fields.filter((f) => f.classification !== 'none').map((f) => f.name) }));
    const keys = await one<{ data: number; idx: number; pseudo: number; rotated: Date | null }>(tx, `select
      count(*) filter (where purpose = 'data' and status = 'active')::int as data,
      count(*) filter (where purpose = 'index' and status = 'active')::int as idx,
      count(*) filter (where purpose = 'pseudonym' and status = 'active')::int as pseudo,
      max(created_at) filter (where purpose = 'data' and version > 1) as rotated from tenant_keys`);
    const instruction = await one<{ n: number }>(tx, 'select count(*)::int as n from instructions where confirmed_at is not null');
    const events = Object.fromEntries((await tx.query<{ type: string; n: number }>(
      'select type, count(*)::int as n from security_events where type = any($1::text[]) and created_at >= $2 group by type', [TRACKED_EVENTS, since]))
      .map((r) => [r.type, r.n]));
    return { tenantId: tx.tenantId, activeUsers: users.active, enrolledUsers: users.enrolled, duplicateAccounts: users.dup, collections,
      dataKeys: keys.data, indexKeys: keys.idx, pseudonymKeys: keys.pseudo, lastRotation: keys.rotated, instructionConfirmed: instruction.n > 0, events };
  },

  /** Records of a collection whose clear-text part holds a field that must be sealed: 0 when coverage holds. */
  unsealedRecords: async (tx: TenantTx, collectionId: string, fields: string[]): Promise<number> =>
    fields.length === 0 ? 0 : (await one<{ n: number }>(tx,
      'select count(*)::int as n from records where collection_id = $1 and plain ?| $2::text[]', [collectionId, fields])).n,

  /** Platform users (operators, support): read in platform context. */
  platformUsers: (q: Queries) => one<{ active: number; enrolled: number }>(q, `select
    count(*) filter (where status = 'active')::int as active,
    count(*) filter (where status = 'active' and mfa_enrolled_at is not null)::int as enrolled from users where tenant_id is null`),

  /**
   * Tables under row-level security that hold a tenant_id and that the
   * application role may read: what the RLS probe reads.
   */
  rlsTables: async (q: Queries): Promise<string[]> => (await q.query<{ name: string }>(`select c.relname as name from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and n.nspname = current_schema() and c.relrowsecurity
        and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
        and has_table_privilege('tresor_app', c.oid, 'select')
      order by c.relname`)).map((r) => r.name),
  /** Tables that hold a tenant_id and that the application role reads without row-level security: each a finding. */
  unguardedTables: async (q: Queries): Promise<string[]> => (await q.query<{ name: string }>(`select c.relname as name from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and n.nspname = current_schema() and not c.relrowsecurity
        and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
        and has_table_privilege('tresor_app', c.oid, 'select')
      order by c.relname`)).map((r) => r.name),
  /** Under the tenant context of `tx`: the tables (of `tables`) that show rows of another tenant, platform rows included. One statement. */
  leakingTables: async (tx: TenantTx, tables: string[]): Promise<string[]> => tables.length === 0 ? [] : (await tx.query<{ name: string }>(
    tables.map((t, i) => `select ${i}::int as i, '${t}'::text as name where exists (select 1 from ${quoteIdent(t)} where tenant_id is distinct from $1::uuid)`)
      .join(' union all '), [tx.tenantId])).map((r) => r.name),

  declaredEnvironment: async (q: Queries): Promise<string | null> =>
    (await q.query<{ environment: string }>('select environment from deployment'))[0]?.environment ?? null,

  lastRestoreVerification: async (q: Queries) => (await q.query<{ id: string; verifiedAt: Date; result: string; backupId: string }>(
    `select id, verified_at as "verifiedAt", result, backup_id as "backupId" from backup_verifications order by verified_at desc, id desc limit 1`))[0],

  latestTreeHead: async (q: Queries) => (await q.query<{ treeSize: string | number; timestampMs: string | number }>(
    'select tree_size as "treeSize", timestamp_ms as "timestampMs" from audit_tree_heads order by tree_size desc limit 1'))[0],

  subProcessors: async (q: Queries) => q.query<{ name: string; service: string; country: string; dpaDate: string }>(
    `select name, service, country, to_char(dpa_date, 'YYYY-MM-DD') as "dpaDate" from sub_processors where removed_at is null order by name, id`),

  tenantName: async (tx: TenantTx): Promise<string | undefined> =>
    (await tx.query<{ name: string }>('select name from tenants where id = $1', [tx.tenantId]))[0]?.name,

  platformEvents: async (q: Queries, since: Date) => Object.fromEntries((await q.query<{ type: string; n: number }>(
    'select type, count(*)::int as n from security_events where tenant_id is null and type = any($1::text[]) and created_at >= $2 group by type',
    [TRACKED_EVENTS, since])).map((r) => [r.type, r.n])),
};

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unexpected table name ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** Runs `fn` under each tenant's own context in turn (only `only`, when given). */
export async function eachTenant<T>(db: Db, only: string | undefined, fn: (tx: TenantTx) => Promise<T>): Promise<T[]> {
  const ids = only ? [only] : await evidenceRepo.tenantIds(db);
  const out: T[] = [];
  for (const id of ids) out.push(await db.withTenant(id, fn));
  return out;
}
