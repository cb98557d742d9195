import type { Db, TenantTx } from '../db/db.ts';
import { isTenantFrozen } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, authorizeTenant, systemActor } from '../access/permissions.ts';
import type { CollectionsService } from '../collections/collections-service.ts';
import { type PolicyRow, type RetentionBasis, retentionRepo } from './retention-repo.ts';

/**
 * The legal-hold seam: of the given records (one batch of expired ones, all
 * of the transaction's tenant), those under a legal hold. Retention never
 * deletes them; they are deleted by a later run once the hold is lifted.
 */
export type HeldRecords = (tx: TenantTx, recordIds: readonly string[]) => Promise<ReadonlySet<string>>;
export const noHolds: HeldRecords = async () => new Set();

export interface PolicyInput { basis: RetentionBasis; days: number; field?: string }

export interface RetentionDeps {
  db: Db;
  collections: Pick<CollectionsService, 'find'>;
  /** Records deleted per transaction (one audit entry each). */
  batchSize: number;
  now: () => Date;
  heldRecords?: HeldRecords;
}

export interface RunOptions {
  /** The moment retention is enforced as of (default: the services' clock). */
  asOf?: Date;
  tenantId?: string;
  stopping?: () => boolean;
  /** Called after each batch with the records deleted so far in this run. */
  onProgress?: (deleted: number) => void;
}

export interface RunResult { asOf: string; deleted: number; held: number; collections: Array<{ tenantId: string; collection: string; deleted: number }> }

const DAY_MS = 86_400_000;

export const publicPolicy = (p: PolicyRow) => ({ collection: p.collection, basis: p.basis, days: p.days,
  ...(p.field ? { field: p.field } : {}), updatedAt: p.updatedAt.toISOString() });

/** Before this (timestamp or YYYY-MM-DD), a record of the policy is expired as of `asOf`. */
export function cutoffFor(p: Pick<PolicyRow, 'basis' | 'days'>, asOf: Date): string {
  const cutoff = new Date(asOf.getTime() - p.days * DAY_MS);
  return p.basis === 'field' ? cutoff.toISOString().slice(0, 10) : cutoff.toISOString();
}

