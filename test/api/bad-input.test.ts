import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import type { LightMyRequestResponse } from 'fastify';
import { assertProblem } from '../helpers/problem.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';


/** A distinctive value sent in a bad request must never come back in the error. */
function assertNotEchoed(res: LightMyRequestResponse, ...values: string[]) {
  for (const v of values) assert.ok(!res.body.toLowerCase().includes(v.toLowerCase()), `response echoes '${v}': ${res.body}`);
}

const SECRET_EMAIL = 'zz-bad-4711@example.com';
const SECRET_NAME = 'Zebediah Quux-4711';

for (const backend of backends) {
  describe(`bad input [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend); });
    after(async () => t.close());

    /** Nothing was written: the collection lists empty and a search for the distinctive e-mail finds nothing. */
    const assertEmpty = async (key: string, base: string) => {
      const list = await t.call('GET', base, { token: key });
      assert.equal(list.statusCode, 200);
      assert.deepEqual(list.json().items, []);
      const found = await t.call('POST', `${base}/search`, { token: key, body: { where: { email: SECRET_EMAIL } } });
      assert.deepEqual(found.json().items, []);
    };
    const raw = (key: string, method: string, url: string, payload: string | Buffer, contentType: string) =>
      t.app.inject({ method: method as 'POST', url, payload, headers: { authorization: `Bearer ${key}`, 'content-type': contentType } });

    it('malformed JSON answers 400 request.invalid_json', async () => {
      const { key, base } = await seedTenant(t, 'Bad JSON');
      const res = await raw(key, 'POST', base, `{"data": {"email": "${SECRET_EMAIL}", "name": `, 'application/json');
      assertProblem(res, 400, 'request.invalid_json');
      assertNotEchoed(res, SECRET_EMAIL);
      assertProblem(await raw(key, 'POST', base, '', 'application/json'), 400, 'request.invalid_json');
      await assertEmpty(key, base);
    });

    it('a number for a string field answers 422 with problem code record.invalid_type', async () => {
      const { key, base } = await seedTenant(t, 'Wrong Type');
      const res = await t.call('POST', base, { token: key, body: { data: { email: SECRET_EMAIL, name: 4711 } } });
      const p = assertProblem(res, 422, 'record.validation_failed');
      assert.deepEqual(p.problems.map((x: { field: string; code: string }) => [x.field, x.code]), [['name', 'record.invalid_type']]);
      assertNotEchoed(res, SECRET_EMAIL, '4711');
      await assertEmpty(key, base);
    });

    it('every field problem is reported at once, naming fields and rules only', async () => {
      const { key, base } = await seedTenant(t, 'Many Problems');
      const data = { email: 'zz-bad-4711-at-example.com', phone: '555-4711', birthdate: '2023-02-30', tier: true };
      const res = await t.call('POST', base, { token: key, body: { data } });
      const p = assertProblem(res, 422, 'record.validation_failed');
      const codes = p.problems.map((x: { field: string; code: string }) => `${x.field}:${x.code}`).sort();
      assert.deepEqual(codes, ['birthdate:record.invalid_date', 'email:record.invalid_email', 'name:record.required_field', 'phone:record.invalid_phone', 'tier:record.invalid_type']);
      assertNotEchoed(res, 'zz-bad-4711', '555-4711', '2023-02-30');
      await assertEmpty(key, base);
    });

    it('an unknown field answers 422 record.unknown_field without echoing its value', async () => {
      const { key, base } = await seedTenant(t, 'Unknown Field');
      const res = await t.call('POST', base, { token: key, body: { data: { name: SECRET_NAME, emial: SECRET_EMAIL } } });
      const p = assertProblem(res, 422, 'record.validation_failed');
      assert.deepEqual(p.problems.map((x: { field: string; code: string }) => [x.field, x.code]), [['emial', 'record.unknown_field']]);
      assertNotEchoed(res, SECRET_EMAIL, SECRET_NAME);
      // A key that is itself personal data pasted into the wrong place is not echoed either.
      const pasted = await t.call('POST', base, { token: key, body: { data: { name: 'x', [SECRET_EMAIL]: 1 } } });
      const p2 = assertProblem(pasted, 422, 'record.validation_failed');
      assert.equal(p2.problems[0].code, 'record.unknown_field');
      assertNotEchoed(pasted, SECRET_EMAIL);
      await assertEmpty(key, base);
    });

    it('a top-level property next to data answers 400 request.validation_failed', async () => {
      const { key, base } = await seedTenant(t, 'Top Level');
      const res = await t.call('POST', base, { token: key, body: { data: { email: SECRET_EMAIL, name: SECRET_NAME }, email: SECRET_EMAIL } });
      assertProblem(res, 400, 'request.validation_failed');
      assertNotEchoed(res, SECRET_EMAIL, SECRET_NAME);
      assertProblem(await t.call('POST', base, { token: key, body: { email: SECRET_EMAIL } }), 400, 'request.validation_failed');
      assertProblem(await t.call('POST', base, { token: key, body: { data: [SECRET_EMAIL] } }), 400, 'request.validation_failed');
      await assertEmpty(key, base);
    });

    it('a value over maxLength answers 422 record.too_long', async () => {
      const { key, base } = await seedTenant(t, 'Too Long');
      const res = await t.call('POST', base, { token: key, body: { data: { email: SECRET_EMAIL, name: 'Q'.repeat(101) } } });
      const p = assertProblem(res, 422, 'record.validation_failed');
      assert.deepEqual(p.problems.map((x: { field: string; code: string }) => [x.field, x.code]), [['name', 'record.too_long']]);
      assertNotEchoed(res, SECRET_EMAIL, 'Q'.repeat(101));
      await assertEmpty(key, base);
      // 100 characters (counted as code points) is fine.
      assert.equal((await t.call('POST', base, { token: key, body: { data: { name: '😀'.repeat(100) } } })).statusCode, 201);
    });

    it('a body over 1 MiB answers 413 request.body_too_large', async () => {
      const { key, base } = await seedTenant(t, 'Too Large');
      const body = JSON.stringify({ data: { email: SECRET_EMAIL, name: 'x', address: { blob: 'a'.repeat(1024 * 1024) } } });
      const res = await raw(key, 'POST', base, body, 'application/json');
      assertProblem(res, 413, 'request.body_too_large');
      assertNotEchoed(res, SECRET_EMAIL);
      await assertEmpty(key, base);
    });

    it('a text/plain body answers 415 request.unsupported_media_type', async () => {
      const { key, base } = await seedTenant(t, 'Text Plain');
      const body = JSON.stringify({ data: { email: SECRET_EMAIL, name: SECRET_NAME } });
      const res = await raw(key, 'POST', base, body, 'text/plain');
      assertProblem(res, 415, 'request.unsupported_media_type');
      assertNotEchoed(res, SECRET_EMAIL, SECRET_NAME);
      assertProblem(await raw(key, 'POST', base, body, 'application/xml'), 415, 'request.unsupported_media_type');
      await assertEmpty(key, base);
    });

    it('a record id that is not a UUID answers 400', async () => {
      const { key, base } = await seedTenant(t, 'Bad Id');
      assertProblem(await t.call('GET', `${base}/not-a-uuid`, { token: key }), 400, 'request.validation_failed');
      assertProblem(await t.call('PATCH', `${base}/12345`, { token: key, body: { data: { name: 'x' } } }), 400, 'request.validation_failed');
      assertProblem(await t.call('DELETE', `${base}/12345`, { token: key }), 400, 'request.validation_failed');
      // A tenant key's only tenant is its own: anything else is not found, before validation.
      assertProblem(await t.call('GET', '/v1/tenants/not-a-uuid/collections', { token: key }), 404, 'tenant.not_found');
      assertProblem(await t.call('GET', '/v1/tenants/not-a-uuid/keys'), 400, 'request.validation_failed');
      await assertEmpty(key, base);
    });

    it('an unknown route answers 404 route.not_found as problem+json', async () => {
      const { key } = await seedTenant(t, 'No Route');
      assertProblem(await t.call('GET', '/v1/nothing-here', { token: key }), 404, 'route.not_found');
      assertProblem(await t.app.inject({ method: 'GET', url: '/nothing-here' }), 404, 'route.not_found');
      // A path that exists under other methods answers 405 with Allow instead.
      const put = await t.call('PUT', '/v1/tenants', { token: key, body: { name: 'x' } });
      assertProblem(put, 405, 'route.method_not_allowed');
      assert.match(String(put.headers.allow), /GET/);
    });

    it('lookups with wrong types are rejected without echoing the value', async () => {
      const { key, base } = await seedTenant(t, 'Bad Lookup');
      const res = await t.call('POST', `${base}/search`, { token: key, body: { where: { email: SECRET_NAME } } });
      const p = assertProblem(res, 422, 'record.search_invalid');
      assert.deepEqual(p.problems.map((x: { field: string; code: string }) => [x.field, x.code]), [['email', 'record.invalid_email']]);
      assertNotEchoed(res, SECRET_NAME);
      const badName = await t.call('POST', `${base}/search`, { token: key, body: { where: { [SECRET_EMAIL]: 'x' } } });
      assertProblem(badName, 400, 'request.validation_failed');
    });

    it('every error carries a requestId equal to the x-request-id header, unique per request', async () => {
      const { key, base } = await seedTenant(t, 'Request Ids');
      const responses = [
        await raw(key, 'POST', base, '{', 'application/json'),
        await t.call('POST', base, { token: key, body: { data: { name: 1 } } }),
        await t.call('GET', `${base}/00000000-0000-4000-8000-000000000000`, { token: key }),
        await t.app.inject({ method: 'GET', url: '/v1/tenants' }),
        await t.call('GET', '/v1/tenants', { token: 'trk_bad' }),
        await t.call('GET', '/v1/none', { token: key }),
      ];
      const ids = responses.map((res) => {
        assert.ok(res.statusCode >= 400);
        const body = assertProblem(res, res.statusCode, res.json().code);
        assert.match(body.requestId, /^[0-9a-f-]{36}$/);
        return body.requestId;
      });
      assert.equal(new Set(ids).size, ids.length);
      await assertEmpty(key, base);
    });
  });
}
