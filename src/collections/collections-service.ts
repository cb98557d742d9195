import { v7 as uuidv7 } from 'uuid';
import type { Db, TenantTx } from '../db/db.ts';
import { isUniqueViolation } from '../db/db.ts';
import { RequestError, assertThat, withProblems } from '../errors.ts';
import { type Actor, authorizeTenant } from '../access/permissions.ts';
import { createKeyCache } from '../crypto/keyring.ts';
import { canonicalId } from '../crypto/encoding.ts';
import { parseCollectionDefinition } from './collection-definition.ts';
import { type CollectionRow, collectionsRepo } from './collections-repo.ts';

export const publicCollection = (c: CollectionRow) => ({ id: c.id, name: c.name, fields: c.fields, createdAt: c.createdAt.toISOString() });

export interface CollectionsDeps { db: Db; maxFields: number; maxLengthCap: number; defaultMaxLength: number; cache: { max: number; ttlMs: number } }

export function collectionsServiceFactory({ db, maxFields, maxLengthCap, defaultMaxLength, cache: cacheLimits }: CollectionsDeps) {
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

  return {
    /** For other services, inside their own withTenant transaction. */
    find,

    async create(actor: Actor, tenantId: string, input: { name: string; fields: Array<Record<string, unknown>> }) {
      authorizeTenant(actor, tenantId, 'collections.create');
      const parsed = parseCollectionDefinition(input, { maxFields, maxLengthCap, defaultMaxLength });
      if (!parsed.ok) throw withProblems('collection.invalid_definition', parsed.problems);
      try {
        const row = await db.withTenant(tenantId, (tx) =>
          collectionsRepo.insert(tx, { tenantId, id: uuidv7(), name: parsed.name, fields: parsed.fields }));
        return publicCollection(row);
      } catch (err) {
        if (isUniqueViolation(err)) throw new RequestError('collection.already_exists', `A collection named '${parsed.name}' exists`);
        throw err;
      }
    },

    async get(actor: Actor, tenantId: string, name: string) {
      authorizeTenant(actor, tenantId, 'collections.read');
      return publicCollection(await db.withTenant(tenantId, (tx) => find(tx, tenantId, name)));
    },

    async list(actor: Actor, tenantId: string) {
      authorizeTenant(actor, tenantId, 'collections.read');
      return (await db.withTenant(tenantId, (tx) => collectionsRepo.list(tx))).map(publicCollection);
    },
  };
}

export type CollectionsService = ReturnType<typeof collectionsServiceFactory>;
