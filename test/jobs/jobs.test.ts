// The jobs seam: one leader runs background work. The embedded store always
// leads; on PostgreSQL a session advisory lock decides, and when the leader's
// connection is lost another node takes over at its next run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { createJobs, LEADER_LOCK_KEY, type JobLog } from '../../src/jobs/jobs.ts';
import { openPostgres } from '../../src/db/postgres-driver.ts';
import { backends, openTestStore } from '../helpers/backends.ts';

function recordingLog() {
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const add = (obj: object, msg: string) => void lines.push({ obj: obj as Record<string, unknown>, msg });
  const log: JobLog = { info: add, warn: add, error: add };
  return { log, lines };
}

describe('jobs [pglite]', () => {
  it('always leads on the embedded store, runs kicked work once per kick, and stops cleanly', async () => {
    const store = await openTestStore('pglite');
    try {
      const { log, lines } = recordingLog();
      const jobs = createJobs({ db: store.db, log, retries: 2, retryBaseMs: 1 });
      let runs = 0;
      let failures = 0;
      jobs.add({ name: 'count', everyMs: 60_000, run: async (ctx) => { runs++; ctx.log.info({}, 'counted'); } });
      jobs.add({ name: 'flaky', everyMs: 60_000, run: async () => {
        if (failures++ < 2) throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      } });
      await Promise.all([jobs.kick('count'), jobs.kick('count')]);
      assert.ok(runs >= 1 && runs <= 2, 'a kick during a run adds at most one more run');
      await jobs.kick('flaky');
      assert.equal(failures, 3, 'two transient failures were retried, the third attempt succeeded');
      assert.deepEqual(lines.find((l) => l.msg === 'counted')?.obj.actor, { type: 'system', id: 'count', name: 'count', role: 'system', tenantId: null });
      await jobs.stop();
      await jobs.kick('count');
      assert.ok(runs <= 2, 'nothing runs after stop');
    } finally {
      await store.close();
    }
  });
});

if (backends.includes('postgres')) {
  describe('jobs [postgres]', () => {
    it('runs on one node only; when the leader loses its connection, another node takes over', async () => {
      const store = await openTestStore('postgres');
      const { config } = store;
      const second = openPostgres({ url: store.databaseUrl!, poolMax: 2, connectTimeoutMs: config.dbConnectTimeoutMs, statementTimeoutMs: config.dbStatementTimeoutMs });
      const admin = postgres(store.databaseUrl!, { max: 1, onnotice: () => {} });
      try {
        const ran: string[] = [];
        const node = (name: string, db: typeof second) => {
          const jobs = createJobs({ db, log: recordingLog().log, retries: 0, retryBaseMs: 1 });
          jobs.add({ name: 'work', everyMs: 60_000, run: async () => void ran.push(name) });
          return jobs;
        };
        const a = node('a', store.db);
        const b = node('b', second);
        await a.kick('work');
        await b.kick('work');
        await a.kick('work');
        assert.deepEqual(ran, ['a', 'a']);

        // The leader's session ends (a network cut, a restarted pooler): its lock goes with it.
        // pg_locks spans the cluster: only this store's database, not another test file's leader.
        const holders = `select pid from pg_locks where locktype = 'advisory' and objid = ${LEADER_LOCK_KEY}
          and database = (select oid from pg_database where datname = current_database())`;
        await admin.unsafe(`select pg_terminate_backend(pid) from (${holders}) h`);
        const until = Date.now() + 20_000;
        while ((await admin.unsafe(holders)).length && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        assert.equal((await admin.unsafe(holders)).length, 0, 'the old leader session is gone');
        await b.kick('work');
        assert.deepEqual(ran, ['a', 'a', 'b']);
        await a.kick('work');
        assert.deepEqual(ran, ['a', 'a', 'b'], 'the old leader does not run once it lost the lock');
        await Promise.all([a.stop(), b.stop()]);
      } finally {
        await admin.end();
        await second.close();
        await store.close();
      }
    });
  });
}
