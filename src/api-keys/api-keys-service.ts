import { v7 as uuidv7 } from 'uuid';
import { type Db, type Queries, type Tx, enterTenant, isForeignKeyViolation, isUniqueViolation } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, type PlatformRole, type Role, type TenantRole, PLATFORM_ROLES, TENANT_ROLES, authorizePlatform, authorizeTenant, mayGrantRole, systemActor } from '../access/permissions.ts';
import type { RequestMeta, SecurityEventsService } from '../security-events/security-events-service.ts';
import { hashApiKey, newApiKey, parseApiKey, safeEqual } from '../crypto/api-key-secret.ts';
import { createKeyCache } from '../crypto/keyring.ts';
import { apiKeysRepo, type ApiKeyRow } from './api-keys-repo.ts';
import type { Meters } from '../http/metrics.ts';

export interface ApiKeysDeps {
  db: Db; securityEvents: Pick<SecurityEventsService, 'record' | 'recordPlatform'>; now?: () => Date; maxDays: number; authCache: { max: number; ttlMs: number }; touchIntervalMs: number; meters: Pick<Meters, 'authFailure'>; onTouchError?: (err: unknown) => void;
}

export function publicKey(row: ApiKeyRow) {
  return { id: row.id, name: row.name, role: row.role, prefix: row.prefix, createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null, revokedAt: row.revokedAt?.toISOString() ?? null,
    collections: row.collections, expiresAt: row.expiresAt?.toISOString() ?? null, purposes: row.purposes };
}

/** What a new tenant key may be limited to: some collections, a time, some purposes of the tenant's instruction. */
export interface KeyLimits { collections?: string[] | null; expiresAt?: string | null; purposes?: string[] | null }

export interface NewTenantKey extends KeyLimits { name: string; role: Role }

