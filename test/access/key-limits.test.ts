// Tenant API keys: roles only at or below the giver's, an optional collection
// scope and an optional expiry, each refused as documented.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { type TestApp, seedTenant, startTestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';

for (const backend of backends) {
  describe(`key roles, scope and expiry [${backend}]`, () => {
    let t: TestApp;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let clock = new Date('2026-06-01T12:00:00.000Z');
    const makeKey = (body: Record<string, unknown>, token?: string) =>
      t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { token, body: { name: 'k', ...body } });
    before(async () => {
      t = await startTestApp(backend, { now: () => clock });
      a = await seedTenant(t, 'Limits');
      await t.call('POST', `/v1/tenants/${a.tenantId}/collections`, { token: a.adminKey, body: { name: 'other', fields: [{ name: 'x', type: 'string' }] } });
    });
    after(() => t.close());

    it('an admin cannot make an owner key; an owner and an operator can', async () => {
      assertProblem(await makeKey({ role: 'owner' }, a.adminKey), 403, 'auth.role_not_grantable');
      const owner = await makeKey({ role: 'owner' });
      assert.equal(owner.statusCode, 201, owner.body);
      assert.equal((await makeKey({ role: 'owner' }, owner.json().key)).statusCode, 201);
      assertProblem(await makeKey({ role: 'operator' }, owner.json().key), 400, 'request.validation_failed');
    });

    it('an expired key answers 401 like a revoked one, cached or not; a past or too distant expiry is refused', async () => {
      const res = await makeKey({ role: 'viewer', expiresAt: new Date(clock.getTime() + 3600_000).toISOString() }, a.adminKey);
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().expiresAt, new Date(clock.getTime() + 3600_000).toISOString());
      const key = res.json().key;
      assert.equal((await t.call('GET', `/v1/tenants/${a.tenantId}`, { token: key })).statusCode, 200);
      clock = new Date(clock.getTime() + 3600_000);
      assertProblem(await t.call('GET', `/v1/tenants/${a.tenantId}`, { token: key }), 401, 'auth.invalid_credentials');
      assertProblem(await makeKey({ role: 'viewer', expiresAt: new Date(clock.getTime() - 1000).toISOString() }, a.adminKey), 422, 'api_key.invalid_expiry');
      assertProblem(await makeKey({ role: 'viewer', expiresAt: new Date(clock.getTime() + 3651 * 86_400_000).toISOString() }, a.adminKey), 422, 'api_key.invalid_expiry');
      assertProblem(await makeKey({ role: 'viewer', expiresAt: 'tomorrow' }, a.adminKey), 400, 'request.validation_failed');
    });

    it('a key limited to a collection reaches only that collection\'s routes and reading its tenant', async () => {
      const res = await makeKey({ role: 'editor', collections: ['customers'] }, a.adminKey);
      assert.deepEqual(res.json().collections, ['customers']);
      const key = res.json().key;
      const created = await t.call('POST', a.base, { token: key, body: { data: { name: 'Ada' } } });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal((await t.call('GET', a.base, { token: key })).statusCode, 200);
      assert.equal((await t.call('GET', `/v1/tenants/${a.tenantId}`, { token: key })).statusCode, 200);
      assertProblem(await t.call('GET', `/v1/tenants/${a.tenantId}/collections/other/records`, { token: key }), 403, 'auth.out_of_scope');
      assertProblem(await t.call('GET', `/v1/tenants/${a.tenantId}/collections`, { token: key }), 403, 'auth.out_of_scope');
      const denied = (await t.call('GET', `/v1/tenants/${a.tenantId}/security-events?type=access.denied`, { token: a.adminKey })).json().items[0];
      assert.equal(denied.detail.reason, 'out_of_scope');
      assertProblem(await makeKey({ role: 'viewer', collections: ['Not A Name'] }, a.adminKey), 400, 'request.validation_failed');
    });
  });
}
