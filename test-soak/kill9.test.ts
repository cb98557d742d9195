import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { person, runTag } from '../bench/people.ts';
import { type Tenant, keyStatus, seedTenant } from '../bench/tresor-client.ts';
import { type TresorProcess, createDatabase, startTresor, tresorDirs } from '../bench/tresor-process.ts';
import { verifyAll, writeLoop } from './write-loop.ts';

// Durability: a 201 means the record is stored. Kill the server with SIGKILL
// (no shutdown hook, no checkpoint, no flush) in the middle of a write loop,
// start it again on the same store and key file, and every acknowledged record
// must be there with exactly the data that was sent.

const pgUrl = process.env.TEST_DATABASE_URL;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function killDuringWrites(opts: { database: boolean; workers: number }, note: (msg: string) => void) {
  const dirs = tresorDirs('tresor-soak-');
  const db = opts.database ? await createDatabase(pgUrl!, 'tresor_soak_') : undefined;
  const env = { ...dirs.env, TRESOR_WORKERS: String(opts.workers), ...(db ? { DATABASE_URL: db.url } : {}) };
  // With workers the server is a process group: spawned detached, killed as a group.
  const detached = opts.workers > 1;
  let server: TresorProcess | undefined;
  try {
    server = await startTresor({ env, detached, expectToken: true });
    const token = server.token!;
    const tenant = await seedTenant(server.url, token, 'Kill Nine AG');

    const loop = writeLoop(tenant, runTag());
    const killAfterMs = 1500 + Math.random() * 1500;
    const startedAt = Date.now();
    while (Date.now() - startedAt < killAfterMs || loop.acked.size < 20) {
      if (loop.failure()) throw loop.failure();
      if (Date.now() - startedAt > 30_000) throw new Error(`only ${loop.acked.size} writes acknowledged in 30 s`);
      await sleep(25);
    }
    const stopping = loop.stop();
    await server.kill9();
    await stopping;
    const acked = new Map(loop.acked);
    assert.ok(acked.size >= 20, 'writes were acknowledged before the kill');

    // Same store, same key file; for PGlite the dead process's lock is taken over.
    server = await startTresor({ env, detached });
    const t: Tenant = { ...tenant, url: server.url };
    const { missing, different } = await verifyAll(t, acked);
    const stored = (await keyStatus(t)).versions.reduce((n, v) => n + v.records, 0);
    assert.deepEqual({ missing: missing.length, different: different.length }, { missing: 0, different: 0 },
      `after kill -9: ${missing.length} of ${acked.size} acknowledged records missing, ${different.length} differ ` +
        `(stored ${stored}, attempted ${loop.attempted()}); first missing: ${missing.slice(0, 5).join(', ')}`);
    note(`killed after ${Math.round(killAfterMs)} ms: ${acked.size} acknowledged, ${stored} stored, ${loop.attempted()} attempted; none lost`);
    assert.ok(stored >= acked.size && stored <= loop.attempted(),
      `stored count ${stored} lies between acknowledged ${acked.size} and attempted ${loop.attempted()}`);

    // The restarted server still takes writes.
    const res = await fetch(`${t.url}${t.records}`, {
      method: 'POST', headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ data: person(0, runTag()) }),
    });
    assert.equal(res.status, 201);
  } finally {
    await server?.stop();
    await db?.drop();
    dirs.remove();
  }
}

describe('kill -9 during writes loses no acknowledged record', () => {
  const noPg = pgUrl ? false : 'TEST_DATABASE_URL is unset';

  it('PostgreSQL, one server process', { skip: noPg, timeout: 90_000 }, (t) =>
    killDuringWrites({ database: true, workers: 1 }, (m) => t.diagnostic(m)));

  it('PostgreSQL, two workers, the whole process group killed', { skip: noPg, timeout: 90_000 }, (t) =>
    killDuringWrites({ database: true, workers: 2 }, (m) => t.diagnostic(m)));

  it('PGlite on disk, the stale lock taken over on restart', { timeout: 90_000 }, (t) =>
    killDuringWrites({ database: false, workers: 1 }, (m) => t.diagnostic(m)));
});
