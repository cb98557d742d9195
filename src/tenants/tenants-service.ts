import { v7 as uuidv7 } from 'uuid';
import { type Db, enterTenant } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, authorizePlatform, authorizeTenant } from '../access/permissions.ts';
import type { KeysService } from '../keys/keys-service.ts';
import { type TenantRow, tenantsRepo } from './tenants-repo.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';

export const publicTenant = (t: TenantRow) => ({ id: t.id, name: t.name, status: t.status, createdAt: t.createdAt.toISOString() });

export function tenantsServiceFactory({ db, keys }: { db: Db; keys: Pick<KeysService, 'createTenantKeys'> }) {
  return {
    async create(actor: Actor, input: { name: string }) {
      authorizePlatform(actor, 'tenants.create');
      const id = uuidv7();
      // The tenant row and its first keys are written in one transaction: a
      // tenant never exists without keys.
      const row = await db.transaction(async (tx) => {
        const tenant = await tenantsRepo.insert(tx, { id, name: input.name });
        await keys.createTenantKeys(await enterTenant(tx, id), id);
        return tenant;
      });
      return publicTenant(row);
    },

    async list(actor: Actor, page: { limit: number; cursor?: string }) {
      authorizePlatform(actor, 'tenants.list');
      const rows = await tenantsRepo.list(db, page.cursor ? decodeCursor(page.cursor) : null, page.limit + 1);
      const more = rows.length > page.limit;
      const items = rows.slice(0, page.limit).map(publicTenant);
      return { items, nextCursor: more ? encodeCursor(items[items.length - 1].id) : null };
    },

    async get(actor: Actor, tenantId: string) {
      authorizeTenant(actor, tenantId, 'tenants.read');
      const row = await tenantsRepo.find(db, tenantId);
      assertThat(row, () => new RequestError('tenant.not_found'));
      return publicTenant(row);
    },

    listIds: async () => (await tenantsRepo.listIds(db)).map((r) => r.id),
  };
}

export type TenantsService = ReturnType<typeof tenantsServiceFactory>;