export function apiKeysServiceFactory({ db, securityEvents, now = () => new Date(), maxDays, authCache, touchIntervalMs, meters, onTouchError }: ApiKeysDeps) {
  // A key is 256 bits of randomness, so a plain SHA-256 is enough to store it
  // (no password stretching needed) and lets us find it by hash. Validated
  // keys are cached briefly; revocation reaches other processes within the TTL.
  const cache = createKeyCache<Actor>(authCache);
  const lastTouched = new Map<string, number>();

  type NewKey = ReturnType<typeof publicKey> & { key: string };

  async function insert(tx: Tx, actor: Actor, tenantId: string | null, name: string, role: Role, limits: KeyLimits = {}): Promise<NewKey> {
    const secret = newApiKey();
    const expiresAt = limits.expiresAt ? new Date(limits.expiresAt) : null;
    try {
      const id = uuidv7();
      // The key's id and role, never its name or secret.
      tx.audit({ action: role === 'operator' ? 'operator_key.create' : 'api_key.create', actor, tenantId, target: { type: 'api_key', id }, detail: { role } });
      const row = await apiKeysRepo.insert(tx, {
        id, tenantId, name, role, prefix: secret.prefix, hash: secret.hash, collections: limits.collections ?? null, expiresAt,
        purposes: limits.purposes ?? null,
      });
      return { ...publicKey(row), key: secret.key };
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new RequestError('tenant.not_found');
      throw err;
    }
  }

  // The 32-bit prefix is unique for lookup; a rare clash (23505, which ends the
  // transaction) just draws a new key in a new one.
  async function retryingClash<T>(fn: () => Promise<T>, attempt = 1): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isUniqueViolation(err) && attempt < 5) return retryingClash(fn, attempt + 1);
      throw err;
    }
  }

  const validExpiry = (at: Date) => at > now() && at.getTime() <= now().getTime() + maxDays * 86_400_000;

  function touch(actor: Actor) {
    const now = Date.now();
    if ((lastTouched.get(actor.id) ?? 0) > now - touchIntervalMs) return;
    lastTouched.set(actor.id, now);
    apiKeysRepo.touch(db, actor.id).catch((err) => onTouchError?.(err));
  }

  // Inner forms: run in the caller's platform transaction (a change and, later,
  // its audit entry commit together).
  const inner = {
    async createOperatorKey(tx: Tx, actor: Actor, input: { name: string; role?: PlatformRole }, meta: RequestMeta = {}) {
      authorizePlatform(actor, 'operator_keys.manage');
      const key = await insert(tx, actor, null, input.name, input.role ?? 'operator');
      await securityEvents.recordPlatform(tx, { type: 'operator_key.created', actor, ...meta, detail: { keyId: key.id } });
      return key;
    },

    async listOperatorKeys(tx: Queries, actor: Actor) {
      authorizePlatform(actor, 'operator_keys.manage');
      return (await apiKeysRepo.listForTenant(tx, null)).map(publicKey);
    },

    // The last active operator key stays: without one the platform can only be
    // recovered on the stopped store (`tresor operator-key create`).
    async revokeOperatorKey(tx: Tx, actor: Actor, input: { keyId: string }, meta: RequestMeta = {}) {
      authorizePlatform(actor, 'operator_keys.manage');
      const active = (await apiKeysRepo.lockActiveOperators(tx)).map((r) => r.id);
      assertThat(active.length !== 1 || active[0] !== input.keyId, () => new RequestError('api_key.last_operator'));
      assertThat(await apiKeysRepo.revoke(tx, null, input.keyId), () => new RequestError('api_key.not_found'));
      tx.audit({ action: 'operator_key.revoke', actor, tenantId: null, target: { type: 'api_key', id: input.keyId } });
      await securityEvents.recordPlatform(tx, { type: 'api_key.revoked', actor, ...meta, detail: { keyId: input.keyId } });
    },

    // A key made by an operator lets the platform act inside the tenant: the
    // tenant's owner sees it as operator.key_minted. The event is written
    // last, as entering the tenant switches the transaction to the app role.
    async createTenantKey(tx: Tx, actor: Actor, input: NewTenantKey & { tenantId: string }, meta: RequestMeta = {}) {
      authorizeTenant(actor, input.tenantId, 'api_keys.manage');
      assertThat((TENANT_ROLES as readonly string[]).includes(input.role),
        () => new RequestError('api_key.invalid_role', `A tenant key's role must be one of ${TENANT_ROLES.join(', ')}`));
      assertThat(mayGrantRole(actor, input.role as TenantRole),
        () => new RequestError('auth.role_not_grantable', `Role '${actor.role}' may not hand out the role '${input.role}'`));
      assertThat(!input.expiresAt || validExpiry(new Date(input.expiresAt)),
        () => new RequestError('api_key.invalid_expiry', `expiresAt must lie in the future, at most ${maxDays} days ahead`));
      const key = await insert(tx, actor, input.tenantId, input.name, input.role, input);
      const minted = (PLATFORM_ROLES as readonly string[]).includes(actor.role);
      await securityEvents.record(await enterTenant(tx, input.tenantId), {
        type: minted ? 'operator.key_minted' : 'api_key.created', actor, ...meta,
        detail: { keyId: key.id, role: key.role, collections: key.collections, expiresAt: key.expiresAt, purposes: key.purposes },
      });
      return key;
    },

    async list(tx: Queries, actor: Actor, input: { tenantId: string }) {
      authorizeTenant(actor, input.tenantId, 'api_keys.manage');
      return (await apiKeysRepo.listForTenant(tx, input.tenantId)).map(publicKey);
    },

    async revoke(tx: Tx, actor: Actor, input: { tenantId: string; keyId: string }, meta: RequestMeta = {}) {
      authorizeTenant(actor, input.tenantId, 'api_keys.manage');
      assertThat(await apiKeysRepo.revoke(tx, input.tenantId, input.keyId), () => new RequestError('api_key.not_found'));
      tx.audit({ action: 'api_key.revoke', actor, tenantId: input.tenantId, target: { type: 'api_key', id: input.keyId } });
      await securityEvents.record(await enterTenant(tx, input.tenantId), { type: 'api_key.revoked', actor, ...meta, detail: { keyId: input.keyId } });
    },
  };

  // Revocation clears this process's cache once committed; others follow within the TTL.
  const revoked = () => { cache.clear(); };

  return {
    inner,
    /** Start-up and CLI: the bootstrap and recovery keys, made by no actor. */
    createOperatorKey: (name: string) =>
      retryingClash(() => db.transaction((tx) => insert(tx, systemActor('bootstrap'), null, name, 'operator'))),
    operatorKeysEver: () => apiKeysRepo.countOperatorsEver(db),

    createOperatorKeyAs: (actor: Actor, name: string, meta?: RequestMeta, role?: PlatformRole) =>
      retryingClash(() => db.transaction((tx) => inner.createOperatorKey(tx, actor, { name, role }, meta))),
    // Single reads run as one statement on the pool (no BEGIN/COMMIT round trips).
    listOperatorKeys: (actor: Actor) => inner.listOperatorKeys(db, actor),
    revokeOperatorKey: (actor: Actor, keyId: string, meta?: RequestMeta) =>
      db.transaction((tx) => inner.revokeOperatorKey(tx, actor, { keyId }, meta)).then(revoked),
    createTenantKey: (actor: Actor, tenantId: string, input: NewTenantKey, meta?: RequestMeta) =>
      retryingClash(() => db.transaction((tx) => inner.createTenantKey(tx, actor, { tenantId, ...input }, meta))),
    list: (actor: Actor, tenantId: string) => inner.list(db, actor, { tenantId }),
    revoke: (actor: Actor, tenantId: string, keyId: string, meta?: RequestMeta) =>
      db.transaction((tx) => inner.revoke(tx, actor, { tenantId, keyId }, meta)).then(revoked),

    /** The actor a presented key stands for (see access/authenticate.ts for where it is read from). */
    async authenticate(token: string): Promise<Actor> {
      // Keyed by the token itself: a hit skips parsing and hashing. The cache
      // holds only tokens that were valid, in this process's memory, which
      // sees every token anyway.
      // A revoked or expired key answers like an unknown one; only the metric tells them apart.
      const refuse = (reason: 'invalid' | 'revoked' | 'expired') => { meters.authFailure(reason); return new RequestError('auth.invalid_credentials'); };
      let actor = cache.get(token);
      if (!actor) {
        assertThat(parseApiKey(token), () => refuse('invalid'));
        const hash = hashApiKey(token);
        const row = await apiKeysRepo.findByHash(db, hash);
        assertThat(row && safeEqual(row.hash, hash), () => refuse('invalid'));
        assertThat(!row.revokedAt, () => refuse('revoked'));
        actor = { type: 'api_key', id: row.id, name: row.name, role: row.role, tenantId: row.tenantId, collections: row.collections, expiresAt: row.expiresAt, purposes: row.purposes };
        cache.set(token, actor);
      }
      // Checked on every use, cached or not: an expiry takes effect on time.
      assertThat(actor.type !== 'api_key' || !actor.expiresAt || actor.expiresAt > now(), () => refuse('expired'));
      touch(actor);
      return actor;
    },
  };
}

export type ApiKeysService = ReturnType<typeof apiKeysServiceFactory>;
