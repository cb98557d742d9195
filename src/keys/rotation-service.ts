import type { KeysService } from './keys-service.ts';

export interface RotationDeps {
  keys: Pick<KeysService, 'addDataKeyVersion' | 'retire' | 'status' | 'forget'>;
  reencryptBatch: (tenantId: string, batchSize: number) => Promise<number>;
  batchSize: number;
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
export function rotationServiceFactory({ keys, reencryptBatch, batchSize, keyCacheTtlMs, onError }: RotationDeps) {
  const running = new Map<string, RotationState>();

  async function drain(state: RotationState, startedAt: number) {
    for (;;) {
      const n = await reencryptBatch(state.tenantId, batchSize);
      state.reencrypted += n;
      if (n > 0) continue;
      const waitMs = startedAt + keyCacheTtlMs + 1000 - Date.now();
      if (waitMs <= 0) break;
      keys.forget(state.tenantId);
      await sleep(Math.min(waitMs, 250));
    }
    await keys.retire(state.tenantId, state.previous);
  }

  function run(state: RotationState): Promise<void> {
    running.set(state.tenantId, state);
    return drain(state, Date.now())
      .catch((err) => { state.error = (err as Error).message; onError(state.tenantId, err); })
      .finally(() => { state.running = false; running.delete(state.tenantId); });
  }

  return {
    /** Starts a rotation; resolves once the new version is active, with a promise for the background part. */
    async start(tenantId: string) {
      const { version, previous } = await keys.addDataKeyVersion(tenantId);
      const state: RotationState = { tenantId, version, previous, reencrypted: 0, running: true };
      return { state, done: run(state) };
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
