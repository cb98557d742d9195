// Defect 5: a record that does not decrypt no longer stops a rotation for
// good. It is set aside and reported (id and collection only) in the key
// status while every other record moves on; an admin discards it and the old
// version retires. Transient database failures are retried with backoff.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { backends } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

const person = (i: number) => ({ email: `r${i}@recovery.example`, name: `Secret Name ${i}`, phone: '+4930901820' });

for (const backend of backends) {
  describe(`rotation with an unreadable record [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend, { env: { TRESOR_KEY_CACHE_TTL_MS: '100', TRESOR_ROTATION_BATCH: '7' } }); });
    after(async () => t.close());

    it('reports the record, moves all others, and retires the old version once an admin discards it', async () => {
      const a = await seedTenant(t, 'Recovery');
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await t.call('POST', a.base, { token: a.key, body: { data: person(i) } })).json().id);
      const [broken, donor] = [ids[7], ids[8]];
      // Another record's ciphertext: authentic bytes, bound to the wrong record, so it never decrypts here.
      await t.store.db.withTenant(a.tenantId, (tx) =>
        tx.query('update records r set enc = o.enc, sealed = o.sealed from records o where r.id = $1 and o.id = $2', [broken, donor]));

      const rotated = await t.call('POST', `/v1/tenants/${a.tenantId}/keys/rotate`, { token: a.adminKey });
      assert.equal(rotated.statusCode, 202, rotated.body);
      await t.services.rotation.idle();

      const keys = `/v1/tenants/${a.tenantId}/keys`;
      const status = (await t.call('GET', keys, { token: a.adminKey })).json();
      assert.deepEqual(status.unreadable, [{ id: broken, collection: 'customers' }]);
      assert.equal(status.rotating, true);
      assert.deepEqual(status.versions.map((v: { version: number; status: string; records: number }) => [v.version, v.status, v.records]),
        [[1, 'retiring', 1], [2, 'active', 19]]);
      assert.doesNotMatch(JSON.stringify(status), /Secret Name|recovery\.example/);
      for (const id of ids.filter((id) => id !== broken)) assert.equal((await t.call('GET', `${a.base}/${id}`, { token: a.key })).statusCode, 200);

      const viewer = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'v', role: 'viewer' } })).json().key;
      assert.equal((await t.call('POST', `${keys}/unreadable/${broken}/discard`, { token: viewer })).statusCode, 403);
      const notSetAside = await t.call('POST', `${keys}/unreadable/${donor}/discard`, { token: a.adminKey });
      assert.equal(notSetAside.statusCode, 404, notSetAside.body);
      assert.equal(notSetAside.json().code, 'keys.unreadable_not_found');
      assert.equal((await t.call('GET', `${a.base}/${donor}`, { token: a.key })).statusCode, 200, 'a readable record is never discarded');

      const discarded = await t.call('POST', `${keys}/unreadable/${broken}/discard`, { token: a.adminKey });
      assert.equal(discarded.statusCode, 200, discarded.body);
      await t.services.rotation.idle();
      const after = (await t.call('GET', keys, { token: a.adminKey })).json();
      assert.deepEqual(after.unreadable, []);
      assert.equal(after.rotating, false);
      assert.deepEqual(after.versions.map((v: { version: number; status: string; records: number }) => [v.version, v.status, v.records]),
        [[1, 'retired', 0], [2, 'active', 19]]);
      assert.equal((await t.call('GET', `${a.base}/${broken}`, { token: a.key })).statusCode, 404);
      const again = await t.call('POST', `/v1/tenants/${a.tenantId}/keys/rotate`, { token: a.adminKey });
      assert.equal(again.statusCode, 202, again.body);
      await t.services.rotation.idle();
    });
  });
}

// PGlite has one connection and no statement timeout, so a transient failure
// can only be provoked on PostgreSQL: a lock held by another session makes the
// job's statements time out (57014) until it is released.
if (backends.includes('postgres')) {
  describe('rotation retries transient failures [postgres]', () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp('postgres', { env: { TRESOR_KEY_CACHE_TTL_MS: '100', TRESOR_DB_STATEMENT_TIMEOUT_MS: '300',
        TRESOR_JOB_RETRIES: '50', TRESOR_JOB_RETRY_BASE_MS: '20' } });
    });
    after(async () => t.close());

    it('retries with backoff while the records table is locked, then finishes', async () => {
      const a = await seedTenant(t, 'Transient');
      for (let i = 0; i < 5; i++) assert.equal((await t.call('POST', a.base, { token: a.key, body: { data: person(i) } })).statusCode, 201);
      const other = postgres(t.store.databaseUrl!, { max: 1, onnotice: () => {} });
      const retries = async () => Number(/tresor_job_runs_total\{job="rotation",outcome="retry"\} (\d+)/.exec((await t.call('GET', '/metrics')).body)?.[1] ?? 0);
      try {
        const conn = await other.reserve();
        // EXCLUSIVE lets plain reads through but blocks SELECT … FOR UPDATE, which the job's batches take.
        await conn.unsafe('begin; lock table records in exclusive mode');
        const rotated = await t.call('POST', `/v1/tenants/${a.tenantId}/keys/rotate`, { token: a.adminKey });
        assert.equal(rotated.statusCode, 202, rotated.body);
        // Bounded, so a job that never retries fails here instead of hanging the suite.
        const until = Date.now() + 30_000;
        while ((await retries()) < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
        assert.ok((await retries()) >= 2, 'the job retried while the table was locked');
        await conn.unsafe('commit');
        conn.release();
      } finally {
        await other.end();
      }
      await t.services.rotation.idle();
      const status = (await t.call('GET', `/v1/tenants/${a.tenantId}/keys`, { token: a.adminKey })).json();
      assert.deepEqual(status.versions.map((v: { version: number; status: string; records: number }) => [v.version, v.status, v.records]),
        [[1, 'retired', 0], [2, 'active', 5]]);
      const metrics = (await t.call('GET', '/metrics')).body;
      assert.match(metrics, /^tresor_job_leader 1$/m);
      assert.match(metrics, /^tresor_job_runs_total\{job="rotation",outcome="ok"\} [1-9]/m);
      assert.match(metrics, /^tresor_job_last_success_timestamp_seconds\{job="rotation"\} \d/m);
    });
  });
}