export function retentionServiceFactory({ db, collections, batchSize, now, heldRecords = noHolds }: RetentionDeps) {
  const stats = { deletedTotal: 0, lastRunAt: null as Date | null, lastRunDeleted: 0 };

  // A date field used by a policy must be stored in the clear (classification
  // none): the database selects expired records by comparing it, and an
  // encrypted value would have to be decrypted record by record on every run.
  async function checkPolicy(tx: TenantTx, collection: string, input: PolicyInput) {
    const c = await collections.find(tx, tx.tenantId, collection);
    if (input.basis !== 'field') {
      assertThat(input.field === undefined, () => new RequestError('retention.invalid_policy', `basis '${input.basis}' takes no field`));
      return c;
    }
    assertThat(input.field !== undefined, () => new RequestError('retention.invalid_policy', "basis 'field' needs `field`, the name of a date field"));
    const def = c.fields.find((f) => f.name === input.field);
    assertThat(def, () => new RequestError('retention.invalid_policy', `The collection has no field named '${input.field}'`));
    assertThat(def.type === 'date', () => new RequestError('retention.invalid_policy', `Field '${def.name}' is a ${def.type} field, not a date field`));
    assertThat(def.classification === 'none', () => new RequestError('retention.invalid_policy',
      `Field '${def.name}' is encrypted (classification ${def.classification}); a retention date field must be classified none`));
    return c;
  }

  const inner = {
    async get(tx: TenantTx, actor: Actor, input: { collection: string }) {
      authorizeTenant(actor, tx.tenantId, 'retention.read');
      const c = await collections.find(tx, tx.tenantId, input.collection);
      const row = await retentionRepo.find(tx, c.id);
      assertThat(row, () => new RequestError('retention.not_found', `Collection '${c.name}' has no retention policy`));
      return publicPolicy(row);
    },

    async put(tx: TenantTx, actor: Actor, input: { collection: string; policy: PolicyInput }) {
      authorizeTenant(actor, tx.tenantId, 'retention.manage');
      const { policy } = input;
      const c = await checkPolicy(tx, input.collection, policy);
      const field = policy.field ?? null;
      const { updatedAt } = await retentionRepo.upsert(tx, { collectionId: c.id, basis: policy.basis, days: policy.days, field, updatedAt: now() });
      tx.audit({ action: 'retention.set', actor, collection: c.name, target: { type: 'collection', id: c.id },
        detail: { basis: policy.basis, days: policy.days, field } });
      return publicPolicy({ collectionId: c.id, collection: c.name, basis: policy.basis, days: policy.days, field, updatedAt });
    },

    async remove(tx: TenantTx, actor: Actor, input: { collection: string }) {
      authorizeTenant(actor, tx.tenantId, 'retention.manage');
      const c = await collections.find(tx, tx.tenantId, input.collection);
      assertThat(await retentionRepo.remove(tx, c.id), () => new RequestError('retention.not_found', `Collection '${c.name}' has no retention policy`));
      tx.audit({ action: 'retention.remove', actor, collection: c.name, target: { type: 'collection', id: c.id } });
    },
  };

  /**
   * One batch: the next expired records after `after`, minus those under a
   * legal hold, deleted with one audit entry naming them (ids, never values).
   */
  async function deleteBatch(tenantId: string, p: PolicyRow, cutoff: string, after: string | null) {
    return db.withTenant(tenantId, async (tx) => {
      const ids = await retentionRepo.expired(tx, p, cutoff, after, batchSize);
      if (!ids.length) return { last: null, deleted: 0, held: 0, full: false };
      const held = await heldRecords(tx, ids);
      const gone = await retentionRepo.delete(tx, ids.filter((id) => !held.has(id)));
      if (gone.length) {
        tx.audit({ action: 'retention.delete', actor: systemActor('retention'), collection: p.collection, recordIds: gone,
          detail: { records: gone.length, basis: p.basis, days: p.days, ...(p.field ? { field: p.field } : {}) } });
      }
      return { last: ids[ids.length - 1], deleted: gone.length, held: held.size, full: ids.length === batchSize };
    });
  }

  async function enforceTenant(tenantId: string, asOf: Date, result: RunResult, o: RunOptions) {
    const policies = await db.withTenant(tenantId, (tx) => retentionRepo.list(tx));
    for (const p of policies) {
      const cutoff = cutoffFor(p, asOf);
      let deleted = 0;
      for (let after: string | null = null, full = true; full && !o.stopping?.();) {
        const batch = await deleteBatch(tenantId, p, cutoff, after);
        ({ last: after, full } = batch);
        deleted += batch.deleted;
        result.deleted += batch.deleted;
        result.held += batch.held;
        stats.deletedTotal += batch.deleted;
        o.onProgress?.(result.deleted);
      }
      if (deleted) result.collections.push({ tenantId, collection: p.collection, deleted });
    }
  }

  return {
    inner,
    get: (actor: Actor, tenantId: string, collection: string) => {
      authorizeTenant(actor, tenantId, 'retention.read');
      return db.withTenant(tenantId, (tx) => inner.get(tx, actor, { collection }));
    },
    put: (actor: Actor, tenantId: string, collection: string, policy: PolicyInput) => {
      authorizeTenant(actor, tenantId, 'retention.manage');
      return db.withTenant(tenantId, (tx) => inner.put(tx, actor, { collection, policy }));
    },
    remove: (actor: Actor, tenantId: string, collection: string) => {
      authorizeTenant(actor, tenantId, 'retention.manage');
      return db.withTenant(tenantId, (tx) => inner.remove(tx, actor, { collection }));
    },

    /** Expired records per policy as of `asOf` (for the CLI's progress bar). */
    async countExpired(o: { asOf?: Date; tenantId?: string } = {}): Promise<number> {
      const asOf = o.asOf ?? now();
      let n = 0;
      for (const tenantId of await retentionRepo.activeTenants(db, o.tenantId ?? null)) {
        n += await db.withTenant(tenantId, async (tx) => {
          let sum = 0;
          for (const p of await retentionRepo.list(tx)) sum += await retentionRepo.countExpired(tx, p, cutoffFor(p, asOf));
          return sum;
        });
      }
      return n;
    },

    /**
     * Deletes every expired record of every active tenant (or of one), batch
     * by batch. Closed tenants are frozen and left to their purge; a tenant
     * closed during the run is skipped from then on.
     */
    async enforce(o: RunOptions = {}): Promise<RunResult> {
      const asOf = o.asOf ?? now();
      const result: RunResult = { asOf: asOf.toISOString(), deleted: 0, held: 0, collections: [] };
      for (const tenantId of await retentionRepo.activeTenants(db, o.tenantId ?? null)) {
        if (o.stopping?.()) break;
        try {
          await enforceTenant(tenantId, asOf, result, o);
        } catch (err) {
          if (!isTenantFrozen(err)) throw err;
        }
      }
      stats.lastRunAt = now();
      stats.lastRunDeleted = result.deleted;
      await retentionRepo.recordRun(db, stats.lastRunAt, result.deleted);
      return result;
    },
    stats: () => ({ ...stats }),
  };
}

export type RetentionService = ReturnType<typeof retentionServiceFactory>;
