import type { TenantTx } from '../db/db.ts';

export const TRANSFER_MECHANISMS = ['adequacy', 'scc', 'bcr', 'derogation'] as const;
export type TransferMechanism = (typeof TRANSFER_MECHANISMS)[number];

/** What the client documented: purposes (ids and words), categories, retention, recipients, transfers. */
export interface InstructionBody {
  purposes: { id: string; description: string }[];
  dataCategories: string[];
  retention: string;
  recipients: string[];
  transfers: { destination: string; country: string; mechanism: TransferMechanism }[];
}

export interface InstructionRow {
  version: number; body: InstructionBody;
  enteredByType: string; enteredById: string; enteredByRole: string; enteredAt: Date;
  confirmedByType: string | null; confirmedById: string | null; confirmedAt: Date | null;
}

const columns = `version, body, entered_by_type as "enteredByType", entered_by_id as "enteredById", entered_by_role as "enteredByRole",
  entered_at as "enteredAt", confirmed_by_type as "confirmedByType", confirmed_by_id as "confirmedById", confirmed_at as "confirmedAt"`;

// Called inside withTenant(): RLS limits every statement to the tenant.
export const instructionsRepo = {
  /** The next version number; the primary key refuses a concurrent twin (23505). */
  insert: async (tx: TenantTx, i: { body: InstructionBody; by: { type: string; id: string; role: string }; at: Date }) =>
    (await tx.query<InstructionRow>(
      `insert into instructions (tenant_id, version, body, entered_by_type, entered_by_id, entered_by_role, entered_at)
       values ($1, (select coalesce(max(version), 0) + 1 from instructions), $2::text::jsonb, $3, $4, $5, $6) returning ${columns}`,
      [tx.tenantId, JSON.stringify(i.body), i.by.type, i.by.id, i.by.role, i.at],
    ))[0],
  list: (tx: TenantTx) => tx.query<InstructionRow>(`select ${columns} from instructions order by version desc`),
  find: async (tx: TenantTx, version: number) =>
    (await tx.query<InstructionRow>(`select ${columns} from instructions where version = $1`, [version]))[0],
  /** The version in force: the highest confirmed one. */
  current: async (tx: TenantTx) =>
    (await tx.query<InstructionRow>(`select ${columns} from instructions where confirmed_at is not null order by version desc limit 1`))[0],
  confirm: async (tx: TenantTx, version: number, by: { type: string; id: string }, at: Date) =>
    (await tx.query<InstructionRow>(
      `update instructions set confirmed_by_type = $2, confirmed_by_id = $3, confirmed_at = $4
       where version = $1 and confirmed_at is null returning ${columns}`, [version, by.type, by.id, at],
    ))[0],
};
