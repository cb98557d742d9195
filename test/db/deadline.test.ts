import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isDbUnavailable } from '../../src/db/db.ts';
import { openTestStore, type TestStore } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

// Bounded waits on PostgreSQL: a statement over statement_timeout and a
// transaction over the client-side deadline both end as retryable errors.
describe('bounded database waits [postgres]', { skip: !process.env.TEST_DATABASE_URL }, () => {
  const env = { TRESOR_DB_CONNECT_TIMEOUT_MS: '200', TRESOR_DB_STATEMENT_TIMEOUT_MS: '300' };
  let store: TestStore;
  let t: TestApp;
  before(async () => {
    store = await openTestStore('postgres', { env });
    t = await startTestApp('postgres', { env });
  });
  after(async () => { await store.close(); await t.close(); });

  it('a transaction still open after connect + 2 × statement timeout is abandoned with a retryable error', async () => {
    const { tenantId } = await seedTenant(t);
    const started = Date.now();
    await assert.rejects(
      store.db.withTenant(tenantId, async () => new Promise(() => {})),
      (err: Error & { code?: string }) => err.code === 'TRANSACTION_TIMEOUT' && isDbUnavailable(err),
    );
    assert.ok(Date.now() - started >= 800);
  });

  it('a statement over statement_timeout is cancelled by the server and counts as unavailable, not as a 500', async () => {
    const { tenantId } = await seedTenant(t, 'Slow');
    await assert.rejects(
      store.db.withTenant(tenantId, (tx) => tx.query('select pg_sleep(2)')),
      (err: Error & { code?: string }) => err.code === '57014' && isDbUnavailable(err),
    );
    const [{ ok }] = await store.db.withTenant(tenantId, (tx) => tx.query<{ ok: number }>('select 1 as ok'));
    assert.equal(ok, 1, 'the pool is usable afterwards');
  });
});
