// Defect 5: rotation is background work of whichever node leads, not of the
// node (or "worker 1") that was asked. Two nodes share one PostgreSQL store;
// the other node leads, and a rotation asked on this one is carried out there.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../src/app.ts';
import { createServices, type Services } from '../../src/services.ts';
import { openPostgres } from '../../src/db/postgres-driver.ts';
import type { Db } from '../../src/db/db.ts';
import type { App } from '../../src/http/app-types.ts';
import { backends, openRootKey } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

const metric = async (app: App, pattern: RegExp) =>
  Number(pattern.exec((await app.inject({ method: 'GET', url: '/metrics' })).body)?.[1] ?? 0);

/** Polls `done` every 50 ms for at most `ms`; the caller asserts afterwards. */
async function pollUntil(done: () => Promise<boolean>, ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until && !(await done())) await new Promise((r) => setTimeout(r, 50));
}

if (backends.includes('postgres')) {
  describe('rotation runs on whichever node leads [postgres]', () => {
    const env = { TRESOR_KEY_CACHE_TTL_MS: '100', TRESOR_ROTATION_POLL_MS: '100', TRESOR_ROTATION_RETIRE_MARGIN_MS: '0' };
    let t: TestApp;
    let leaderDb: Db;
    let leader: App;
    let leaderServices: Services;
    before(async () => {
      t = await startTestApp('postgres', { env });
      const { config, databaseUrl } = t.store;
      leaderDb = openPostgres({ url: databaseUrl!, poolMax: 4, connectTimeoutMs: config.dbConnectTimeoutMs, statementTimeoutMs: config.dbStatementTimeoutMs });
      leaderServices = createServices(config, { db: leaderDb, keyProvider: await openRootKey(config, leaderDb) });
      leader = await buildApp(config, leaderServices);
      leaderServices.jobs.start(); // as a server node does; it is the first to ask, so it leads
      await pollUntil(async () => (await metric(leader, /^tresor_job_leader (\d+)/m)) === 1, 20_000);
      assert.equal(await metric(leader, /^tresor_job_leader (\d+)/m), 1, 'the other node leads');
    });
    after(async () => {
      await leader.close();
      await leaderDb.close();
      await t.close();
    });

    it('a rotation asked on a node that does not lead is carried out by the leader', async () => {
      const a = await seedTenant(t, 'Any node');
      for (let i = 0; i < 5; i++) {
        assert.equal((await t.call('POST', a.base, { token: a.key, body: { data: { email: `n${i}@any-node.example`, name: `N ${i}` } } })).statusCode, 201);
      }
      const rotated = await t.call('POST', `/v1/tenants/${a.tenantId}/keys/rotate`, { token: a.adminKey });
      assert.equal(rotated.statusCode, 202, rotated.body);
      await t.services.rotation.idle();
      assert.equal(await metric(t.app, /^tresor_job_leader (\d+)/m), 0, 'this node does not lead');
      assert.ok(await metric(t.app, /^tresor_job_runs_total\{job="rotation",outcome="not_leader"\} (\d+)/m) >= 1);

      const keys = async () => (await t.call('GET', `/v1/tenants/${a.tenantId}/keys`, { token: a.adminKey })).json();
      await pollUntil(async () => (await keys()).rotating === false, 30_000);
      const status = await keys();
      assert.deepEqual(status.versions.map((v: { version: number; status: string; records: number }) => [v.version, v.status, v.records]),
        [[1, 'retired', 0], [2, 'active', 5]], JSON.stringify(status));
      for (const item of (await t.call('GET', `${a.base}?limit=10`, { token: a.key })).json().items) assert.ok(item.data.email.endsWith('@any-node.example'));
    });
  });
}
