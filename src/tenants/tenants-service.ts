import { v7 as uuidv7 } from 'uuid';
import { type Db, type Queries, type Tx, enterTenant } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, authorizePlatform, authorizeTenant } from '../access/permissions.ts';
import type { KeysService } from '../keys/keys-service.ts';
import { type TenantRow, tenantsRepo } from './tenants-repo.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);
export const publicTenant = (t: TenantRow) => ({ id: t.id, name: t.name, status: t.status, createdAt: t.createdAt.toISOString(),
  closedAt: iso(t.closedAt), purgeAfter: iso(t.purgeAfter) });

export interface TenantsDeps { db: Db; keys: Pick<KeysService, 'createTenantKeys'> }
type Page = { limit: number; cursor?: string };

export function tenantsServiceFactory({ db, keys }: TenantsDeps) {
  // Inner forms: run in the caller's platform transaction (a change and, later,
  // its audit entry commit together).
  const inner = {
    // The tenant row and its first keys are written in one transaction: a
    // tenant never exists without keys.
    async create(tx: Tx, actor: Actor, input: { name: string }) {
      authorizePlatform(actor, 'tenants.create');
      const id = uuidv7();
      const tenant = await tenantsRepo.insert(tx, { id, name: input.name });
      // The entries belong to the new tenant: after enterTenant this
      // transaction runs as the app role in that tenant's context.
      tx.audit({ action: 'tenant.create', actor, tenantId: id, target: { type: 'tenant', id } });
      await keys.createTenantKeys(await enterTenant(tx, id), id, actor);
      return publicTenant(tenant);
    },

    async list(tx: Queries, actor: Actor, page: Page) {
      authorizePlatform(actor, 'tenants.list');
      const rows = await tenantsRepo.list(tx, page.cursor ? decodeCursor(page.cursor) : null, page.limit + 1);
      const items = rows.slice(0, page.limit).map(publicTenant);
      return { items, nextCursor: rows.length > page.limit ? encodeCursor(items[items.length - 1].id) : null };
    },

    async get(tx: Queries, actor: Actor, input: { tenantId: string }) {
      authorizeTenant(actor, input.tenantId, 'tenants.read');
      const row = await tenantsRepo.find(tx, input.tenantId);
      assertThat(row, () => new RequestError('tenant.not_found'));
      return publicTenant(row);
    },
  };

  return {
    inner,
    create: (actor: Actor, input: { name: string }) => db.transaction((tx) => inner.create(tx, actor, input)),
    // Single reads run as one statement on the pool (no BEGIN/COMMIT round trips).
    list: (actor: Actor, page: Page) => inner.list(db, actor, page),
    get: (actor: Actor, tenantId: string) => inner.get(db, actor, { tenantId }),
    listIds: async () => (await tenantsRepo.listIds(db)).map((r) => r.id),
  };
}

export type TenantsService = ReturnType<typeof tenantsServiceFactory>;
