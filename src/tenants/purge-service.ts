import { v7 as uuidv7 } from 'uuid';
import type { Db, Queries, Tx } from '../db/db.ts';
import { systemActor } from '../access/permissions.ts';
import type { SigningKey } from '../crypto/signing.ts';
import { tenantsRepo } from './tenants-repo.ts';
import type { TenantSecretStore } from '../crypto/tenant-secrets.ts';
import {
  BACKUPS, CRYPTO_SHREDDING, KEPT, ROW_DELETION, type DeletionCertificate, type PurgeManifest, certificatesRepo, signCertificate,
} from './deletion-certificates.ts';

/** The legal-hold seam for a whole tenant: true while it has an active legal hold (the purge waits). */
export type TenantHeld = (tx: Tx, tenantId: string) => Promise<boolean>;

/**
 * Any unreleased legal hold (migration 0011) stops the purge before its keys
 * are destroyed: a hold means the data may be needed, whether or not a record
 * matches it today. The job tries again at every run until it is released.
 */
export const tenantUnderLegalHold: TenantHeld = async (tx, tenantId) =>
  (await tx.query<{ held: boolean }>('select exists (select 1 from legal_holds where tenant_id = $1 and released_at is null) as held', [tenantId]))[0].held;

export interface PurgeDeps {
  db: Db;
  keys: { forget(tenantId: string): void };
  /** The tenant secrets outside the database, destroyed first. */
  secrets: Pick<TenantSecretStore, 'destroy'>;
  signingKey: SigningKey;
  now: () => Date;
  /** TRESOR_CLOSED_TENANT_RETENTION_MONTHS, stated in the certificate. */
  months: number;
  /** Rows deleted per transaction. */
  batchSize: number;
  tenantHeld?: TenantHeld;
  onError?: (msg: string, err: unknown) => void;
}

// Key material, destroyed first in a transaction of its own, so the data is
// unreadable before (and whether or not) any other row is deleted. First the
// tenant's secret outside the database (overwritten, fsynced, unlinked): every
// copy of its wrapped keys, in backups and replicas too, is then useless.
// Then, in the database, the tenant's wrapped data and blind-index keys are deleted; its pseudonym keys
// (migration 0012, when present) are blanked (`wrapped` null, retired), since
// their mapping rows still point at them until the row deletion removes both.
const KEY_DESTRUCTION = [
  { table: 'tenant_keys', sql: 'delete from tenant_keys where tenant_id = $1 returning purpose' },
  { table: 'pseudonym_keys', sql: "update pseudonym_keys set wrapped = null, status = 'retired' where tenant_id = $1 and wrapped is not null returning 'pseudonym' as purpose" },
];
const KEY_TABLES = ['tenant_keys'];
// Platform evidence that outlives the tenant: the append-only audit log (its
// own retention redacts the entries), the certificates themselves, and the
// incidents' documentation (Art. 33(5): counts and record ids, no values).
const KEPT_TABLES = new Set(['audit_entries', 'audit_record_refs', 'deletion_certificates', 'incident_tenants']);
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

const TENANT_TABLES_SQL = `select c.table_name::text as name from information_schema.columns c
  join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
  where c.table_schema = current_schema() and c.column_name = 'tenant_id' and t.table_type = 'BASE TABLE' order by 1`;
const FOREIGN_KEYS_SQL = `select cl.relname::text as child, pl.relname::text as parent from pg_constraint k
  join pg_class cl on cl.oid = k.conrelid join pg_class pl on pl.oid = k.confrelid
  where k.contype = 'f' and cl.relnamespace = (select oid from pg_namespace where nspname = current_schema())`;

/**
 * Every tenant-owned table (a `tenant_id` column) but the kept ones, children
 * before parents, so each batch deletes rows nothing else still points to.
 * Read from the catalogue: a table a later migration adds is purged too.
 */
