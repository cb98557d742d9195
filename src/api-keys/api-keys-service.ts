import { v7 as uuidv7 } from 'uuid';
import { type Db, isForeignKeyViolation, isUniqueViolation } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, type Role, TENANT_ROLES, authorizePlatform, authorizeTenant } from '../access/permissions.ts';
import { hashApiKey, newApiKey, parseApiKey, safeEqual } from '../crypto/api-key-secret.ts';
import { createKeyCache } from '../crypto/keyring.ts';
import { apiKeysRepo, type ApiKeyRow } from './api-keys-repo.ts';

const TOUCH_INTERVAL_MS = 60_000;

export interface ApiKeysDeps { db: Db; authCache: { max: number; ttlMs: number }; onTouchError?: (err: unknown) => void }

export function publicKey(row: ApiKeyRow) {
  return { id: row.id, name: row.name, role: row.role, prefix: row.prefix, createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null, revokedAt: row.revokedAt?.toISOString() ?? null };
}

export function apiKeysServiceFactory({ db, authCache, onTouchError }: ApiKeysDeps) {
  // A key is 256 bits of randomness, so a plain SHA-256 is enough to store it
  // (no password stretching needed) and lets us find it by hash. Validated
  // keys are cached briefly; revocation reaches other processes within the TTL.
  const cache = createKeyCache<Actor>(authCache);
  const lastTouched = new Map<string, number>();

  // The 32-bit prefix is unique for lookup; a rare clash just draws a new key.
  async function create(tenantId: string | null, name: string, role: Role, attempt = 1): Promise<ReturnType<typeof publicKey> & { key: string }> {
    const secret = newApiKey();
    try {
      const row = await apiKeysRepo.insert(db, { id: uuidv7(), tenantId, name, role, prefix: secret.prefix, hash: secret.hash });
      return { ...publicKey(row), key: secret.key };
    } catch (err) {
      if (isUniqueViolation(err) && attempt < 5) return create(tenantId, name, role, attempt + 1);
      if (isForeignKeyViolation(err)) throw new RequestError('tenant.not_found');
      throw err;
    }
  }

  // Revocation clears this process's cache at once; others follow within the TTL.
  async function revoke(tenantId: string | null, keyId: string) {
    assertThat(await apiKeysRepo.revoke(db, tenantId, keyId), () => new RequestError('api_key.not_found'));
    cache.clear();
  }

  function touch(actor: Actor) {
    const now = Date.now();
    if ((lastTouched.get(actor.id) ?? 0) > now - TOUCH_INTERVAL_MS) return;
    lastTouched.set(actor.id, now);
    apiKeysRepo.touch(db, actor.id).catch((err) => onTouchError?.(err));
  }

  return {
    createOperatorKey: (name: string) => create(null, name, 'operator'),
    operatorKeysEver: () => apiKeysRepo.countOperatorsEver(db),

    async createOperatorKeyAs(actor: Actor, name: string) {
      authorizePlatform(actor, 'operator_keys.manage');
      return create(null, name, 'operator');
    },

    async listOperatorKeys(actor: Actor) {
      authorizePlatform(actor, 'operator_keys.manage');
      return (await apiKeysRepo.listForTenant(db, null)).map(publicKey);
    },

    // The last active operator key stays: without one the platform can only be
    // recovered on the stopped store (`tresor operator-key create`).
    async revokeOperatorKey(actor: Actor, keyId: string) {
      authorizePlatform(actor, 'operator_keys.manage');
      await db.transaction(async (tx) => {
        const active = (await apiKeysRepo.lockActiveOperators(tx)).map((r) => r.id);
        assertThat(active.length !== 1 || active[0] !== keyId, () => new RequestError('api_key.last_operator'));
        assertThat(await apiKeysRepo.revoke(tx, null, keyId), () => new RequestError('api_key.not_found'));
      });
      cache.clear();
    },

    async createTenantKey(actor: Actor, tenantId: string, input: { name: string; role: Role }) {
      authorizeTenant(actor, tenantId, 'api_keys.manage');
      assertThat((TENANT_ROLES as readonly string[]).includes(input.role),
        () => new RequestError('api_key.invalid_role', `A tenant key's role must be one of ${TENANT_ROLES.join(', ')}`));
      return create(tenantId, input.name, input.role);
    },

    async list(actor: Actor, tenantId: string) {
      authorizeTenant(actor, tenantId, 'api_keys.manage');
      return (await apiKeysRepo.listForTenant(db, tenantId)).map(publicKey);
    },

    async revoke(actor: Actor, tenantId: string, keyId: string) {
      authorizeTenant(actor, tenantId, 'api_keys.manage');
      await revoke(tenantId, keyId);
    },

    /** The actor a presented key stands for (see access/authenticate.ts for where it is read from). */
    async authenticate(token: string): Promise<Actor> {
      assertThat(parseApiKey(token), () => new RequestError('auth.invalid_credentials'));
      const hash = hashApiKey(token);
      const cacheKey = hash.toString('base64');
      let actor = cache.get(cacheKey);
      if (!actor) {
        const row = await apiKeysRepo.findByHash(db, hash);
        assertThat(row && safeEqual(row.hash, hash) && !row.revokedAt, () => new RequestError('auth.invalid_credentials'));
        actor = { type: 'api_key', id: row.id, name: row.name, role: row.role, tenantId: row.tenantId };
        cache.set(cacheKey, actor);
      }
      touch(actor);
      return actor;
    },
  };
}

export type ApiKeysService = ReturnType<typeof apiKeysServiceFactory>;
