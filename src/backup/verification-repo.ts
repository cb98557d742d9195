import type { Queries } from '../db/db.ts';
import { toBuffer } from '../db/db.ts';

export interface VerificationRow {
  id: string; backupId: string; verifiedAt: Date; result: 'passed' | 'failed';
  evidence: Buffer; signature: Buffer; keyId: string; publicKey: Buffer;
}

const columns = `id, backup_id as "backupId", verified_at as "verifiedAt", result, evidence, signature, key_id as "keyId", public_key as "publicKey"`;
const asRow = (r: VerificationRow): VerificationRow => ({ ...r, evidence: toBuffer(r.evidence), signature: toBuffer(r.signature), publicKey: toBuffer(r.publicKey) });

export const verificationRepo = {
  insert: (tx: Queries, v: VerificationRow) => tx.query(`insert into backup_verifications (id, backup_id, verified_at, result, evidence, signature, key_id, public_key)
    values ($1, $2, $3, $4, $5, $6, $7, $8)`, [v.id, v.backupId, v.verifiedAt, v.result, v.evidence, v.signature, v.keyId, v.publicKey]),
  /** Newest first (ids are UUIDv7, ordered by time). */
  list: async (tx: Queries, before: string | null, limit: number) => (await tx.query<VerificationRow>(
    `select ${columns} from backup_verifications where ($1::uuid is null or id < $1::uuid) order by id desc limit $2`, [before, limit])).map(asRow),
  get: async (tx: Queries, id: string): Promise<VerificationRow | undefined> =>
    (await tx.query<VerificationRow>(`select ${columns} from backup_verifications where id = $1`, [id])).map(asRow)[0],
  lastPassedAt: async (tx: Queries): Promise<Date | null> =>
    (await tx.query<{ at: Date | null }>("select max(verified_at) as at from backup_verifications where result = 'passed'"))[0]?.at ?? null,
  lastAt: async (tx: Queries): Promise<Date | null> =>
    (await tx.query<{ at: Date | null }>('select max(verified_at) as at from backup_verifications'))[0]?.at ?? null,
};
