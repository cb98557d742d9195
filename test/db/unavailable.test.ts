// When PostgreSQL cannot be reached the API must say so honestly and quickly:
// 503 service.unavailable with Retry-After, never a 500 or a hanging request;
// and once the database is back the pool must reconnect by itself.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import postgres from 'postgres';
import { buildApp } from '../../src/app.ts';
import { newApiKey } from '../../src/crypto/api-key-secret.ts';
import { openFileKeyProvider } from '../../src/crypto/key-provider.ts';
import { openPostgres } from '../../src/db/postgres-driver.ts';
import { createServices } from '../../src/services.ts';
import type { App } from '../../src/http/app-types.ts';
import { testConfig } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

const skip = !process.env.TEST_DATABASE_URL && 'TEST_DATABASE_URL not set';

/** An app on a database URL that does not answer; migrations cannot run, so it is wired by hand. */
async function appOn(databaseUrl: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tresor-unavail-'));
  const config = testConfig(dir, { DATABASE_URL: databaseUrl, TRESOR_DB_CONNECT_TIMEOUT_MS: '500', TRESOR_DB_STATEMENT_TIMEOUT_MS: '1000', TRESOR_RETRY_AFTER_S: '7' });
  const db = openPostgres({ url: databaseUrl, poolMax: 2, connectTimeoutMs: config.dbConnectTimeoutMs, statementTimeoutMs: config.dbStatementTimeoutMs });
  const keyProvider = openFileKeyProvider({ path: join(dir, 'keys', 'root.key'), allowCreate: true });
  const app = await buildApp(config, createServices(config, { db, keyProvider }));
  return { app, close: async () => { await app.close(); await db.close(); rmSync(dir, { recursive: true, force: true }); } };
}

function assertUnavailable(res: LightMyRequestResponse) {
  assert.equal(res.statusCode, 503, res.body);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  assert.equal(res.json().code, 'service.unavailable');
  assert.ok(Number(res.headers['retry-after']) > 0, 'Retry-After tells clients when to come back');
}

/** Polls `done` every 50 ms until it holds or `ms` have passed; the caller asserts afterwards. */
async function pollUntil(done: () => Promise<boolean>, ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until && !(await done())) await new Promise((r) => setTimeout(r, 50));
}

const tenantUrl = '/v1/tenants/0190a5e4-1c2b-7d3e-8f40-123456789abc/collections/customers/records';

for (const [label, target] of [['refused connection', 'closed'], ['server that never answers', 'silent']] as const) {
  describe(`database unreachable: ${label}`, { skip, timeout: 60_000 }, () => {
    let app: App;
    let close: () => Promise<void>;
    let silent: Server | undefined;
    const sockets = new Set<Socket>();

    before(async () => {
      let url = 'postgres://postgres@127.0.0.1:1/tresor';
      if (target === 'silent') {
        // Accepts TCP and then says nothing: only the connect timeout ends the wait.
        silent = createServer((s) => { sockets.add(s); s.on('error', () => {}); });
        await new Promise<void>((r) => silent!.listen(0, '127.0.0.1', r));
        url = `postgres://postgres@127.0.0.1:${(silent.address() as { port: number }).port}/tresor`;
      }
      ({ app, close } = await appOn(url));
    });
    after(async () => {
      await close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => (silent ? silent.close(() => r()) : r()));
    });

    it('answers an authenticated request with 503 service.unavailable and Retry-After', async () => {
      const key = newApiKey().key;
      for (const [method, url] of [['GET', '/v1/tenants'], ['GET', tenantUrl], ['POST', `${tenantUrl}/search`]] as const) {
        const res = await app.inject({ method, url, headers: { authorization: `Bearer ${key}` },
          ...(method === 'POST' ? { payload: { where: { email: 'x@example.org' } } } : {}) });
        assertUnavailable(res);
        assert.equal(res.headers['retry-after'], '7', 'as TRESOR_RETRY_AFTER_S says');
        assert.doesNotMatch(res.body, /127\.0\.0\.1|postgres:\/\//, 'the answer does not describe the database');
      }
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /^tresor_db_unavailable_total 3$/m, 'each 503 is counted');
    });

    it('answers /readyz with 503, while /healthz (process up) stays 200', async () => {
      assertUnavailable(await app.inject({ method: 'GET', url: '/readyz' }));
      assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    });
  });
}

