import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from './helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from './helpers/test-app.ts';

for (const backend of backends) {
  describe(`records round trip [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend); });
    after(async () => t.close());

    it('creates, reads back and finds a record by e-mail', async () => {
      const { key, base } = await seedTenant(t);
      const created = await t.call('POST', base, { token: key, body: { data: { email: 'Grace@Example.org', name: 'Grace Hopper' } } });
      assert.equal(created.statusCode, 201);
      const { id } = created.json();
      const got = (await t.call('GET', `${base}/${id}`, { token: key })).json();
      assert.deepEqual(got.data, { email: 'grace@example.org', name: 'Grace Hopper' });
      const found = (await t.call('POST', `${base}/search`, { token: key, body: { where: { email: 'GRACE@example.org ' } } })).json();
      assert.deepEqual(found.items.map((r: { id: string }) => r.id), [id]);
    });
  });
}
