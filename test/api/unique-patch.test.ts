import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { assertProblem } from '../helpers/problem.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

for (const backend of backends) {
  describe(`unique fields on PATCH [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend); });
    after(async () => t.close());

    it('names only the field whose value is taken, not the record\'s own unchanged unique values', async () => {
      const { tenantId, adminKey } = await seedTenant(t);
      const collection = { name: 'members', fields: [{ name: 'email', type: 'email', unique: true }, { name: 'tax_id', type: 'string', unique: true }] };
      assert.equal((await t.call('POST', `/v1/tenants/${tenantId}/collections`, { token: adminKey, body: collection })).statusCode, 201);
      const base = `/v1/tenants/${tenantId}/collections/members/records`;
      await t.call('POST', base, { token: adminKey, body: { data: { email: 'a@example.org', tax_id: 'DE-1' } } });
      const b = (await t.call('POST', base, { token: adminKey, body: { data: { email: 'b@example.org', tax_id: 'DE-2' } } })).json();

      const res = await t.call('PATCH', `${base}/${b.id}`, { token: adminKey, body: { data: { email: 'a@example.org' } } });
      const problem = assertProblem(res, 409, 'record.unique_violation');
      assert.deepEqual(problem.problems.map((p: { field: string }) => p.field), ['email']);
      assert.deepEqual((await t.call('GET', `${base}/${b.id}`, { token: adminKey })).json().data, { email: 'b@example.org', tax_id: 'DE-2' });

      const same = await t.call('PATCH', `${base}/${b.id}`, { token: adminKey, body: { data: { email: 'B@example.org', tax_id: 'DE-2' } } });
      assert.equal(same.statusCode, 200, 'keeping its own unique values is no conflict');
    });
  });
}