describe('database connections killed under a running app', { skip, timeout: 120_000 }, () => {
  let t: TestApp;
  let admin: postgres.Sql;
  let seed: Awaited<ReturnType<typeof seedTenant>>;
  let id: string;

  // A backend that has run no query yet (query = '') may be about to run
  // postgres.js's array-type fetch, whose promise nobody awaits.
  const busyBackends = async () => (await admin<{ pid: number }[]>`select pid from pg_stat_activity
    where datname = current_database() and application_name = 'tresor' and (state <> 'idle' or query = '')`).length;

  const appBackends = async () => (await admin<{ pid: number }[]>`select pid from pg_stat_activity
    where datname = current_database() and application_name = 'tresor' and pid <> pg_backend_pid()`).length;

  before(async () => {
    t = await startTestApp('postgres', { env: { TRESOR_DB_CONNECT_TIMEOUT_MS: '2000', TRESOR_DB_STATEMENT_TIMEOUT_MS: '3000' } });
    admin = postgres(t.store.databaseUrl!, { max: 1, onnotice: () => {}, connection: { application_name: 'tresor-test-admin' } });
    seed = await seedTenant(t, 'Reconnect GmbH');
    const res = await t.call('POST', seed.base, { token: seed.key, body: { data: { email: 'pool@reconnect.example', name: 'Pool Reconnect' } } });
    assert.equal(res.statusCode, 201, res.body);
    id = res.json().id;
  });
  after(async () => {
    await admin.end();
    await t.close();
  });

  // A request that meets a connection the server has just closed may fail,
  // but only as a retryable 503; it must not crash the process (an uncaught
  // exception fails this test), hang, or answer 500. The pool then reconnects.
  it('recovers after every app connection was terminated: at most retryable 503s, then 200s', async (ctx) => {
    for (let round = 0; round < 3; round++) {
      // Several requests at once so the pool holds more than one connection.
      await Promise.all(Array.from({ length: 6 }, () => t.call('GET', `${seed.base}/${id}`, { token: seed.key })));
      assert.ok(await appBackends() > 0, 'the app must hold connections for this test to mean anything');
      // Kill them while idle. A connection killed while postgres.js 3.4.9 is
      // still fetching array types on it (right after connecting) raises an
      // unhandled rejection inside the driver (fetchArrayTypes is called
      // without a handler), which fails this test; in production main.ts logs
      // it. fetch_types: false would avoid it but makes a reserve() that opens
      // a new connection never resolve (same version). A driver bug, not the
      // pool recovery this test is about.
      await pollUntil(async () => (await busyBackends()) === 0, 10_000);
      const killed = (await admin<{ pid: number }[]>`select pid from pg_stat_activity, pg_terminate_backend(pid)
        where datname = current_database() and application_name = 'tresor' and pid <> pg_backend_pid()`).map((r) => r.pid);
      assert.ok(killed.length > 0);
      // pg_terminate_backend only signals: a backend leaves pg_stat_activity
      // once it has exited, which on a loaded machine can take seconds. Work
      // queued on a killed connection (an api key touch) may open a new one
      // meanwhile, so this waits for the killed backends, not for zero.
      const stillThere = async () => (await admin`select pid from pg_stat_activity where pid = any(${killed})`).length;
      await pollUntil(async () => (await stillThere()) === 0, 20_000);
      assert.equal(await stillThere(), 0, 'every killed app backend is gone');

      let failures = 0;
      for (let i = 0; i < 30; i++) {
        const res = await t.call('GET', `${seed.base}/${id}`, { token: seed.key });
        if (res.statusCode === 200) break;
        assertUnavailable(res);
        failures++;
      }
      assert.ok(failures <= 10, `at most one failure per pooled connection, saw ${failures}`);
      ctx.diagnostic(`round ${round}: ${failures} request(s) answered 503 before the pool recovered`);
      for (let i = 0; i < 10; i++) {
        const res = await t.call('GET', `${seed.base}/${id}`, { token: seed.key });
        assert.equal(res.statusCode, 200, `round ${round}, request ${i + 1} after recovery: ${res.body}`);
        assert.equal(res.json().data.name, 'Pool Reconnect');
      }
      const created = await t.call('POST', seed.base, { token: seed.key, body: { data: { email: `after${round}@reconnect.example`, name: 'After Reconnect' } } });
      assert.equal(created.statusCode, 201, created.body);
      assert.ok(await appBackends() > 0, 'the app connected again');
    }
  });
});
