import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { StartupCode } from '../errors.ts';

export class StoreLockedError extends Error {
  readonly code: StartupCode = 'store.locked';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// PGlite is a single-process database: two processes writing one data dir
// would corrupt it. An exclusive-create lock file holding the owner's pid keeps
// a second process out; a lock left by a killed process is taken over.
export function acquireDataDirLock(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, 'tresor.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => { try { unlinkSync(path); } catch { /* already gone */ } };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new StoreLockedError(
          `The embedded store at ${dataDir} is in use by process ${pid}. Stop it first, ` +
            'or use the running server through its HTTP API (TRESOR_URL, TRESOR_TOKEN).',
        );
      }
      unlinkSync(path);
    }
  }
  throw new StoreLockedError(`Could not lock the embedded store at ${dataDir}`);
}