async function tablesInDeletionOrder(tx: Queries): Promise<string[]> {
  const tables = new Set((await tx.query<{ name: string }>(TENANT_TABLES_SQL)).map((r) => r.name)
    .filter((t) => IDENT.test(t) && !KEPT_TABLES.has(t) && !KEY_TABLES.includes(t)));
  const edges = (await tx.query<{ child: string; parent: string }>(FOREIGN_KEYS_SQL))
    .filter((e) => e.child !== e.parent && tables.has(e.child) && tables.has(e.parent));
  const order: string[] = [];
  const left = new Set(tables);
  while (left.size) {
    const ready = [...left].filter((t) => !edges.some((e) => e.parent === t && left.has(e.child))).sort();
    if (!ready.length) throw new Error(`tenant purge: foreign keys form a cycle among ${[...left].join(', ')}`);
    for (const t of ready) { order.push(t); left.delete(t); }
  }
  return order;
}

// The purge runs as the database owner in platform context, with the
// tenant's id set so that FORCEd row-level security shows it the tenant's
// rows; the write freeze of closed tenants binds only the application role.
const enterAsOwner = (tx: Queries, tenantId: string) => tx.query("select set_config('app.tenant_id', $1, true)", [tenantId]);

export function purgeServiceFactory({ db, keys, secrets, signingKey, now, months, batchSize, tenantHeld = async () => false, onError = () => {} }: PurgeDeps) {
  const actor = systemActor('tenant-purge');
  const stats = { purgedTotal: 0, heldTotal: 0 };

  async function manifestOf(tx: Tx, tenantId: string, tables: string[]): Promise<PurgeManifest> {
    const rows: Record<string, number> = {};
    for (const t of tables) {
      const [{ n }] = await tx.query<{ n: number }>(`select count(*)::int as n from ${t} where tenant_id = $1`, [tenantId]);
      if (n) rows[t] = n;
    }
    const collections = (await tx.query<{ name: string }>('select name from collections where tenant_id = $1 order by name', [tenantId])).map((r) => r.name);
    return { collections, keys: {}, rows };
  }

  /** Step 1: crypto-shredding. Returns false when the tenant is not due (or held). */
  async function destroyKeys(tenantId: string, asOf: Date): Promise<boolean> {
    const done = await db.transaction(async (tx) => {
      await enterAsOwner(tx, tenantId);
      const row = await tenantsRepo.lock(tx, tenantId);
      if (!row || row.status !== 'closed' || !row.purgeAfter || row.purgeAfter > asOf) return false;
      if (row.keysDestroyedAt) return true;
      if (await tenantHeld(tx, tenantId)) { stats.heldTotal++; return false; }
      const manifest = await manifestOf(tx, tenantId, await tablesInDeletionOrder(tx));
      // Before any row: if the transaction fails after this, the tenant is
      // unreadable already and the next run finishes the job.
      secrets.destroy(tenantId, now());
      manifest.keys.tenant_secret = 1;
      for (const { table, sql } of KEY_DESTRUCTION) {
        const [{ present }] = await tx.query<{ present: boolean }>('select to_regclass($1) is not null as present', [table]);
        if (!present) continue;
        for (const k of await tx.query<{ purpose: string }>(sql, [tenantId])) {
          manifest.keys[k.purpose] = (manifest.keys[k.purpose] ?? 0) + 1;
        }
      }
      await tx.query('update tenants set keys_destroyed_at = $2, purge_manifest = $3::text::jsonb where id = $1', [tenantId, now(), JSON.stringify(manifest)]);
      tx.audit({ action: 'tenant.keys_destroy', actor, tenantId, target: { type: 'tenant', id: tenantId }, detail: { ...manifest.keys } });
      return true;
    });
    keys.forget(tenantId);
    return done;
  }

  /** Step 2: the rows, table by table, a batch per transaction. */
  async function deleteRows(tenantId: string, stopping: () => boolean): Promise<boolean> {
    const tables = await db.transaction((tx) => tablesInDeletionOrder(tx));
    for (const table of tables) {
      for (let n = batchSize; n === batchSize;) {
        if (stopping()) return false;
        n = await db.transaction(async (tx) => {
          await enterAsOwner(tx, tenantId);
          return (await tx.query(`delete from ${table} where ctid in (select ctid from ${table} where tenant_id = $1 limit $2) returning 1`,
            [tenantId, batchSize])).length;
        });
      }
    }
    return true;
  }

  /** Step 3: check nothing is left, then the signed certificate and the tombstone. */
  async function certify(tenantId: string) {
    return db.transaction(async (tx) => {
      await enterAsOwner(tx, tenantId);
      const row = await tenantsRepo.lock(tx, tenantId);
      if (!row || row.status !== 'closed' || !row.keysDestroyedAt) return null;
      const tables = await tablesInDeletionOrder(tx);
      const left = await manifestOf(tx, tenantId, [...tables, ...KEY_TABLES]);
      if (Object.keys(left.rows).length) throw new Error(`tenant purge: rows left in ${Object.keys(left.rows).join(', ')}`);
      const [{ manifest }] = await tx.query<{ manifest: PurgeManifest }>('select purge_manifest as manifest from tenants where id = $1', [tenantId]);
      const issuedAt = now();
      const id = uuidv7();
      const cert: DeletionCertificate = {
        v: 1, certificateId: id, kind: 'tenant.purge', tenant: { id: tenantId, name: row.name },
        policy: { name: 'closed-tenant retention', setting: 'TRESOR_CLOSED_TENANT_RETENTION_MONTHS', months,
          closedAt: row.closedAt!.toISOString(), purgeAfter: row.purgeAfter!.toISOString() },
        method: { cryptoShredding: CRYPTO_SHREDDING, rowDeletion: ROW_DELETION },
        keysDestroyedAt: row.keysDestroyedAt.toISOString(), completedAt: issuedAt.toISOString(),
        keysDestroyed: manifest.keys, rowsDeleted: manifest.rows, collections: manifest.collections, kept: KEPT, backups: BACKUPS,
      };
      const signed = signCertificate(cert, signingKey);
      await certificatesRepo.insert(tx, { id, tenantId, kind: 'tenant.purge', issuedAt, certificate: signed.bytes, signature: signed.signature,
        keyId: signed.keyId, publicKey: signed.publicKey });
      await tx.query("update tenants set status = 'purged', purged_at = $2 where id = $1", [tenantId, issuedAt]);
      tx.audit({ action: 'tenant.purge', actor, tenantId, target: { type: 'tenant', id: tenantId }, detail: { certificate: id } });
      return id;
    });
  }

  async function purgeTenant(tenantId: string, asOf: Date, stopping: () => boolean): Promise<string | null> {
    if (!(await destroyKeys(tenantId, asOf))) return null;
    // Dead key tuples stay in the table's pages until VACUUM; ask for it now
    // rather than wait for autovacuum (best effort: not inside a transaction).
    await db.query('vacuum tenant_keys').catch((err) => onError('vacuum after key destruction failed', err));
    if (!(await deleteRows(tenantId, stopping))) return null;
    const id = await certify(tenantId);
    if (id) stats.purgedTotal++;
    return id;
  }

  return {
    purgeTenant,
    /** Every closed tenant whose retention period ended as of `asOf` (or only `tenantId`): keys, rows, certificate. */
    async purgeDue(o: { asOf?: Date; tenantId?: string; stopping?: () => boolean } = {}) {
      const asOf = o.asOf ?? now();
      const stopping = o.stopping ?? (() => false);
      const purged: Array<{ tenantId: string; certificateId: string }> = [];
      for (const tenantId of await tenantsRepo.duePurge(db, asOf)) {
        if (stopping()) break;
        if (o.tenantId && o.tenantId !== tenantId) continue;
        const certificateId = await purgeTenant(tenantId, asOf, stopping);
        if (certificateId) purged.push({ tenantId, certificateId });
      }
      return purged;
    },
    stats: () => ({ ...stats }),
  };
}

export type PurgeService = ReturnType<typeof purgeServiceFactory>;
