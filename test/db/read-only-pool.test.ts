// A pool whose connections landed on a node that refuses writes (a standby
// after a failover, a demoted primary) must not keep failing: the write answers
// a retryable 503, the pool is replaced, and the next write finds a writable
// connection. Reproduced on one server with default_transaction_read_only,
// which every session opened meanwhile keeps until it ends.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { assertProblem } from '../helpers/problem.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

const skip = !process.env.TEST_DATABASE_URL && 'TEST_DATABASE_URL not set';

describe('connections that refuse writes (25006)', { skip, timeout: 60_000 }, () => {
  let t: TestApp;
  let admin: postgres.Sql;
  let seed: Awaited<ReturnType<typeof seedTenant>>;
  let dbName: string;
  let n = 0;
  const create = () => t.call('POST', seed.base, { token: seed.key, body: { data: { email: `ro${n++}@pool.example`, name: 'Read Only' } } });

  before(async () => {
    t = await startTestApp('postgres');
    admin = postgres(t.store.databaseUrl!, { max: 1, onnotice: () => {}, connection: { application_name: 'tresor-test-admin' } });
    seed = await seedTenant(t, 'Read Only GmbH');
    [{ d: dbName }] = await admin`select current_database() as d`;
  });
  after(async () => {
    await admin.unsafe(`alter database "${dbName}" reset default_transaction_read_only`);
    await admin.end();
    await t.close();
  });

  it('answers 503 while the sessions are read-only, /readyz says not ready, and the next write after that works', async () => {
    await admin.unsafe(`alter database "${dbName}" set default_transaction_read_only = on`);
    // The app's open sessions predate the setting: end them, so the pool
    // reconnects into read-only sessions, as it would onto a standby.
    await admin`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and application_name = 'tresor' and pid <> pg_backend_pid()`;
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    assertProblem(ready, 503, 'service.unavailable');

    let refused = 0;
    for (let i = 0; i < 10; i++) {
      const res = await create();
      if (res.statusCode === 201) assert.fail(`a write succeeded in a read-only session: ${res.body}`);
      assertProblem(res, 503, 'service.unavailable');
      assert.ok(Number(res.headers['retry-after']) > 0);
      refused++;
    }
    assert.equal(refused, 10);

    await admin.unsafe(`alter database "${dbName}" reset default_transaction_read_only`);
    // Sessions that are still read-only would fail this write; the pool that
    // met 25006 has been replaced, so it opens a fresh, writable session.
    const res = await create();
    assert.equal(res.statusCode, 201, res.body);
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });
});
