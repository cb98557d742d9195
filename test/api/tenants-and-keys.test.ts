import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { assertProblem } from '../helpers/problem.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;


for (const backend of backends) {
  describe(`tenants and API keys [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend); });
    after(async () => t.close());

    const createTenant = async (name: string) => {
      const res = await t.call('POST', '/v1/tenants', { body: { name } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; name: string; status: string; createdAt: string; closedAt: string | null; purgeAfter: string | null };
    };
    const createKey = (tenantId: string, role: string, token = t.operatorKey) =>
      t.call('POST', `/v1/tenants/${tenantId}/api-keys`, { token, body: { name: `${role} key`, role } });
    const listKeys = async (tenantId: string, token = t.operatorKey) => {
      const res = await t.call('GET', `/v1/tenants/${tenantId}/api-keys`, { token });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items as Array<Record<string, unknown>>;
    };

    it('operator creates a tenant and reads it back', async () => {
      const tenant = await createTenant('Globex');
      // The contract's four fields, plus the closure dates, which are null while the tenant is active.
      assert.deepEqual(Object.keys(tenant).sort(), ['closedAt', 'createdAt', 'id', 'name', 'purgeAfter', 'status']);
      assert.match(tenant.id, UUID);
      assert.equal(tenant.name, 'Globex');
      assert.equal(tenant.status, 'active');
      assert.equal(tenant.closedAt, null);
      assert.equal(tenant.purgeAfter, null);
      assert.ok(!Number.isNaN(Date.parse(tenant.createdAt)));
      const got = await t.call('GET', `/v1/tenants/${tenant.id}`);
      assert.equal(got.statusCode, 200);
      assert.deepEqual(got.json(), tenant);
    });

    it('an unknown tenant id answers 404 tenant.not_found', async () => {
      assertProblem(await t.call('GET', '/v1/tenants/00000000-0000-4000-8000-000000000000'), 404, 'tenant.not_found');
    });

    it('lists tenants page by page with limit and cursor, each exactly once', async () => {
      const created = [];
      for (let i = 0; i < 5; i++) created.push((await createTenant(`Paged ${i}`)).id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/v1/tenants?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await t.call('GET', url);
        assert.equal(res.statusCode, 200, res.body);
        const page = res.json();
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((x: { id: string }) => x.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 100);
      assert.equal(cursor, null, 'the last page has no nextCursor');
      assert.equal(new Set(seen).size, seen.length, 'no tenant is listed twice');
      for (const id of created) assert.ok(seen.includes(id), `tenant ${id} is listed`);
      const all = (await t.call('GET', '/v1/tenants?limit=1000')).json();
      assert.deepEqual(seen, all.items.map((x: { id: string }) => x.id));
    });

    it('an invalid cursor answers 400 request.invalid_cursor', async () => {
      assertProblem(await t.call('GET', '/v1/tenants?cursor=not-a-cursor'), 400, 'request.invalid_cursor');
    });

    it('shows a new key once; the listing never shows the key or its hash, the prefix identifies it', async () => {
      const tenant = await createTenant('Keys Inc');
      const res = await createKey(tenant.id, 'editor');
      assert.equal(res.statusCode, 201, res.body);
      const created = res.json();
      assert.match(created.id, UUID);
      assert.equal(created.role, 'editor');
      assert.match(created.key, /^trk_[0-9a-f]{8}_/);
      assert.ok(created.key.startsWith(`trk_${created.prefix}_`), 'the prefix is the visible part of the key');
      const items = await listKeys(tenant.id);
      assert.equal(items.length, 1);
      const [listed] = items;
      assert.equal(listed.id, created.id);
      assert.equal(listed.prefix, created.prefix);
      assert.equal(listed.revokedAt, null);
      assert.ok(!('key' in listed) && !('hash' in listed));
      const secret = created.key.slice(`trk_${created.prefix}_`.length); // base64url may itself contain '_'
      const raw = (await t.call('GET', `/v1/tenants/${tenant.id}/api-keys`)).body;
      assert.ok(!raw.includes(secret) && !raw.includes(created.key), 'the secret never appears in a listing');
    });

    it('a revoked key answers 401 auth.invalid_credentials at once', async () => {
      const { tenantId, key } = await seedTenant(t, 'Revoked', 'editor');
      assert.equal((await t.call('GET', `/v1/tenants/${tenantId}/collections`, { token: key })).statusCode, 200);
      const keyId = (await listKeys(tenantId)).find((k) => k.role === 'editor')!.id;
      const revoked = await t.call('DELETE', `/v1/tenants/${tenantId}/api-keys/${keyId}`);
      assert.equal(revoked.statusCode, 204);
      assertProblem(await t.call('GET', `/v1/tenants/${tenantId}/collections`, { token: key }), 401, 'auth.invalid_credentials');
      const listed = (await listKeys(tenantId)).find((k) => k.id === keyId)!;
      assert.notEqual(listed.revokedAt, null);
    });

    it('no Authorization header answers 401 auth.missing_credentials', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/v1/tenants' });
      assertProblem(res, 401, 'auth.missing_credentials');
    });

    it('a malformed or unknown token answers 401 auth.invalid_credentials', async () => {
      assertProblem(await t.call('GET', '/v1/tenants', { token: 'not-a-key' }), 401, 'auth.invalid_credentials');
      const wellFormedButUnknown = `trk_0123abcd_${'A'.repeat(43)}`;
      assertProblem(await t.call('GET', '/v1/tenants', { token: wellFormedButUnknown }), 401, 'auth.invalid_credentials');
      const res = await t.app.inject({ method: 'GET', url: '/v1/tenants', headers: { authorization: `Basic ${t.operatorKey}` } });
      assertProblem(res, 401, 'auth.missing_credentials');
    });

    it('a tenant admin creates keys for its own tenant only', async () => {
      const a = await seedTenant(t, 'Admin A');
      const b = await seedTenant(t, 'Admin B');
      const own = await createKey(a.tenantId, 'viewer', a.adminKey);
      assert.equal(own.statusCode, 201, own.body);
      const ownKey = own.json().key;
      assert.equal((await t.call('GET', `/v1/tenants/${a.tenantId}/collections`, { token: ownKey })).statusCode, 200);
      const before = (await listKeys(b.tenantId)).length;
      assertProblem(await createKey(b.tenantId, 'admin', a.adminKey), 404, 'tenant.not_found');
      assert.equal((await listKeys(b.tenantId)).length, before, 'no key was added to the other tenant');
    });

    it("role 'operator' cannot be given to a tenant key", async () => {
      const { tenantId, adminKey } = await seedTenant(t, 'No Operators');
      const before = (await listKeys(tenantId)).length;
      for (const token of [adminKey, t.operatorKey]) {
        const body = assertProblem(await createKey(tenantId, 'operator', token), 400, 'request.validation_failed');
        assert.ok(Array.isArray(body.problems) && body.problems.length > 0);
      }
      assert.equal((await listKeys(tenantId)).length, before, 'no key was written');
    });

    it('viewer and editor keys cannot create keys', async () => {
      const { tenantId } = await seedTenant(t, 'Low Roles');
      for (const role of ['viewer', 'editor']) {
        const key = (await createKey(tenantId, role)).json().key;
        assertProblem(await createKey(tenantId, 'admin', key), 403, 'auth.forbidden');
      }
      assert.deepEqual((await listKeys(tenantId)).map((k) => k.role).sort(), ['admin', 'editor', 'viewer']);
    });

    it('a tenant key cannot list or create tenants', async () => {
      const { key, tenantId } = await seedTenant(t, 'Tenant Key');
      const countBefore = (await t.call('GET', '/v1/tenants?limit=10000')).json().items.length;
      assertProblem(await t.call('GET', '/v1/tenants', { token: key }), 403, 'auth.forbidden');
      assertProblem(await t.call('POST', '/v1/tenants', { token: key, body: { name: 'Sneaky' } }), 403, 'auth.forbidden');
      assert.equal((await t.call('GET', '/v1/tenants?limit=10000')).json().items.length, countBefore, 'no tenant was created');
      const own = await t.call('GET', `/v1/tenants/${tenantId}`, { token: key });
      assert.equal(own.statusCode, 200, 'a tenant key may read its own tenant');
    });

    it('an operator key cannot read records or create collections', async () => {
      const { tenantId, key, base } = await seedTenant(t, 'Operator Blind');
      const rec = await t.call('POST', base, { token: key, body: { data: { name: 'Ada' } } });
      assert.equal(rec.statusCode, 201);
      assertProblem(await t.call('GET', base), 403, 'auth.forbidden');
      assertProblem(await t.call('GET', `${base}/${rec.json().id}`), 403, 'auth.forbidden');
      assertProblem(await t.call('POST', `${base}/search`, { body: { where: { email: 'a@example.org' } } }), 403, 'auth.forbidden');
      const coll = { name: 'secrets', fields: [{ name: 'note', type: 'string' }] };
      assertProblem(await t.call('POST', `/v1/tenants/${tenantId}/collections`, { body: coll }), 403, 'auth.forbidden');
      const names = (await t.call('GET', `/v1/tenants/${tenantId}/collections`, { token: key })).json().items.map((c: { name: string }) => c.name);
      assert.deepEqual(names, ['customers'], 'no collection was created');
    });

    it('lastUsedAt becomes non-null once a key is used', async () => {
      const tenant = await createTenant('Last Used');
      const { id, key } = (await createKey(tenant.id, 'viewer')).json();
      assert.equal((await listKeys(tenant.id)).find((k) => k.id === id)!.lastUsedAt, null);
      assert.equal((await t.call('GET', `/v1/tenants/${tenant.id}`, { token: key })).statusCode, 200);
      // The touch is written after the response, so read until it shows (bounded by attempts, not time).
      let lastUsedAt: unknown = null;
      for (let i = 0; i < 50 && lastUsedAt === null; i++) {
        lastUsedAt = (await listKeys(tenant.id)).find((k) => k.id === id)!.lastUsedAt;
        if (lastUsedAt === null) await new Promise((r) => setImmediate(r));
      }
      assert.equal(typeof lastUsedAt, 'string');
      assert.ok(!Number.isNaN(Date.parse(lastUsedAt as string)));
    });
  });
}
