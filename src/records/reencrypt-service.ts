import type { Db } from '../db/db.ts';
import { systemActor } from '../access/permissions.ts';
import type { KeysService } from '../keys/keys-service.ts';
import { reencrypt } from './record-codec.ts';
import { recordsRepo } from './records-repo.ts';

/**
 * Moves one batch of a tenant's records onto the active data key version,
 * sealing rows still in the per-field format on the way.
 * SKIP LOCKED lets a concurrent PATCH (which locks its row) and other rotation
 * loops proceed; rows they hold are picked up by a later batch. The ring is
 * read fresh: acting on a cached, older active version would move records back.
 * A record that does not decrypt is set aside (unreadable_at) and skipped, so
 * one damaged row cannot stop the tenant's rotation.
 */
export function reencryptServiceFactory({ db, keys }: { db: Db; keys: Pick<KeysService, 'freshRing'> }) {
  return {
    async reencryptBatch(tenantId: string, batchSize: number): Promise<{ moved: number; unreadable: number }> {
      return db.withTenant(tenantId, async (tx) => {
        const ring = await keys.freshRing(tx, tenantId);
        const rows = await recordsRepo.staleBatch(tx, ring.activeVersion, batchSize);
        const updated: Array<{ id: string; sealed: string }> = [];
        const unreadable: string[] = [];
        for (const r of rows) {
          try {
            updated.push({ id: r.id, sealed: reencrypt(ring, { tenantId, collectionId: r.collectionId, recordId: r.id }, r) });
          } catch {
            unreadable.push(r.id);
          }
        }
        const actor = systemActor('rotation');
        if (updated.length) {
          await recordsRepo.setSealed(tx, ring.activeVersion, updated);
          tx.audit({ action: 'record.reencrypt', actor, recordIds: updated.map((u) => u.id), target: { type: 'data_key', id: String(ring.activeVersion) } });
        }
        if (unreadable.length) {
          await recordsRepo.setUnreadable(tx, unreadable);
          tx.audit({ action: 'record.set_unreadable', actor, recordIds: unreadable });
        }
        return { moved: updated.length, unreadable: unreadable.length };
      });
    },
  };
}

export type ReencryptService = ReturnType<typeof reencryptServiceFactory>;
