import type { Db, TenantTx } from '../db/db.ts';
import { toBuffer } from '../db/db.ts';
import { RequestError } from '../errors.ts';
import { type Actor, systemActor } from '../access/permissions.ts';
import { createKeyCache, generateDataKey, type KeyPurpose } from '../crypto/keyring.ts';
import type { TenantKeks } from './tenant-keks.ts';
import { keysRepo } from './keys-repo.ts';
import { canonicalId } from '../crypto/encoding.ts';

export interface KeyRing {
  activeVersion: number;
  data: Map<number, Buffer>;
  index: Buffer;
}

export interface KeysDeps { db: Db; tenantKeks: TenantKeks; keyCacheMax: number; keyCacheTtlMs: number }

// Per-tenant data keys (versioned) and a separate blind-index key, each wrapped
// by the tenant's KEK (root key + the tenant's secret outside the database)
// with AAD binding tenant, purpose and version. Unwrapped rings
// are cached with a bound and a TTL, so a request never pays for unwrapping and
// a rotation made by another process is seen within the TTL.
export function keysServiceFactory({ db, tenantKeks, keyCacheMax, keyCacheTtlMs }: KeysDeps) {
  const cache = createKeyCache<KeyRing>({ max: keyCacheMax, ttlMs: keyCacheTtlMs });

  async function addKey(tx: TenantTx, tenantId: string, purpose: KeyPurpose, version: number, newTenant = false) {
    const { wrapped, wrapping } = tenantKeks.wrap(generateDataKey(), { tenantId, purpose, version }, { newTenant });
    await keysRepo.insert(tx, { tenantId, purpose, version, wrapped, wrapping, kekId: tenantKeks.keyId });
  }

  async function loadRing(tx: TenantTx, tenantId: string): Promise<KeyRing> {
    const rows = await keysRepo.list(tx);
    const ring: KeyRing = { activeVersion: 0, data: new Map(), index: Buffer.alloc(0) };
    for (const row of rows) {
      const key = tenantKeks.unwrap(toBuffer(row.wrapped), row.wrapping, { tenantId, purpose: row.purpose, version: row.version });
      if (row.purpose === 'data') {
        ring.data.set(row.version, key);
        if (row.status === 'active') ring.activeVersion = Math.max(ring.activeVersion, row.version);
      } else if (row.purpose === 'index') ring.index = key;
    }
    if (!ring.activeVersion || !ring.index.length) throw new RequestError('tenant.not_found');
    return ring;
  }

  // Inner forms run in the caller's tenant transaction (so a change and its
  // audit entry can commit together); the caller drops the cached ring after.
  const inner = {
    /** Adds a new active data key version; older versions become 'retiring'. */
    async addDataKeyVersion(tx: TenantTx, actor: Actor): Promise<{ version: number; previous: number[] }> {
      const rows = await keysRepo.lockData(tx);
      if (!rows.length) throw new RequestError('tenant.not_found');
      if (rows.some((r) => r.status === 'retiring')) throw new RequestError('keys.rotation_in_progress');
      const version = rows[rows.length - 1].version + 1;
      const previous = rows.filter((r) => r.status === 'active').map((r) => r.version);
      await keysRepo.setStatus(tx, 'data', previous, 'retiring');
      await addKey(tx, tx.tenantId, 'data', version);
      await keysRepo.requestReencrypt(tx);
      tx.audit({ action: 'key.rotate', actor, target: { type: 'data_key', id: String(version) }, detail: { previous: previous.join(',') } });
      return { version, previous };
    },

    /** Retires the given versions and clears the tenant's re-encryption request (unless a newer one came in). */
    async retire(tx: TenantTx, versions: number[], requestedAt: Date) {
      await keysRepo.setStatus(tx, 'data', versions, 'retired');
      for (const v of versions) tx.audit({ action: 'key.retire', actor: systemActor('rotation'), target: { type: 'data_key', id: String(v) } });
      await keysRepo.clearReencrypt(tx, requestedAt);
    },

    /** Key versions with their record counts, and the records set aside as unreadable (ids and collections only). */
    async status(tx: TenantTx, unreadableMax: number) {
      const [keys, counts, unreadable] = await Promise.all([keysRepo.list(tx), keysRepo.countByVersion(tx), keysRepo.unreadable(tx, unreadableMax)]);
      const records = new Map(counts.map((c) => [c.version, c.n]));
      const data = keys.filter((k) => k.purpose === 'data');
      return {
        activeVersion: Math.max(0, ...data.filter((k) => k.status === 'active').map((k) => k.version)),
        versions: data.map((k) => ({ version: k.version, status: k.status, createdAt: k.createdAt.toISOString(), records: records.get(k.version) ?? 0 })),
        unreadable,
        /** Rows still in the per-field format (for the re-encryption job). */
        unsealed: counts.reduce((sum, c) => sum + c.unsealed, 0),
      };
    },
  };

  return {
    /** Inside the tenant-creation transaction (tenant context set). */
    async createTenantKeys(tx: TenantTx, tenantId: string, actor: Actor) {
      await addKey(tx, tenantId, 'data', 1, true);
      await addKey(tx, tenantId, 'index', 1, true);
      await keysRepo.markTenantKek(tx);
      tx.audit({ action: 'key.create', actor, target: { type: 'data_key', id: '1' } });
      tx.audit({ action: 'key.create', actor, target: { type: 'index_key', id: '1' } });
    },

    /**
     * The tenant's ring, from the cache when it holds every version in `needs`.
     * A record on a version the cached ring lacks was written after a rotation
     * this process has not seen yet (another worker or node): the ring is then
     * reloaded once, instead of failing until the cache entry expires.
     */
    async ringFor(tx: TenantTx, tenantId: string, needs: readonly number[] = []): Promise<KeyRing> {
      const cached = cache.get(canonicalId(tenantId, 'tenant id'));
      if (cached && needs.every((v) => cached.data.has(v))) return cached;
      const ring = await loadRing(tx, tenantId);
      cache.set(tenantId, ring);
      return ring;
    },

    /** The ring read from the database, bypassing the cache (rotation must never act on a stale active version). */
    async freshRing(tx: TenantTx, tenantId: string): Promise<KeyRing> {
      const ring = await loadRing(tx, canonicalId(tenantId, 'tenant id'));
      cache.set(tenantId, ring);
      return ring;
    },

    inner,
    /** Public forms: one tenant transaction each; the cached ring is dropped after a change. */
    addDataKeyVersion: async (tenantId: string, actor: Actor) => {
      try { return await db.withTenant(tenantId, (tx) => inner.addDataKeyVersion(tx, actor)); } finally { cache.delete(tenantId); }
    },
    retire: async (tenantId: string, versions: number[], requestedAt: Date) => {
      try { await db.withTenant(tenantId, (tx) => inner.retire(tx, versions, requestedAt)); } finally { cache.delete(tenantId); }
    },
    status: (tenantId: string, unreadableMax: number) => db.withTenant(tenantId, (tx) => inner.status(tx, unreadableMax)),

    forget: (tenantId: string) => cache.delete(tenantId),
  };
}

export type KeysService = ReturnType<typeof keysServiceFactory>;
