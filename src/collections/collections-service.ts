import { v7 as uuidv7 } from 'uuid';
import type { Db, TenantTx } from '../db/db.ts';
import { isUniqueViolation } from '../db/db.ts';
import { RequestError, assertThat, withProblems } from '../errors.ts';
import { type Actor, authorizeTenant } from '../access/permissions.ts';
import { createKeyCache } from '../crypto/keyring.ts';
import { canonicalId } from '../crypto/encoding.ts';
import { parseCollectionDefinition } from './collection-definition.ts';
import { type CollectionRow, collectionsRepo } from './collections-repo.ts';

export const publicCollection = (c: CollectionRow) => ({ id: c.id, name: c.name, fields: c.fields, purposes: c.purposes, createdAt: c.createdAt.toISOString() });

export interface CollectionsDeps {
  db: Db; maxFields: number; maxLengthCap: number; defaultMaxLength: number; cache: { max: number; ttlMs: number };
  /** In the creating transaction, after the insert (active legal holds extend to the new collection). */
  afterCreate?: (tx: TenantTx, c: CollectionRow) => Promise<void>;
}

export function collectionsServiceFactory({ db, maxFields, maxLengthCap, defaultMaxLength, cache: cacheLimits, afterCreate = async () => {} }: CollectionsDeps) {
  // Definitions never change once created, so they are cached per tenant.
  const cache = createKeyCache<CollectionRow>(cacheLimits);

  async function find(tx: TenantTx, tenantId: string, name: string): Promise<CollectionRow> {
    const key = `${canonicalId(tenantId, 'tenant id')}/${name}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const row = await collectionsRepo.findByName(tx, name);
    assertThat(row, () => new RequestError('collection.not_found', `No collection named '${name}'`));
    cache.set(key, row);
    return row;
  }

  type CollectionInput = { name: string; fields: Array<Record<string, unknown>>; purposes?: string[] };

  // Inner forms: run in the caller's tenant transaction (a change and, later,
  // its audit entry commit together). `find` is the one other services use.
  const inner = {
    async create(tx: TenantTx, actor: Actor, input: CollectionInput) {
      authorizeTenant(actor, tx.tenantId, 'collections.create');
      const parsed = parseCollectionDefinition({ name: input.name, fields: input.fields }, { maxFields, maxLengthCap, defaultMaxLength });
      if (!parsed.ok) throw withProblems('collection.invalid_definition', parsed.problems);
      try {
        const id = uuidv7();
        const purposes = [...new Set(input.purposes ?? [])];
        tx.audit({ action: 'collection.create', actor, collection: parsed.name, target: { type: 'collection', id }, fields: parsed.fields.map((f) => f.name),
          ...(purposes.length ? { detail: { purposes: purposes.join(',') } } : {}) });
        const row = await collectionsRepo.insert(tx, { tenantId: tx.tenantId, id, name: parsed.name, fields: parsed.fields, purposes });
        await afterCreate(tx, row);
        return publicCollection(row);
      } catch (err) {
        if (isUniqueViolation(err)) throw new RequestError('collection.already_exists', `A collection named '${parsed.name}' exists`);
        throw err;
      }
    },

    async get(tx: TenantTx, actor: Actor, input: { name: string }) {
      authorizeTenant(actor, tx.tenantId, 'collections.read');
      return publicCollection(await find(tx, tx.tenantId, input.name));
    },

    async list(tx: TenantTx, actor: Actor) {
      authorizeTenant(actor, tx.tenantId, 'collections.read');
      return (await collectionsRepo.list(tx)).map(publicCollection);
    },
  };

  // The role is checked before the transaction opens, and again inside (the inner form stands alone).
  function inTenant<T>(actor: Actor, tenantId: string, action: 'collections.create' | 'collections.read', fn: (tx: TenantTx) => Promise<T>) {
    authorizeTenant(actor, tenantId, action);
    return db.withTenant(tenantId, fn);
  }

  return {
    /** For other services, inside their own withTenant transaction. */
    find,
    inner,
    create: (actor: Actor, tenantId: string, input: CollectionInput) =>
      inTenant(actor, tenantId, 'collections.create', (tx) => inner.create(tx, actor, input)),
    get: (actor: Actor, tenantId: string, name: string) => inTenant(actor, tenantId, 'collections.read', (tx) => inner.get(tx, actor, { name })),
    list: (actor: Actor, tenantId: string) => inTenant(actor, tenantId, 'collections.read', (tx) => inner.list(tx, actor)),
  };
}

export type CollectionsService = ReturnType<typeof collectionsServiceFactory>;
