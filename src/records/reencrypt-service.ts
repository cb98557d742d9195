import type { Db } from '../db/db.ts';
import type { KeysService } from '../keys/keys-service.ts';
import { reencrypt } from './record-codec.ts';
import { recordsRepo } from './records-repo.ts';

/**
 * Moves one batch of a tenant's records onto the active data key version.
 * SKIP LOCKED lets a concurrent PATCH (which locks its row) and other rotation
 * workers proceed; rows they hold are picked up by a later batch.
 */
export function reencryptServiceFactory({ db, keys }: { db: Db; keys: Pick<KeysService, 'ringFor' | 'forget'> }) {
  return {
    async reencryptBatch(tenantId: string, batchSize: number): Promise<number> {
      return db.withTenant(tenantId, async (tx) => {
        const ring = await keys.ringFor(tx, tenantId);
        const rows = await recordsRepo.staleBatch(tx, ring.activeVersion, batchSize);
        if (!rows.length) return 0;
        const updated = rows.map((r) => ({
          id: r.id,
          enc: reencrypt(ring, { tenantId, collectionId: r.collectionId, recordId: r.id }, r.keyVersion, r.enc),
        }));
        await recordsRepo.setEncrypted(tx, ring.activeVersion, updated);
        return rows.length;
      });
    },
  };
}

export type ReencryptService = ReturnType<typeof reencryptServiceFactory>;
