import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { assertProblem } from '../helpers/problem.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';


const line = (data: unknown) => JSON.stringify({ data });
const BATCH = 100;

for (const backend of backends) {
  describe(`NDJSON import [${backend}]`, () => {
    let t: TestApp;
    // A small batch size so that a modest file spans many batches.
    before(async () => { t = await startTestApp(backend, { env: { TRESOR_IMPORT_BATCH: String(BATCH) } }); });
    after(async () => t.close());

    const importNdjson = (key: string, base: string, body: string, contentType = 'application/x-ndjson') =>
      t.call('POST', `${base}/import`, { token: key, body, headers: { 'content-type': contentType } });
    const found = async (key: string, base: string, where: Record<string, unknown>) => {
      const res = await t.call('POST', `${base}/search`, { token: key, body: { where } });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items as Array<{ id: string; data: Record<string, unknown> }>;
    };
    const listAll = async (key: string, base: string) => {
      const items: Array<{ id: string; data: Record<string, unknown> }> = [];
      let cursor: string | null = null;
      do {
        const res = await t.call('GET', `${base}?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: key });
        assert.equal(res.statusCode, 200, res.body);
        items.push(...res.json().items);
        cursor = res.json().nextCursor;
      } while (cursor);
      return items;
    };

    it('imports good lines and reports bad ones by 1-based line number, code and field, never by value', async () => {
      const { key, base } = await seedTenant(t, 'Import Mixed');
      const existing = await t.call('POST', base, { token: key, body: { data: { email: 'already-5150@example.org', name: 'Existing' } } });
      assert.equal(existing.statusCode, 201);
      const body = [
        line({ email: 'ok-1@example.org', name: 'Import One', phone: '+44 20 7946 0101' }), // 1
        '{"data": {"email": "broken-8086@example.org", "name": ', //                          2 invalid JSON
        JSON.stringify({ record: { name: 'shape-6502' } }), //                                 3 not {data}
        JSON.stringify({ data: { name: 'extra-6809' }, id: 'x' }), //                          4 extra top-level key
        line({ email: 'not-an-email-z80', name: 'Bad Email' }), //                              5 validation
        line({ email: 'OK-1@example.org', name: 'Dup In File' }), //                            6 duplicate of line 1
        line({ email: 'already-5150@example.org', name: 'Dup Existing' }), //                   7 taken by an existing record
        line({ email: 'ok-2@example.org', name: 'Import Two' }), //                             8
        '[1, 2, 3]', //                                                                         9 not an object
      ].join('\n');
      const res = await importNdjson(key, base, body);
      assert.equal(res.statusCode, 200, res.body);
      const result = res.json();
      assert.equal(result.imported, 2);
      assert.equal(result.rejectedCount, 7);
      assert.deepEqual(result.rejected, [
        { line: 2, code: 'import.invalid_json' },
        { line: 3, code: 'import.invalid_line' },
        { line: 4, code: 'import.invalid_line' },
        { line: 5, code: 'record.invalid_email', field: 'email' },
        { line: 6, code: 'record.unique_violation', field: 'email' },
        { line: 7, code: 'record.unique_violation', field: 'email' },
        { line: 9, code: 'import.invalid_line' },
      ]);
      for (const value of ['ok-1', 'broken-8086', 'shape-6502', 'extra-6809', 'z80', 'Dup In File', 'already-5150', 'ok-2']) {
        assert.ok(!res.body.toLowerCase().includes(value.toLowerCase()), `response echoes '${value}'`);
      }
      const all = await listAll(key, base);
      assert.deepEqual(all.map((r) => r.data.name).sort(), ['Existing', 'Import One', 'Import Two']);
      const [one] = await found(key, base, { phone: '00442079460101' });
      assert.deepEqual(one.data, { email: 'ok-1@example.org', name: 'Import One', phone: '+442079460101' });
      const got = await t.call('GET', `${base}/${one.id}`, { token: key });
      assert.equal(got.statusCode, 200);
      assert.equal(got.json().version, 1);
      assert.equal((await found(key, base, { email: 'already-5150@example.org' }))[0].data.name, 'Existing', 'the existing record is untouched');
    });

    it('skips blank lines but keeps counting them, and accepts CRLF line ends', async () => {
      const { key, base } = await seedTenant(t, 'Import Blank');
      const body = ['', line({ name: 'After Blank' }), '   ', '\t', line({ name: 7 }), '', line({ name: 'Last' }), ''].join('\r\n');
      const res = await importNdjson(key, base, body);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { imported: 2, rejectedCount: 1, rejected: [{ line: 5, code: 'record.invalid_type', field: 'name' }] });
      assert.deepEqual((await listAll(key, base)).map((r) => r.data.name).sort(), ['After Blank', 'Last']);
    });

    it('an empty file imports nothing', async () => {
      const { key, base } = await seedTenant(t, 'Import Empty');
      const res = await importNdjson(key, base, '\n\n');
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { imported: 0, rejectedCount: 0, rejected: [] });
      assert.deepEqual(await listAll(key, base), []);
    });

    it(`imports a 2,500-line file across many batches of ${BATCH}, with duplicates spanning batches`, async () => {
      const { key, base } = await seedTenant(t, 'Import Big');
      const lines: string[] = [];
      for (let i = 1; i <= 2500; i++) lines.push(line({ email: `user${i}@example.org`, name: `User ${i}`, tier: i % 2 ? 'odd' : 'even' }));
      lines.push(line({ email: 'USER3@example.org', name: 'Late duplicate' })); // line 2501, duplicates line 3 from the first batch
      const res = await importNdjson(key, base, lines.join('\n') + '\n');
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { imported: 2500, rejectedCount: 1, rejected: [{ line: 2501, code: 'record.unique_violation', field: 'email' }] });
      const all = await listAll(key, base);
      assert.equal(all.length, 2500);
      assert.equal(new Set(all.map((r) => r.data.email)).size, 2500);
      for (const i of [1, 100, 101, 1234, 2500]) {
        const hits = await found(key, base, { email: `USER${i}@example.org` });
        assert.equal(hits.length, 1);
        assert.equal(hits[0].data.name, `User ${i}`);
      }
      // A second import of the same file finds every value taken, across all batches.
      const again = await importNdjson(key, base, lines.slice(0, 250).join('\n'));
      assert.equal(again.json().imported, 0);
      assert.equal(again.json().rejectedCount, 250);
      assert.ok(again.json().rejected.every((r: { code: string }) => r.code === 'record.unique_violation'));
      assert.equal((await listAll(key, base)).length, 2500);
    });

    it('application/json on the import route answers 415 and imports nothing', async () => {
      const { key, base } = await seedTenant(t, 'Import JSON');
      const res = await importNdjson(key, base, line({ name: 'Nope' }), 'application/json');
      assertProblem(res, 415, 'request.unsupported_media_type');
      assertProblem(await importNdjson(key, base, line({ name: 'Nope' }), 'text/plain'), 415, 'request.unsupported_media_type');
      assert.deepEqual(await listAll(key, base), []);
    });

    it('a viewer cannot import (403) and nothing is written', async () => {
      const { key, adminKey, base } = await seedTenant(t, 'Import Viewer', 'viewer');
      assertProblem(await importNdjson(key, base, line({ name: 'Viewer line' })), 403, 'auth.forbidden');
      assert.deepEqual(await listAll(adminKey, base), []);
    });

    it('an editor can import', async () => {
      const { key, base } = await seedTenant(t, 'Import Editor', 'editor');
      const res = await importNdjson(key, base, line({ name: 'Editor line' }));
      assert.equal(res.json().imported, 1);
    });

    it('importing into an unknown collection or another tenant answers 404', async () => {
      const a = await seedTenant(t, 'Import A');
      const b = await seedTenant(t, 'Import B');
      const missing = a.base.replace('/customers/', '/nope/');
      assertProblem(await importNdjson(a.key, missing, line({ name: 'x' })), 404, 'collection.not_found');
      assertProblem(await importNdjson(b.key, a.base, line({ name: 'Foreign' })), 404, 'tenant.not_found');
      assert.deepEqual(await listAll(a.key, a.base), []);
      assert.deepEqual(await listAll(b.key, b.base), []);
    });

    it('still validates the URL: a malformed tenant id or collection name answers 400, and the API docs describe the NDJSON body', async () => {
      const { key, tenantId } = await seedTenant(t, 'Import Params');
      assertProblem(await importNdjson(key, '/v1/tenants/not-a-uuid/collections/customers/records', line({ name: 'x' })), 404, 'tenant.not_found');
      assertProblem(await importNdjson(key, `/v1/tenants/${tenantId}/collections/Bad-Name/records`, line({ name: 'x' })), 400, 'request.validation_failed');
      const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const op = doc.paths['/v1/tenants/{tenantId}/collections/{name}/records/import'].post;
      assert.ok(op.requestBody.content['application/x-ndjson'], 'the import body is documented as NDJSON');
    });
  });
}
