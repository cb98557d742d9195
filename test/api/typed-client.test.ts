import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
// The package's own export, as an integration would import it.
import { createTresorClient, type TresorClient } from 'tresor/client';
import { backends } from '../helpers/backends.ts';
import { customersCollection, startTestApp, type TestApp } from '../helpers/test-app.ts';

// The generated client against a real listening server: it compiles (tsc checks
// this file), sends what the routes accept and reads what they answer.
for (const backend of backends) {
  describe(`typed client over HTTP [${backend}]`, () => {
    let t: TestApp;
    let baseUrl: string;
    let operator: TresorClient;
    let tenantId: string;
    let tenant: TresorClient;

    before(async () => {
      t = await startTestApp(backend);
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
      operator = createTresorClient({ baseUrl, token: t.operatorKey });
      const created = await operator.POST('/v1/tenants', { body: { name: 'Typed GmbH' } });
      assert.equal(created.response.status, 201);
      tenantId = created.data!.id;
      const key = await operator.POST('/v1/tenants/{tenantId}/api-keys', { params: { path: { tenantId } }, body: { name: 'admin', role: 'admin' } });
      tenant = createTresorClient({ baseUrl, token: key.data!.key });
      const collection = await tenant.POST('/v1/tenants/{tenantId}/collections', { params: { path: { tenantId } }, body: customersCollection });
      assert.equal(collection.response.status, 201, JSON.stringify(collection.error));
    });
    after(async () => t.close());

    const records = () => ({ path: { tenantId, name: 'customers' } });

    it('creates, reads, updates, searches and deletes a record', async () => {
      const created = await tenant.POST('/v1/tenants/{tenantId}/collections/{name}/records', {
        params: records(), body: { data: { email: 'ada@example.com', name: 'Ada' } } });
      assert.equal(created.response.status, 201, JSON.stringify(created.error));
      const id = created.data!.id;
      const path = { ...records().path, id };

      const read = await tenant.GET('/v1/tenants/{tenantId}/collections/{name}/records/{id}', { params: { path } });
      assert.deepEqual(read.data?.data, { email: 'ada@example.com', name: 'Ada' });

      const updated = await tenant.PATCH('/v1/tenants/{tenantId}/collections/{name}/records/{id}', { params: { path }, body: { data: { tier: 'gold' } } });
      assert.equal(updated.data?.version, read.data!.version + 1, JSON.stringify(updated.error));

      const found = await tenant.POST('/v1/tenants/{tenantId}/collections/{name}/records/search', { params: records(), body: { where: { email: 'ada@example.com' } } });
      assert.deepEqual(found.data?.items.map((r) => r.id), [id]);

      const removed = await tenant.DELETE('/v1/tenants/{tenantId}/collections/{name}/records/{id}', { params: { path } });
      assert.equal(removed.response.status, 204);
    });

    it('gives a problem answer as the typed error, with its catalogue code', async () => {
      const missing = await tenant.GET('/v1/tenants/{tenantId}/collections/{name}/records/{id}', {
        params: { path: { ...records().path, id: '00000000-0000-4000-8000-000000000000' } } });
      assert.equal(missing.response.status, 404);
      assert.equal(missing.response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(missing.error?.code, 'record.not_found');

      const anonymous = await createTresorClient({ baseUrl }).GET('/v1/tenants/{tenantId}/keys', { params: { path: { tenantId } } });
      assert.equal(anonymous.error?.code, 'auth.missing_credentials');
    });

    it('calls public routes without a token and reads key status', async () => {
      const health = await createTresorClient({ baseUrl }).GET('/healthz');
      assert.equal(health.response.status, 200);
      const keys = await tenant.GET('/v1/tenants/{tenantId}/keys', { params: { path: { tenantId } } });
      assert.equal(keys.data?.activeVersion, 1);
    });
  });
}
