import type { Queries, Tx } from '../db/db.ts';

export interface TenantRow { id: string; name: string; status: string; createdAt: Date }
const columns = 'id, name, status, created_at as "createdAt"';

export const tenantsRepo = {
  insert: async (tx: Tx, t: { id: string; name: string }) =>
    (await tx.query<TenantRow>(`insert into tenants (id, name) values ($1, $2) returning ${columns}`, [t.id, t.name]))[0],
  find: async (tx: Queries, id: string) =>
    (await tx.query<TenantRow>(`select ${columns} from tenants where id = $1`, [id]))[0],
  list: (tx: Queries, after: string | null, limit: number) =>
    tx.query<TenantRow>(`select ${columns} from tenants where ($1::uuid is null or id > $1::uuid) order by id limit $2`, [after, limit]),
  listIds: (tx: Queries) => tx.query<{ id: string }>('select id from tenants order by id'),
};
