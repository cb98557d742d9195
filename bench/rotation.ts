import { runAutocannon, recordLoad, type Created } from './http-load.ts';
import { sleep } from './measure.ts';
import { PERSONAL_FIELDS, type Tenant, keyStatus, rotateKeys } from './tresor-client.ts';

export interface RotationFigures {
  records: number;
  /** Seconds from POST rotate until no record is left on an old key version. */
  reencryptSeconds: number;
  /** Seconds until the API reports rotating: false (adds the key-cache grace period). */
  totalSeconds: number;
  fieldsPerSecond: number;
  createBefore: number;
  createDuring: number;
  createErrors: number;
}

const onOldKeys = (s: { activeVersion: number; versions: Array<{ version: number; records: number }> }) =>
  s.versions.filter((v) => v.version !== s.activeVersion).reduce((n, v) => n + v.records, 0);

/**
 * Rotation under load: a create loop (autocannon, `concurrency` connections)
 * runs `beforeSeconds` alone, then a rotation starts and the loop keeps going
 * until the rotation is over. Re-encryption speed is every personal field of
 * every record that was on the old key, over the time until none is left.
 */
export async function rotationUnderLoad(t: Tenant, opts: { concurrency: number; beforeSeconds: number; tag: string; timeoutSeconds: number }): Promise<RotationFigures> {
  const created: Created = { ids: [], emails: [] };
  const counter = { n: 0 };
  const stamps: number[] = [];
  let createErrors = 0;
  const load = runAutocannon(t, { ...recordLoad(t, 'create', created, opts.tag, counter), onBody: undefined },
    opts.concurrency, opts.timeoutSeconds, (status) => {
      if (status === 201) stamps.push(performance.now());
      else createErrors++;
    });
  try {
    const loadStart = performance.now();
    await sleep(opts.beforeSeconds * 1000);
    const records = (await keyStatus(t)).versions.reduce((n, v) => n + v.records, 0);
    const rotatedAt = performance.now();
    await rotateKeys(t);
    let reencryptedAt = 0;
    for (;;) {
      const s = await keyStatus(t);
      const now = performance.now();
      if (!reencryptedAt && onOldKeys(s) === 0) reencryptedAt = now;
      if (!s.rotating) { reencryptedAt ||= now; break; }
      if (now - rotatedAt > opts.timeoutSeconds * 1000) throw new Error('rotation did not finish in time');
      await sleep(200);
    }
    const finishedAt = performance.now();
    const count = (from: number, to: number) => stamps.filter((s) => s >= from && s < to).length;
    const reencryptSeconds = (reencryptedAt - rotatedAt) / 1000;
    return {
      records,
      reencryptSeconds,
      totalSeconds: (finishedAt - rotatedAt) / 1000,
      fieldsPerSecond: (records * PERSONAL_FIELDS) / reencryptSeconds,
      createBefore: count(loadStart, rotatedAt) / ((rotatedAt - loadStart) / 1000),
      createDuring: count(rotatedAt, reencryptedAt) / reencryptSeconds,
      createErrors,
    };
  } finally {
    load.stop();
    await load.done;
  }
}
