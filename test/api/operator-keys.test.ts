import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

for (const backend of backends) {
  describe(`operator keys [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend); });
    after(async () => t.close());

    it('an operator creates a named operator key, lists it without its secret, and revokes it', async () => {
      const created = await t.call('POST', '/v1/operator-keys', { body: { name: 'ci pipeline' } });
      assert.equal(created.statusCode, 201);
      const { id, key, prefix } = created.json();
      assert.match(key, /^trk_[0-9a-f]{8}_/);
      assert.equal((await t.call('GET', '/v1/tenants', { token: key })).statusCode, 200);

      const listed = (await t.call('GET', '/v1/operator-keys')).json().items;
      const mine = listed.find((k: { id: string }) => k.id === id);
      assert.equal(mine.prefix, prefix);
      assert.equal(JSON.stringify(listed).includes(key), false);

      assert.equal((await t.call('DELETE', `/v1/operator-keys/${id}`)).statusCode, 204);
      const after = await t.call('GET', '/v1/tenants', { token: key });
      assert.equal(after.statusCode, 401);
      assert.equal(after.json().code, 'auth.invalid_credentials');
    });

    it('a tenant admin cannot create or list operator keys', async () => {
      const { adminKey } = await seedTenant(t);
      for (const [method, body] of [['POST', { name: 'x' }], ['GET', undefined]] as const) {
        const res = await t.call(method, '/v1/operator-keys', { token: adminKey, body });
        assert.equal(res.statusCode, 403);
        assert.equal(res.json().code, 'auth.forbidden');
      }
    });

    it('revoking an unknown or tenant key through the operator route answers 404', async () => {
      const { tenantId } = await seedTenant(t, 'Other');
      const tenantKey = (await t.call('GET', `/v1/tenants/${tenantId}/api-keys`)).json().items[0];
      const res = await t.call('DELETE', `/v1/operator-keys/${tenantKey.id}`);
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().code, 'api_key.not_found');
    });
  });
}
