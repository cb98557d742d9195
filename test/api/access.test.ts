// Defects 2 and 3: authentication is declared per route and decided on the
// route that matched (not on the raw URL), and tenant scope and role are
// checked before the body is parsed or validated.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { backends } from '../helpers/backends.ts';
import { type TestApp, seedTenant, startTestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';
import { registerAccess } from '../../src/http/access.ts';
import { authenticatorChain } from '../../src/access/authenticate.ts';
import { createMetrics } from '../../src/http/metrics.ts';

describe('every route declares its access', () => {
  it('a route without a declaration refuses to be added, so start-up fails', async () => {
    const app = Fastify();
    registerAccess(app, authenticatorChain([]), createMetrics().meters);
    assert.throws(() => app.get('/undeclared', async () => 'x'), /declares no access/);
    assert.throws(() => app.get('/v1/things', { config: { auth: ['api_key'], action: 'records.read', scope: 'tenant' } }, async () => 'x'),
      /has no :tenantId/);
    await assert.rejects(async () => {
      await app.register(async (scope) => { scope.post('/v1/also-undeclared', async () => 'x'); });
      await app.ready();
    }, /declares no access/);
  });
});

for (const backend of backends) {
  describe(`access is decided per route, before the body [${backend}]`, () => {
    let t: TestApp;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let b: Awaited<ReturnType<typeof seedTenant>>;
    let viewer: Awaited<ReturnType<typeof seedTenant>>;
    before(async () => {
      t = await startTestApp(backend);
      a = await seedTenant(t, 'Access A');
      b = await seedTenant(t, 'Access B');
      viewer = await seedTenant(t, 'Access Viewer', 'viewer');
    });
    after(() => t.close());

    const raw = (method: string, url: string, opts: { token?: string; body?: string; type?: string } = {}) => t.app.inject({
      method: method as 'POST', url, payload: opts.body,
      headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.type ? { 'content-type': opts.type } : {}) },
    });

    it('percent-encoded paths need a key like the canonical ones (401, not 500)', async () => {
      assertProblem(await raw('GET', '/%761/tenants'), 401, 'auth.missing_credentials');
      assertProblem(await raw('GET', `/v%31/tenants/${a.tenantId}`), 401, 'auth.missing_credentials');
      assertProblem(await raw('GET', `/v1/tenants/${a.tenantId}/collections/%63ustomers/records`), 401, 'auth.missing_credentials');
      const canonical = await raw('GET', `/v1/tenants/${a.tenantId}`, { token: t.operatorKey });
      const encoded = await raw('GET', `/v%31/tenants/${a.tenantId}`, { token: t.operatorKey });
      assert.equal(encoded.statusCode, 200, encoded.body);
      assert.deepEqual(encoded.json(), canonical.json());
      const list = await raw('GET', '/%761/tenants', { token: t.operatorKey });
      assert.equal(list.statusCode, 200, list.body);
      assert.deepEqual(list.json(), (await raw('GET', '/v1/tenants', { token: t.operatorKey })).json());
    });

    it('paths the router cannot read answer problem+json without echoing the path, key or not', async () => {
      const personal = 'jane.doe%40example.org';
      for (const token of [undefined, t.operatorKey, a.adminKey]) {
        for (const url of [`/v1/tenants/%E0%A4%A${personal}`, `/v1/tenants/${a.tenantId}/collections/%ZZ${personal}`,
          `/v1/tenants/${'x'.repeat(200)}${personal}`, `/v1/tenants/${a.tenantId}/collections/${'a'.repeat(101)}${personal}/records`]) {
          const res = await raw('GET', url, { token });
          assertProblem(res, 400, 'request.invalid_url');
          assert.doesNotMatch(res.body, /jane|xxxx|aaaa/, 'the path is not echoed');
        }
      }
      const unmatched = await raw('GET', `/v1/${personal}`, { token: t.operatorKey });
      assertProblem(unmatched, 404, 'route.not_found');
      assert.doesNotMatch(unmatched.body, /jane/, 'an unmatched path is not echoed');
    });

    it('public routes answer without a key', async () => {
      for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/problems/tenant.not_found']) {
        assert.equal((await raw('GET', url)).statusCode, 200, url);
      }
      assert.ok([200, 302].includes((await raw('GET', '/docs')).statusCode));
    });

    it("another tenant's key gets 404 whatever the body or content type", async () => {
      const foreign = { token: b.adminKey };
      const collections = `/v1/tenants/${a.tenantId}/collections`;
      const cases: Array<[string, string, { body?: string; type?: string }]> = [
        ['POST', collections, { body: '{not json', type: 'application/json' }],
        ['POST', collections, { body: 'name=x', type: 'text/plain' }],
        ['POST', collections, { body: JSON.stringify({ name: 'x', fields: 'nope', extra: 1 }), type: 'application/json' }],
        ['POST', a.base, { body: '<data/>', type: 'application/xml' }],
        ['POST', a.base, { body: '{"data": 5}', type: 'application/json' }],
        ['PATCH', `${a.base}/not-a-uuid`, { body: '{', type: 'application/json' }],
        ['POST', `${a.base}/search`, { body: '[]', type: 'application/json' }],
        ['POST', `${a.base}/import`, { body: '{}', type: 'application/json' }],
        ['POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: '\u0000', type: 'application/octet-stream' }],
        ['POST', `/v1/tenants/${a.tenantId}/keys/rotate`, { body: '{', type: 'application/json' }],
      ];
      for (const [method, url, opts] of cases) {
        const res = await raw(method, url, { ...foreign, ...opts });
        assertProblem(res, 404, 'tenant.not_found');
        assert.equal(res.json().problems, undefined, `${method} ${url} reveals no schema details`);
      }
    });

    it('a role without the permission gets 403 whatever the body or content type', async () => {
      const v = { token: viewer.key };
      const id = '0190f2b4-0000-7000-8000-000000000000';
      const cases: Array<[string, string, { body?: string; type?: string }]> = [
        ['POST', viewer.base, { body: '{not json', type: 'application/json' }],
        ['POST', viewer.base, { body: 'x', type: 'text/plain' }],
        ['PATCH', `${viewer.base}/${id}`, { body: '{"data": 1, "x": 2}', type: 'application/json' }],
        ['POST', `${viewer.base}/import`, { body: 'x', type: 'text/csv' }],
        ['POST', `/v1/tenants/${viewer.tenantId}/collections`, { body: '{', type: 'application/json' }],
        ['POST', `/v1/tenants/${viewer.tenantId}/api-keys`, { body: '{', type: 'application/json' }],
        ['POST', '/v1/tenants', { body: '{', type: 'application/json' }],
      ];
      for (const [method, url, opts] of cases) assertProblem(await raw(method, url, { ...v, ...opts }), 403, 'auth.forbidden');
    });
  });
}
