// Invalid UTF-8 in a JSON body is refused (never silently replaced by U+FFFD),
// and a key for a tenant that does not exist is a 404, not a 500.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { type TestApp, seedTenant, startTestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';

for (const backend of backends) {
  describe(`strict input [${backend}]`, () => {
    let t: TestApp;
    let s: Awaited<ReturnType<typeof seedTenant>>;
    before(async () => { t = await startTestApp(backend); s = await seedTenant(t, 'Strict'); });
    after(() => t.close());

    const post = (url: string, payload: Buffer, token = s.adminKey) => t.app.inject({
      method: 'POST', url, payload, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });

    it('a JSON body with invalid UTF-8 answers 400 request.invalid_utf8 and stores nothing', async () => {
      for (const bad of [Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80])]) {
        const payload = Buffer.concat([Buffer.from('{"data":{"name":"Jos'), bad, Buffer.from('"}}')]);
        assertProblem(await post(s.base, payload), 400, 'request.invalid_utf8');
      }
      const list = await t.call('GET', s.base, { token: s.key });
      assert.deepEqual(list.json().items, []);
      const ok = await post(s.base, Buffer.from('{"data":{"name":"José"}}', 'utf8'));
      assert.equal(ok.statusCode, 201, ok.body);
      assert.equal(ok.json().data.name, 'José');
    });

    it('the JSON body limit still applies', async () => {
      const big = Buffer.from(JSON.stringify({ data: { name: 'x'.repeat(t.store.config.bodyLimitBytes) } }));
      assertProblem(await post(s.base, big), 413, 'request.body_too_large');
      assertProblem(await post(s.base, Buffer.from('{"data":')), 400, 'request.invalid_json');
      assertProblem(await post(s.base, Buffer.from('{"__proto__":{"x":1},"data":{}}')), 400, 'request.invalid_json');
    });

    it('an operator creating a key for a tenant that does not exist gets 404 tenant.not_found', async () => {
      const res = await t.call('POST', '/v1/tenants/0190f2b4-0000-7000-8000-000000000000/api-keys', { body: { name: 'k', role: 'admin' } });
      assertProblem(res, 404, 'tenant.not_found');
    });
  });
}
