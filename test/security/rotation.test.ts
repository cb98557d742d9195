// Key rotation (M1.2, M1.3): a new data key version is active at once, every
// record is re-encrypted in the background while the tenant keeps working,
// and the old version retires only when no record uses it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

const SEEDED = 300;
const LIVE = 50;
type Data = Record<string, unknown>;

const person = (prefix: string, i: number): Data => ({
  email: `${prefix}-${i}@rotation.example`, name: `${prefix} Person ${i}`, phone: '+4930901820',
  birthdate: `19${String(10 + (i % 90)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`, address: { street: `Ringstrasse ${i}` }, tier: `t${i % 3}`,
});

for (const backend of backends) {
  describe(`key rotation [${backend}]`, () => {
    let t: TestApp;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let b: Awaited<ReturnType<typeof seedTenant>>;
    let viewerKey: string;
    /** What every record must read back as, by id. */
    const expected = new Map<string, Data>();

    const rotate = (token: string, tenantId = a.tenantId) => t.call('POST', `/v1/tenants/${tenantId}/keys/rotate`, { token });
    const keyStatus = async () => {
      const res = await t.call('GET', `/v1/tenants/${a.tenantId}/keys`, { token: a.adminKey });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { activeVersion: number; rotating: boolean; versions: Array<{ version: number; status: string; records: number }> };
    };
    async function listAll() {
      const out = new Map<string, Data>();
      let cursor: string | null = null;
      do {
        const res = await t.call('GET', `${a.base}?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: a.key });
        assert.equal(res.statusCode, 200, res.body);
        const page = res.json();
        for (const r of page.items) out.set(r.id, r.data);
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    }

    before(async () => {
      t = await startTestApp(backend, { env: { TRESOR_KEY_CACHE_TTL_MS: '200', TRESOR_ROTATION_BATCH: '50' } });
      a = await seedTenant(t, 'Rotation A');
      b = await seedTenant(t, 'Rotation B');
      viewerKey = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'viewer', role: 'viewer' } })).json().key;
      const lines = Array.from({ length: SEEDED }, (_, i) => JSON.stringify({ data: person('seed', i) })).join('\n');
      const imp = await t.call('POST', `${a.base}/import`, { token: a.key, body: lines, headers: { 'content-type': 'application/x-ndjson' } });
      assert.deepEqual(imp.json(), { imported: SEEDED, rejected: [], rejectedCount: 0 });
      for (const [id, data] of await listAll()) expected.set(id, data);
      assert.equal(expected.size, SEEDED);
    });
    after(async () => t.close());

    it('re-encrypts every record while the tenant keeps creating, reading and changing records', async () => {
      const started = await rotate(a.adminKey);
      assert.equal(started.statusCode, 202, started.body);
      const body = started.json();
      assert.equal(body.activeVersion, 2);
      assert.equal(body.rotating, true);
      assert.deepEqual(body.versions.map((v: { version: number; status: string }) => [v.version, v.status]), [[1, 'retiring'], [2, 'active']]);
      assert.equal((await keyStatus()).rotating, true, 'the background part must still be running for this test to mean anything');

      const seededIds = [...expected.keys()];
      for (let i = 0; i < LIVE; i++) {
        const data = person('live', i);
        const created = await t.call('POST', a.base, { token: a.key, body: { data } });
        assert.equal(created.statusCode, 201, created.body);
        expected.set(created.json().id, created.json().data);
        const back = await t.call('GET', `${a.base}/${created.json().id}`, { token: a.key });
        assert.equal(back.statusCode, 200, back.body);
        assert.deepEqual(back.json().data, created.json().data);
        const oldId = seededIds[i * 5]!;
        const old = await t.call('GET', `${a.base}/${oldId}`, { token: a.key });
        assert.equal(old.statusCode, 200, old.body);
        assert.deepEqual(old.json().data, expected.get(oldId));
        if (i % 10 === 0) {
          const patched = await t.call('PATCH', `${a.base}/${oldId}`, { token: a.key, body: { data: { name: `Renamed ${i}` } } });
          assert.equal(patched.statusCode, 200, patched.body);
          expected.set(oldId, { ...expected.get(oldId), name: `Renamed ${i}` });
        }
      }
      await t.services.rotation.idle();

      const status = await keyStatus();
      assert.equal(status.rotating, false);
      assert.deepEqual(status.versions.map((v) => ({ version: v.version, status: v.status, records: v.records })),
        [{ version: 1, status: 'retired', records: 0 }, { version: 2, status: 'active', records: SEEDED + LIVE }]);
      const [stale] = await t.store.db.withTenant(a.tenantId, (tx) =>
        tx.query<{ n: number; all: number }>('select count(*) filter (where key_version <> 2)::int as n, count(*)::int as "all" from records'));
      assert.deepEqual({ ...stale }, { n: 0, all: SEEDED + LIVE });
      const all = await listAll();
      assert.equal(all.size, SEEDED + LIVE);
      for (const [id, data] of expected) assert.deepEqual(all.get(id), data, `record ${id} changed across the rotation`);
    });

    it('refuses a second rotation while one runs (409 keys.rotation_in_progress), also when both arrive at once', async () => {
      const both = await Promise.all([rotate(a.adminKey), rotate(a.adminKey)]);
      assert.deepEqual(both.map((r) => r.statusCode).sort(), [202, 409], both.map((r) => r.body).join('\n'));
      const refused = both.find((r) => r.statusCode === 409)!;
      assert.equal(refused.json().code, 'keys.rotation_in_progress');
      assert.equal(both.find((r) => r.statusCode === 202)!.json().activeVersion, 3);
      const again = await rotate(t.operatorKey);
      assert.equal(again.statusCode, 409, again.body);
      assert.equal(again.json().code, 'keys.rotation_in_progress');
      await t.services.rotation.idle();
      const status = await keyStatus();
      assert.equal(status.activeVersion, 3);
      assert.deepEqual(status.versions.map((v) => [v.version, v.status, v.records]),
        [[1, 'retired', 0], [2, 'retired', 0], [3, 'active', SEEDED + LIVE]]);
      const sample = [...expected.keys()].slice(0, 20);
      for (const id of sample) assert.deepEqual((await t.call('GET', `${a.base}/${id}`, { token: a.key })).json().data, expected.get(id));
    });

    it('lets an operator rotate, not a viewer (403) nor another tenant (404)', async () => {
      const viewer = await rotate(viewerKey);
      assert.equal(viewer.statusCode, 403, viewer.body);
      assert.equal(viewer.json().code, 'auth.forbidden');
      const viewerStatus = await t.call('GET', `/v1/tenants/${a.tenantId}/keys`, { token: viewerKey });
      assert.equal(viewerStatus.statusCode, 403);
      const foreign = await rotate(b.adminKey);
      assert.equal(foreign.statusCode, 404, foreign.body);
      assert.equal(foreign.json().code, 'tenant.not_found');
      const foreignStatus = await t.call('GET', `/v1/tenants/${a.tenantId}/keys`, { token: b.adminKey });
      assert.equal(foreignStatus.statusCode, 404);
      assert.equal((await keyStatus()).activeVersion, 3, 'refused requests changed nothing');

      const operator = await rotate(t.operatorKey);
      assert.equal(operator.statusCode, 202, operator.body);
      assert.equal(operator.json().activeVersion, 4);
      await t.services.rotation.idle();
      assert.equal((await keyStatus()).versions.find((v) => v.version === 4)?.records, SEEDED + LIVE);
      // B's keys were never touched by A's rotations.
      const bStatus = (await t.call('GET', `/v1/tenants/${b.tenantId}/keys`, { token: b.adminKey })).json();
      assert.deepEqual(bStatus.versions.map((v: { version: number; status: string }) => [v.version, v.status]), [[1, 'active']]);
    });

    it('answers 404 to an operator asking for or rotating the keys of a tenant that does not exist', async () => {
      const ghost = '01a21600-0000-7000-8000-000000000000';
      for (const [method, path] of [['GET', 'keys'], ['POST', 'keys/rotate']] as const) {
        const res = await t.call(method, `/v1/tenants/${ghost}/${path}`);
        assert.equal(res.statusCode, 404);
        assert.equal(res.json().code, 'tenant.not_found');
      }
    });
  });
}
