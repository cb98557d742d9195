// Defect 4: two processes (two service sets over one store, each with its own
// key-ring cache). One rotates; the other, still holding the ring it cached
// before, must read every record at once instead of answering 500 until its
// cache entry expires.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../src/app.ts';
import { createServices } from '../../src/services.ts';
import { openPostgres } from '../../src/db/postgres-driver.ts';
import type { Db } from '../../src/db/db.ts';
import type { App } from '../../src/http/app-types.ts';
import { backends, openRootKey } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

for (const backend of backends) {
  describe(`a key ring cached before a rotation elsewhere [${backend}]`, () => {
    let t: TestApp;
    let other: App;
    let otherDb: Db;
    before(async () => {
      // A long TTL: without the reload, the other process would fail for 3 s.
      t = await startTestApp(backend, { env: { TRESOR_KEY_CACHE_TTL_MS: '3000' } });
      const { config, databaseUrl } = t.store;
      otherDb = databaseUrl
        ? openPostgres({ url: databaseUrl, poolMax: 4, connectTimeoutMs: config.dbConnectTimeoutMs, statementTimeoutMs: config.dbStatementTimeoutMs })
        : t.store.db;
      other = await buildApp(config, createServices(config, { db: otherDb, keyProvider: await openRootKey(config, otherDb) }));
    });
    after(async () => {
      await t.services.rotation.idle();
      await other.close();
      if (otherDb !== t.store.db) await otherDb.close();
      await t.close();
    });

    it('reloads the ring once when a record is on a version it lacks: every read answers 200', async () => {
      const a = await seedTenant(t, 'Two processes');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await t.call('POST', a.base, { token: a.key, body: { data: { email: `p${i}@two.example`, name: `P ${i}` } } })).json().id);
      }
      const viaOther = (url: string, method = 'GET', body?: unknown) => other.inject({
        method: method as 'GET', url, headers: { authorization: `Bearer ${a.key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        payload: body ? JSON.stringify(body) : undefined,
      });
      assert.equal((await viaOther(`${a.base}/${ids[0]}`)).statusCode, 200); // the other process caches ring v1

      const rotated = await t.call('POST', `/v1/tenants/${a.tenantId}/keys/rotate`, { token: a.adminKey });
      assert.equal(rotated.statusCode, 202, rotated.body);
      // Written by the rotating process after the rotation: on version 2 for certain.
      ids.push((await t.call('POST', a.base, { token: a.key, body: { data: { email: 'new@two.example', name: 'New' } } })).json().id);
      // Wait until every record is on version 2 (not for the retirement, which waits out the cache TTL).
      // Bounded, so a stuck rotation fails here instead of hanging the suite.
      const until = Date.now() + 30_000;
      for (let left = 1; left > 0;) {
        assert.ok(Date.now() < until, `rotation still has ${left} record(s) on version 1 after 30 s`);
        const status = (await t.call('GET', `/v1/tenants/${a.tenantId}/keys`, { token: a.adminKey })).json();
        left = status.versions.find((v: { version: number }) => v.version === 1).records;
        if (left) await new Promise((r) => setTimeout(r, 20));
      }

      for (const id of ids) {
        const res = await viaOther(`${a.base}/${id}`);
        assert.equal(res.statusCode, 200, res.body);
      }
      const list = await viaOther(`${a.base}?limit=50`);
      assert.equal(list.statusCode, 200, list.body);
      assert.equal(list.json().items.length, ids.length);
      const search = await viaOther(`${a.base}/search`, 'POST', { where: { email: 'new@two.example' } });
      assert.equal(search.statusCode, 200, search.body);
      assert.equal(search.json().items.length, 1);
      const patched = await viaOther(`${a.base}/${ids[1]}`, 'PATCH', { data: { name: 'Renamed' } });
      assert.equal(patched.statusCode, 200, patched.body);
    });

    it('refuses a tenant id that is not canonical as a key-ring or collection cache key (defect 1)', async () => {
      const a = await seedTenant(t, 'Cache keys');
      for (const bad of [a.tenantId.toUpperCase(), `urn:uuid:${a.tenantId}`]) {
        await t.store.db.withTenant(a.tenantId, async (tx) => {
          await assert.rejects(t.services.keys.ringFor(tx, bad), /tenant id must be a canonical/);
          await assert.rejects(t.services.keys.freshRing(tx, bad), /tenant id must be a canonical/);
          await assert.rejects(t.services.collections.find(tx, bad, 'customers'), /tenant id must be a canonical/);
        });
      }
    });
  });
}
