// The error seam: a problem's `type` resolves on the server to its catalogue
// entry, and an error stays small and names no personal data however bad the input.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { type TestApp, customersCollection, seedTenant, startTestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';

for (const backend of backends) {
  describe(`problem documents [${backend}]`, () => {
    let t: TestApp;
    let s: Awaited<ReturnType<typeof seedTenant>>;
    // The body limit is raised so 90k keys reach validation (the defect's size).
    before(async () => { t = await startTestApp(backend, { env: { TRESOR_BODY_LIMIT: String(4 * 1024 * 1024) } }); s = await seedTenant(t, 'Problems'); });
    after(() => t.close());

    it("a problem's type URI answers the code's title and description, without a key", async () => {
      const problem = assertProblem(await t.call('GET', `${s.base}/0190f2b4-0000-7000-8000-000000000000`, { token: s.key }), 404, 'record.not_found');
      assert.equal(problem.type, '/problems/record.not_found');
      const res = await t.app.inject({ method: 'GET', url: problem.type });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(Object.keys(res.json()).sort(), ['code', 'description', 'status', 'title']);
      assert.equal(res.json().status, 404);
      assert.equal(res.json().title, problem.title);
      for (const code of ['record.invalid_email', 'import.line_too_long', 'config.invalid', 'store.locked']) {
        const entry = await t.app.inject({ method: 'GET', url: `/problems/${code}` });
        assert.equal(entry.statusCode, 200, code);
        assert.ok(entry.json().description.length > 0);
      }
      assertProblem(await t.app.inject({ method: 'GET', url: '/problems/no.such_code' }), 404, 'problem.not_found');
      assertProblem(await t.app.inject({ method: 'GET', url: '/problems/constructor' }), 404, 'problem.not_found');
    });

    it('a path that exists under other methods answers 405 with Allow; an unknown path 404', async () => {
      const res = await t.call('DELETE', '/v1/tenants');
      assertProblem(res, 405, 'route.method_not_allowed');
      assert.deepEqual(res.headers.allow?.toString().split(', '), ['GET', 'HEAD', 'POST']);
      const rec = await t.call('PUT', `${s.base}/0190f2b4-0000-7000-8000-000000000000`, { token: s.key, body: { data: {} } });
      assertProblem(rec, 405, 'route.method_not_allowed');
      assert.deepEqual(rec.headers.allow?.toString().split(', '), ['DELETE', 'GET', 'HEAD', 'PATCH']);
      const none = await t.call('GET', '/v1/no-such-thing');
      assertProblem(none, 404, 'route.not_found');
      assert.equal(none.headers.allow, undefined);
    });

    it('90k unknown data keys give at most 100 problems and their total, in a small answer', async () => {
      const data: Record<string, string> = { name: 'x' };
      for (let i = 0; i < 90_000; i++) data[`k${i}`] = 'v';
      const res = await t.call('POST', s.base, { token: s.key, body: { data } });
      const p = assertProblem(res, 422, 'record.validation_failed');
      assert.equal(p.problems.length, 100);
      assert.equal(p.problemsTotal, 90_000);
      assert.ok(res.body.length < 20_000, `answer is ${res.body.length} bytes`);
    });

    it('unknown top-level properties: capped, and named only when they look like field names', async () => {
      const body: Record<string, unknown> = { ...customersCollection, name: 'other', retention: '13 months', 'jane.doe@example.org': 1 };
      for (let i = 0; i < 300; i++) body[`extra_${i}`] = i;
      const res = await t.call('POST', `/v1/tenants/${s.tenantId}/collections`, { token: s.adminKey, body });
      const p = assertProblem(res, 400, 'request.validation_failed');
      assert.equal(p.problems.length, 100);
      assert.equal(p.problemsTotal, 302);
      assert.ok(p.problems.some((x: { code: string; path: string }) => x.code === 'request.unknown_property' && x.path === 'body/retention'));
      assert.ok(!res.body.includes('jane.doe'), 'a name that is no field name is not echoed');
      const only = await t.call('POST', `/v1/tenants/${s.tenantId}/collections`, { token: s.adminKey, body: { ...customersCollection, name: 'other', 'Jane Doe': 1 } });
      const q = assertProblem(only, 400, 'request.validation_failed');
      assert.deepEqual(q.problems, [{ path: 'body', code: 'request.unknown_property', detail: 'unknown property in body' }]);
      assert.ok(!only.body.includes('Jane'));
      const option = await t.call('POST', `/v1/tenants/${s.tenantId}/collections`, { token: s.adminKey,
        body: { name: 'other', fields: [{ name: 'a', type: 'string', retention: 1, 'jane.doe@example.org': 1 }] } });
      const r = assertProblem(option, 422, 'collection.invalid_definition');
      assert.deepEqual(r.problems.map((x: { path: string }) => x.path), ['/fields/0/retention', '/fields/0']);
      assert.ok(!option.body.includes('jane.doe'), 'an unknown option that is no option name is not echoed');
    });
  });
}
