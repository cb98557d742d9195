import type { TenantTx } from '../db/db.ts';
import type { FieldDef } from './collection-definition.ts';

export interface CollectionRow { id: string; name: string; fields: FieldDef[]; purposes: string[]; createdAt: Date }
const columns = 'id, name, fields, purposes, created_at as "createdAt"';

// Called inside withTenant(): RLS limits every statement to the tenant.
export const collectionsRepo = {
  insert: async (tx: TenantTx, c: { tenantId: string; id: string; name: string; fields: FieldDef[]; purposes: readonly string[] }) =>
    (await tx.query<CollectionRow>(
      `insert into collections (tenant_id, id, name, fields, purposes) values ($1, $2, $3, $4::text::jsonb, $5::text::jsonb) returning ${columns}`,
      [c.tenantId, c.id, c.name, JSON.stringify(c.fields), JSON.stringify(c.purposes)],
    ))[0],
  findByName: async (tx: TenantTx, name: string) =>
    (await tx.query<CollectionRow>(`select ${columns} from collections where name = $1`, [name]))[0],
  list: (tx: TenantTx) => tx.query<CollectionRow>(`select ${columns} from collections order by name`),
};
