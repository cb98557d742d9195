import type { Db, Tx } from '../db/db.ts';
import { toBuffer } from '../db/db.ts';
import { RequestError } from '../errors.ts';
import type { KeyProvider, KeyWrapper } from '../crypto/key-provider.ts';
import { type DataKeyParams, unwrapDataKey, wrapDataKey } from '../crypto/keyring.ts';
import { type TenantSecretStore, openTenantSecretStore } from '../crypto/tenant-secrets.ts';

/**
 * How a key row is wrapped (the `wrapping` column, migration 0016): `root`,
 * directly under the root key (stores made before 0016, until the start-up
 * re-wrap), or `tenant`, under the tenant's own key-encryption key, derived
 * from the root key and the tenant's secret outside the database.
 */
export type Wrapping = 'root' | 'tenant';

export interface TenantKeks {
  /** The root key's id, recorded with every key row. */
  readonly keyId: string;
  readonly secrets: TenantSecretStore;
  /**
   * A new data key wrapped under the tenant's KEK. The secret is made only for
   * a new tenant (`newTenant`) or by the start-up re-wrap: a key added to an
   * existing tenant on a node that lacks its secret answers
   * keys.tenant_secret_missing rather than wrapping under a second secret the
   * other nodes do not have.
   */
  wrap(dek: Buffer, p: DataKeyParams, o?: { newTenant?: boolean }): { wrapped: Buffer; wrapping: Wrapping };
  /**
   * Unwraps a key row. Once the tenant's secret is destroyed every row answers
   * tenant.keys_destroyed, root-wrapped ones included (a copy from before the
   * re-wrap); a node without the tenant's secret answers keys.tenant_secret_missing.
   */
  unwrap(wrapped: Buffer, wrapping: Wrapping, p: DataKeyParams): Buffer;
}

export function tenantKeksFor(keyProvider: KeyProvider, dir: string): TenantKeks {
  const secrets = openTenantSecretStore(dir);

  function present(tenantId: string): Buffer {
    const s = secrets.read(tenantId);
    if (s.state === 'destroyed') throw new RequestError('tenant.keys_destroyed');
    if (s.state === 'missing') throw new RequestError('keys.tenant_secret_missing');
    return s.secret;
  }

  function wrapperFor(tenantId: string, wrapping: Wrapping): KeyWrapper {
    const s = secrets.read(tenantId);
    if (s.state === 'destroyed') throw new RequestError('tenant.keys_destroyed');
    if (wrapping === 'root') return keyProvider;
    if (s.state === 'missing') throw new RequestError('keys.tenant_secret_missing');
    return keyProvider.tenantKek(tenantId, s.secret);
  }

  return {
    keyId: keyProvider.keyId,
    secrets,
    wrap(dek, p, o = {}) {
      const secret = o.newTenant ? secrets.ensure(p.tenantId) : present(p.tenantId);
      if (!secret) throw new RequestError('tenant.keys_destroyed');
      return { wrapped: wrapDataKey(keyProvider.tenantKek(p.tenantId, secret), dek, p), wrapping: 'tenant' };
    },
    unwrap(wrapped, wrapping, p) {
      return unwrapDataKey(wrapperFor(p.tenantId, wrapping), wrapped, p);
    },
  };
}

interface RootWrapped { purpose: 'data' | 'index' | 'pseudonym'; version: number; wrapped: Uint8Array }

// Owner statements in platform context with the tenant's id set, so FORCEd
// row-level security shows the tenant's rows (as the purge does).
const enterAsOwner = (tx: Tx, tenantId: string) => tx.query("select set_config('app.tenant_id', $1, true)", [tenantId]);

/** Re-wraps one tenant's root-wrapped key rows under its KEK, in one transaction; false when its secret was destroyed. */
async function rewrapTenant(db: Db, keks: TenantKeks, keyProvider: KeyProvider, tenantId: string): Promise<boolean> {
  // The secret reaches the disk (fsync) before any row is wrapped under it:
  // a crash after this leaves rows still root-wrapped, and a crash inside the
  // transaction rolls back, so every key stays readable either way.
  if (!keks.secrets.ensure(tenantId)) return false;
  return db.transaction(async (tx) => {
    await enterAsOwner(tx, tenantId);
    await tx.query('select id from tenants where id = $1 for update', [tenantId]);
    const rows = await tx.query<RootWrapped>(`select purpose, version, wrapped from tenant_keys where tenant_id = $1 and wrapping = 'root'
      union all select 'pseudonym', version, wrapped from pseudonym_keys where tenant_id = $1 and wrapping = 'root' and wrapped is not null`, [tenantId]);
    for (const r of rows) {
      const p = { tenantId, purpose: r.purpose, version: r.version };
      const { wrapped } = keks.wrap(unwrapDataKey(keyProvider, toBuffer(r.wrapped), p), p, { newTenant: true });
      const sql = r.purpose === 'pseudonym'
        ? "update pseudonym_keys set wrapped = $3, wrapping = 'tenant' where tenant_id = $1 and version = $2 and wrapping = 'root'"
        : "update tenant_keys set wrapped = $3, wrapping = 'tenant' where tenant_id = $1 and version = $2 and purpose = $4 and wrapping = 'root'";
      await tx.query(sql, r.purpose === 'pseudonym' ? [tenantId, r.version, wrapped] : [tenantId, r.version, wrapped, r.purpose]);
    }
    await tx.query('update tenants set tenant_kek_at = now() where id = $1', [tenantId]);
    return true;
  });
}

/**
 * Start-up step for stores made before per-tenant KEKs: each tenant whose
 * keys may still be wrapped under the root key directly gets a secret and its
 * rows re-wrapped, one tenant per transaction. Idempotent (rows carry their
 * wrapping; done tenants carry tenant_kek_at) and safe to interrupt at any
 * point. Tenants whose secret was destroyed (a restored copy of a purged
 * tenant) are left alone: their keys answer tenant.keys_destroyed.
 */
export async function rewrapTenantKeys(db: Db, keks: TenantKeks, keyProvider: KeyProvider): Promise<{ rewrapped: number; shredded: string[] }> {
  const pending = await db.query<{ id: string }>("select id::text as id from tenants where tenant_kek_at is null and status <> 'purged' order by id");
  const out = { rewrapped: 0, shredded: [] as string[] };
  for (const { id } of pending) {
    if (await rewrapTenant(db, keks, keyProvider, id)) out.rewrapped++;
    else out.shredded.push(id);
  }
  return out;
}

export { openTenantSecretStore };
