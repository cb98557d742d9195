import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

for (const backend of backends) {
  describe(`health, OpenAPI and metrics [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend); });
    after(async () => t.close());

    const get = (url: string) => t.app.inject({ method: 'GET', url });

    it('GET /healthz answers 200 without credentials', async () => {
      const res = await get('/healthz');
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { status: 'ok', environment: 'production' });
      assert.ok(res.headers['x-request-id']);
      assert.equal(res.headers['tresor-environment'], 'production', 'an undeclared deployment is treated as production');
    });

    it('GET /readyz answers 200 ready once migrations are current', async () => {
      const res = await get('/readyz');
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.status, 'ready');
      assert.ok(Number.isInteger(body.migration) && body.migration >= 1);
    });

    it('GET /openapi.json is an OpenAPI 3 document listing the records paths', async () => {
      const res = await get('/openapi.json');
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const doc = res.json();
      assert.match(doc.openapi, /^3\./);
      assert.equal(doc.info.title, 'Tresor');
      const records = '/v1/tenants/{tenantId}/collections/{name}/records';
      for (const path of [records, `${records}/{id}`, `${records}/search`, `${records}/import`, '/v1/tenants', '/v1/tenants/{tenantId}/collections']) {
        assert.ok(doc.paths[path], `documents ${path}`);
      }
      assert.ok(doc.paths[records].post && doc.paths[records].get);
      assert.ok(doc.paths[`${records}/{id}`].get && doc.paths[`${records}/{id}`].patch && doc.paths[`${records}/{id}`].delete);
      assert.ok(doc.paths[`${records}/import`].post, 'import is documented');
      assert.deepEqual({ ...doc.components.securitySchemes.bearer, description: undefined }, { type: 'http', scheme: 'bearer', description: undefined });
      assert.ok(!doc.paths['/metrics'] && !doc.paths['/openapi.json'], 'internal routes are hidden');
    });

    it('GET /docs serves the API documentation', async () => {
      const res = await get('/docs');
      assert.ok([200, 302].includes(res.statusCode), `status ${res.statusCode}`);
    });

    it('GET /metrics counts requests in tresor_http_requests_total', async () => {
      const { key, base } = await seedTenant(t, 'Metrics');
      assert.equal((await t.call('GET', base, { token: key })).statusCode, 200);
      const res = await get('/metrics');
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      assert.match(res.body, /# TYPE tresor_http_requests_total counter/);
      const route = '/v1/tenants/:tenantId/collections/:name/records';
      const sample = res.body.split('\n').find((l) => l.startsWith('tresor_http_requests_total{') && l.includes('method="GET"') && l.includes(`route="${route}"`) && l.includes('status="200"'));
      assert.ok(sample, 'the records list request is counted by route template');
      assert.ok(Number(sample!.split(' ').pop()) >= 1);
      assert.ok(!res.body.includes(key), 'no credentials in metrics');
      assert.match(res.body, /tresor_http_request_duration_seconds_bucket/);
    });

    it('GET /metrics shows the database pool: its size and the transactions open while a slow one runs', async () => {
      const { tenantId } = await seedTenant(t, 'Pool');
      let release!: () => void;
      const held = new Promise<void>((r) => { release = r; });
      const open = t.store.db.withTenant(tenantId, async (tx) => { await tx.query('select 1'); await held; });
      await new Promise((r) => setTimeout(r, 20));
      const during = (await get('/metrics')).body;
      release();
      await open;
      const after = (await get('/metrics')).body;
      const gauge = (body: string) => Number(/^tresor_db_transactions_in_flight (\d+)/m.exec(body)?.[1]);
      assert.equal(gauge(during), 1);
      assert.equal(gauge(after), 0);
      assert.match(after, /^tresor_db_pool_max \d+/m);
    });
  });
}
