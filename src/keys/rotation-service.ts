import type { Db } from '../db/db.ts';
import { RequestError, assertThat } from '../errors.ts';
import { type Actor, authorizeTenant } from '../access/permissions.ts';
import { isTransient, sleep, type JobContext, type Jobs } from '../jobs/jobs.ts';
import type { KeysService } from './keys-service.ts';
import { keysRepo } from './keys-repo.ts';
import type { Meters } from '../http/metrics.ts';

export interface RotationDeps {
  db: Db;
  keys: Pick<KeysService, 'addDataKeyVersion' | 'retire' | 'status'>;
  jobs: Pick<Jobs, 'add' | 'kick' | 'idle'>;
  meters: Pick<Meters, 'rotationStarted' | 'reencrypted'>;
  reencryptBatch: (tenantId: string, batchSize: number) => Promise<{ moved: number; unreadable: number }>;
  batchSize: number;
  /** Batch loops running at once per tenant. */
  concurrency: number;
  /** How long other processes may still use a cached, older key ring. */
  keyCacheTtlMs: number;
  /** Waited beyond keyCacheTtlMs before retiring (late requests, clock differences). */
  retireMarginMs: number;
  /** How often the leader looks for re-encryption work (a rotation asked for on another node). */
  pollMs: number;
  /** Unreadable records listed in the key status. */
  unreadableMax: number;
}

export const ROTATION_JOB = 'rotation';

// Rotation adds a key version at once (new writes use it) and marks the tenant
// for the re-encryption job, which runs on the leader node. Old versions retire
// only after no readable record uses them and every process's key cache has
// expired, so a write from a process that had not yet seen the new version is
// still caught by a later batch.
export function rotationServiceFactory(deps: RotationDeps) {
  const { db, keys, jobs, meters, reencryptBatch, batchSize, concurrency, keyCacheTtlMs, retireMarginMs, pollMs, unreadableMax } = deps;

  // Several loops share the work (SKIP LOCKED keeps their batches apart), so
  // re-encryption uses more than one core's worth of database and Node time.
  async function reencryptAll(ctx: JobContext, tenantId: string) {
    const loop = async () => {
      for (let n = -1; n !== 0 && !ctx.stopping();) {
        const r = await reencryptBatch(tenantId, batchSize);
        meters.reencrypted('reencrypted', r.moved);
        meters.reencrypted('unreadable', r.unreadable);
        if (r.unreadable) ctx.log.warn({ tenantId, records: r.unreadable }, 'records that do not decrypt were set aside');
        n = r.moved + r.unreadable;
        // Let queued requests through between batches (PGlite serialises all work).
        await new Promise((res) => setImmediate(res));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
  }

  /** One tenant's pass: re-encrypt (and seal per-field rows), wait out other processes' caches, retire what no readable record uses. */
  async function drain(ctx: JobContext, tenantId: string, since: Date) {
    for (;;) {
      await reencryptAll(ctx, tenantId);
      if (ctx.stopping()) return;
      const waitMs = since.getTime() + keyCacheTtlMs + retireMarginMs - Date.now();
      // Short steps, not policy: late writes on the old version are re-encrypted
      // as they come, and a shutdown is noticed within a quarter second.
      if (waitMs > 0) { await sleep(Math.min(waitMs, 250)); continue; }
      const { versions, activeVersion, unsealed } = await keys.status(tenantId, 0);
      const old = versions.filter((v) => v.version !== activeVersion && v.status !== 'retired');
      // Left for the next tick (rows a writer held) or for an operator (records
      // set aside as unreadable keep their version from retiring).
      if (old.some((v) => v.records > 0) || unsealed > 0) return;
      await keys.retire(tenantId, old.map((v) => v.version), since);
      ctx.log.info({ tenantId, retired: old.map((v) => v.version) }, 'key rotation finished');
      return;
    }
  }

  jobs.add({
    name: ROTATION_JOB,
    everyMs: pollMs,
    async run(ctx) {
      for (const { id, since } of await keysRepo.pendingReencrypt(db)) {
        if (ctx.stopping()) return;
        try {
          await drain(ctx, id, since);
        } catch (err) {
          // Transient: the job runner retries the whole run with backoff. Otherwise
          // the tenant is tried again at the next tick; others go on meanwhile.
          if (isTransient(err)) throw err;
          ctx.log.error({ err, tenantId: id }, 'key rotation failed for this tenant; retried at the next tick');
        }
      }
    },
  });

  async function statusOf(tenantId: string) {
    const s = await keys.status(tenantId, unreadableMax);
    if (!s.versions.length) throw new RequestError('tenant.not_found');
    return { ...s, rotating: s.versions.some((v) => v.status === 'retiring') };
  }

  return {
    /** Key versions with the records still on each, records set aside as unreadable, and whether a rotation is under way. */
    status(actor: Actor, tenantId: string) {
      authorizeTenant(actor, tenantId, 'keys.rotate');
      return statusOf(tenantId);
    },
    async rotate(actor: Actor, tenantId: string) {
      authorizeTenant(actor, tenantId, 'keys.rotate');
      await keys.addDataKeyVersion(tenantId, actor);
      meters.rotationStarted();
      void jobs.kick(ROTATION_JOB);
      return statusOf(tenantId);
    },
    /** Deletes a record set aside as unreadable, so the old key version can retire. */
    async discardUnreadable(actor: Actor, tenantId: string, recordId: string) {
      authorizeTenant(actor, tenantId, 'keys.rotate');
      const gone = await db.withTenant(tenantId, async (tx) => {
        if (!(await keysRepo.discardUnreadable(tx, recordId))) return false;
        tx.audit({ action: 'record.discard_unreadable', actor, recordIds: [recordId] });
        return true;
      });
      assertThat(gone, () => new RequestError('keys.unreadable_not_found'));
      void jobs.kick(ROTATION_JOB);
      return statusOf(tenantId);
    },
    /** Resolves when the re-encryption job has no run under way (tests, CLI). */
    idle: () => jobs.idle(ROTATION_JOB),
  };
}

export type RotationService = ReturnType<typeof rotationServiceFactory>;
