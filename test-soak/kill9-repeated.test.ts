import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Person } from '../bench/people.ts';
import { runTag } from '../bench/people.ts';
import { type Tenant, seedTenant } from '../bench/tresor-client.ts';
import { type TresorProcess, createDatabase, startTresor, tresorDirs } from '../bench/tresor-process.ts';
import { verifyAll, writeLoop } from './write-loop.ts';

// Crash safety, counted: twenty kill -9 of the server in the middle of writes,
// each followed by a restart on the same store and key file. Counts the
// acknowledged writes that are lost (missing or different after the restart,
// and again at the end) and the restarts where the store fails to open. Both
// must be zero, on PostgreSQL and on the embedded PGlite store alike.
//
// What this does not cover on PGlite: an OS crash or power loss. PGlite runs
// PostgreSQL with fsync=off on a filesystem layer that never calls fsync, so a
// commit is in the OS page cache, not on the disk, when the 201 goes out; a
// process crash keeps it, a power cut may not (docs/recovery.md).

const pgUrl = process.env.TEST_DATABASE_URL;
const KILLS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function killRepeatedly(database: boolean, note: (msg: string) => void) {
  const dirs = tresorDirs('tresor-crash-');
  const db = database ? await createDatabase(pgUrl!, 'tresor_crash_') : undefined;
  const env = { ...dirs.env, ...(db ? { DATABASE_URL: db.url } : {}) };
  const all = new Map<string, Person>();
  let lost = 0;
  let failedOpens = 0;
  let server: TresorProcess | undefined;
  let tenant: Tenant | undefined;
  let previous = new Map<string, Person>();
  try {
    for (let kill = 0; kill <= KILLS; kill++) {
      try {
        server = await startTresor({ env, expectToken: kill === 0 });
      } catch (err) {
        failedOpens++;
        note(`restart after kill ${kill}: the store did not open: ${String(err).slice(0, 500)}`);
        break;
      }
      tenant = tenant ? { ...tenant, url: server.url } : await seedTenant(server.url, server.token!, 'Crash Safety AG');
      const { missing, different } = await verifyAll(tenant, previous);
      lost += missing.length + different.length;
      if (kill === KILLS) break; // the last start only checks

      const loop = writeLoop(tenant, runTag());
      const killAfterMs = 300 + Math.random() * 1200;
      const startedAt = Date.now();
      while (Date.now() - startedAt < killAfterMs || loop.acked.size === 0) {
        if (loop.failure()) throw loop.failure();
        if (Date.now() - startedAt > 30_000) throw new Error('no write acknowledged in 30 s');
        await sleep(20);
      }
      const stopping = loop.stop();
      await server.kill9();
      await stopping;
      server = undefined;
      previous = new Map(loop.acked);
      for (const [id, data] of previous) all.set(id, data);
    }
    // Every write acknowledged over all rounds, read back once more at the end:
    // a later crash must not have taken an earlier write with it.
    if (server && tenant) {
      const { missing, different } = await verifyAll(tenant, all);
      lost += missing.length + different.length;
    }
    note(`${KILLS} × kill -9 during writes: ${all.size} writes acknowledged, ${lost} lost or changed, ${failedOpens} restarts where the store failed to open`);
    assert.deepEqual({ lost, failedOpens }, { lost: 0, failedOpens: 0 });
  } finally {
    await server?.stop();
    await db?.drop();
    dirs.remove();
  }
}

describe(`crash safety: ${KILLS} × kill -9 during writes`, () => {
  it('PostgreSQL', { skip: pgUrl ? false : 'TEST_DATABASE_URL is unset', timeout: 15 * 60_000 }, (t) =>
    killRepeatedly(true, (m) => t.diagnostic(m)));

  it('PGlite (embedded store on disk)', { timeout: 15 * 60_000 }, (t) =>
    killRepeatedly(false, (m) => t.diagnostic(m)));
});
