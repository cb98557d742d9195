import { RequestError } from '../errors.ts';
import { type Actor, authorizeTenant } from '../access/permissions.ts';
import type { KeysService } from './keys-service.ts';

export interface RotationDeps {
  keys: Pick<KeysService, 'addDataKeyVersion' | 'retire' | 'status' | 'forget'>;
  reencryptBatch: (tenantId: string, batchSize: number) => Promise<number>;
  batchSize: number;
  /** Batch loops running at once. */
  concurrency: number;
  /** How long other processes may still use a cached, older key ring. */
  keyCacheTtlMs: number;
  onError: (tenantId: string, err: unknown) => void;
}

export interface RotationState { tenantId: string; version: number; previous: number[]; reencrypted: number; running: boolean; error?: string }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Rotation adds a key version at once (new writes use it) and re-encrypts the
// old records in the background. Old versions retire only after no record uses
// them and every process's key cache has expired, so a write from a process
// that had not yet seen the new version is still caught by a later batch.
export function rotationServiceFactory({ keys, reencryptBatch, batchSize, concurrency, keyCacheTtlMs, onError }: RotationDeps) {
  const running = new Map<string, RotationState>();

  // Several loops share the work (SKIP LOCKED keeps their batches apart), so
  // re-encryption uses more than one core's worth of database and Node time.
  async function reencryptAll(state: RotationState) {
    const loop = async () => {
      for (let n = -1; n !== 0;) {
        n = await reencryptBatch(state.tenantId, batchSize);
        state.reencrypted += n;
        // Let queued requests through between batches (PGlite serialises all work).
        await new Promise((r) => setImmediate(r));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
  }

  async function drain(state: RotationState, startedAt: number) {
    for (;;) {
      await reencryptAll(state);
      const waitMs = startedAt + keyCacheTtlMs + 1000 - Date.now();
      if (waitMs > 0) {
        keys.forget(state.tenantId);
        await sleep(Math.min(waitMs, 250));
        continue;
      }
      // SKIP LOCKED passes over rows locked by writers; retire only once none is left.
      const { versions } = await keys.status(state.tenantId);
      if (versions.every((v) => v.version === state.version || v.records === 0)) break;
      await sleep(50);
    }
    await keys.retire(state.tenantId, state.previous);
  }

  function run(state: RotationState): Promise<void> {
    running.set(state.tenantId, state);
    return drain(state, Date.now())
      .catch((err) => { state.error = (err as Error).message; onError(state.tenantId, err); })
      .finally(() => { state.running = false; running.delete(state.tenantId); });
  }

  async function statusOf(tenantId: string) {
    const s = await keys.status(tenantId);
    if (!s.versions.length) throw new RequestError('tenant.not_found');
    return { ...s, rotating: s.versions.some((v) => v.status === 'retiring') };
  }

  async function start(tenantId: string) {
    const { version, previous } = await keys.addDataKeyVersion(tenantId);
    const state: RotationState = { tenantId, version, previous, reencrypted: 0, running: true };
    return { state, done: run(state) };
  }

  return {
    /** Starts a rotation; resolves once the new version is active, with a promise for the background part. */
    start,
    /** Key versions with the records still on each, and whether a rotation is under way. */
    status(actor: Actor, tenantId: string) {
      authorizeTenant(actor, tenantId, 'keys.rotate');
      return statusOf(tenantId);
    },
    async rotate(actor: Actor, tenantId: string) {
      authorizeTenant(actor, tenantId, 'keys.rotate');
      await start(tenantId);
      return statusOf(tenantId);
    },
    /** Picks up a rotation left 'retiring' by a stopped process. */
    resume(tenantId: string, version: number, previous: number[]) {
      if (running.has(tenantId)) return undefined;
      return run({ tenantId, version, previous, reencrypted: 0, running: true });
    },
    current: (tenantId: string) => running.get(tenantId),
    async idle() { while (running.size) await sleep(50); },
  };
}

export type RotationService = ReturnType<typeof rotationServiceFactory>;
