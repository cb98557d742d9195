// One request must not exhaust the server: strings, JSON values, records,
// list pages and import lines are bounded by documented settings (small here,
// so the tests stay quick), and imports stay cheap on pathological files.
// Text is Unicode-normalised (NFC) before validation, storage and the blind index.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { assertProblem } from '../helpers/problem.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

const RECORD_MAX = 4096;
const env = {
  TRESOR_DEFAULT_MAX_LENGTH: '50', TRESOR_JSON_MAX_BYTES: '2048', TRESOR_RECORD_MAX_BYTES: String(RECORD_MAX),
  TRESOR_PAGE_MAX_BYTES: '8192', TRESOR_IMPORT_LINE_MAX_BYTES: '8192', TRESOR_IMPORT_BATCH: '3', TRESOR_IMPORT_DEDUP_MAX: '1',
  TRESOR_LIST_DEFAULT_LIMIT: '2', TRESOR_LIST_MAX_LIMIT: '3',
};
const line = (data: unknown) => JSON.stringify({ data });
const wide = {
  name: 'notes',
  fields: [{ name: 'title', type: 'string' }, { name: 'extra', type: 'json' }, { name: 'tag', type: 'string', searchable: true },
    ...['a', 'b', 'c'].map((name) => ({ name, type: 'string', maxLength: 2000 }))],
};

for (const backend of backends) {
  describe(`bounds [${backend}]`, () => {
    let t: TestApp;
    let key: string;
    let base: string;
    before(async () => {
      t = await startTestApp(backend, { env });
      const seeded = await seedTenant(t, 'Bounds');
      key = seeded.adminKey;
      base = `/v1/tenants/${seeded.tenantId}/collections/notes/records`;
      const res = await t.call('POST', `/v1/tenants/${seeded.tenantId}/collections`, { token: key, body: wide });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().fields[0].maxLength, 50, 'a string without maxLength gets TRESOR_DEFAULT_MAX_LENGTH');
    });
    after(async () => t.close());

    const create = (data: unknown) => t.call('POST', base, { token: key, body: { data } });
    const problemCodes = (res: { json(): { problems: Array<{ code: string }> } }) => res.json().problems.map((p) => p.code);
    const importNdjson = (body: string | Buffer, at = base, token = key) =>
      t.app.inject({ method: 'POST', url: `${at}/import`, payload: body,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' } });

    it('a string field without maxLength is bounded by the default', async () => {
      assert.equal((await create({ title: 'x'.repeat(50) })).statusCode, 201);
      const res = assertProblem(await create({ title: 'x'.repeat(51) }), 422, 'record.validation_failed');
      assert.deepEqual(res.problems.map((p: { code: string; field: string }) => [p.field, p.code]), [['title', 'record.too_long']]);
    });

    it('a json value is bounded by TRESOR_JSON_MAX_BYTES', async () => {
      assert.equal((await create({ title: 'j', extra: { v: 'x'.repeat(2000) } })).statusCode, 201);
      const res = await create({ title: 'j', extra: { v: 'x'.repeat(2100) } });
      assertProblem(res, 422, 'record.validation_failed');
      assert.deepEqual(problemCodes(res), ['record.too_long']);
    });

    it('a record is bounded by TRESOR_RECORD_MAX_BYTES on create and on patch, and nothing changes', async () => {
      const big = await create({ title: 'big', a: 'x'.repeat(2000), b: 'y'.repeat(2000), c: 'z'.repeat(200) });
      assertProblem(big, 422, 'record.validation_failed');
      assert.deepEqual(problemCodes(big), ['record.too_large']);
      const made = await create({ title: 'grows', a: 'x'.repeat(2000), b: 'y'.repeat(1500) });
      assert.equal(made.statusCode, 201, made.body);
      const { id } = made.json();
      // Each part is fine; the merged record is not.
      const patch = await t.call('PATCH', `${base}/${id}`, { token: key, body: { data: { c: 'z'.repeat(1000) } } });
      assertProblem(patch, 422, 'record.validation_failed');
      assert.deepEqual(problemCodes(patch), ['record.too_large']);
      const after = (await t.call('GET', `${base}/${id}`, { token: key })).json();
      assert.equal(after.version, 1);
      assert.equal(after.data.c, undefined);
    });

    it('a list or search page stops early before it exceeds TRESOR_PAGE_MAX_BYTES, with a cursor, and always holds a record', async () => {
      const { tenantId } = await seedTenant(t, 'Pages');
      const admin = (await t.call('POST', `/v1/tenants/${tenantId}/api-keys`, { body: { name: 'a', role: 'admin' } })).json().key;
      await t.call('POST', `/v1/tenants/${tenantId}/collections`, { token: admin, body: wide });
      const pages = `/v1/tenants/${tenantId}/collections/notes/records`;
      for (let i = 0; i < 5; i++) {
        const res = await t.call('POST', pages, { token: admin, body: { data: { title: `n${i}`, tag: 'big', a: 'x'.repeat(1900), b: 'y'.repeat(1900) } } });
        assert.equal(res.statusCode, 201, res.body);
      }
      const sizes: number[] = [];
      const titles: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await t.call('GET', `${pages}?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: admin });
        assert.equal(res.statusCode, 200, res.body);
        sizes.push(res.json().items.length);
        titles.push(...res.json().items.map((r: { data: { title: string } }) => r.data.title));
        cursor = res.json().nextCursor;
      } while (cursor);
      assert.deepEqual(titles, ['n0', 'n1', 'n2', 'n3', 'n4'], 'every record once, in order');
      assert.ok(sizes.every((n) => n >= 1 && n < 3), `pages of ${sizes.join(', ')}: cut by bytes, not by limit=3`);
      // A search page is cut the same way and continues with its cursor.
      const found: string[] = [];
      let searchPages = 0;
      cursor = null;
      do {
        const res = await t.call('POST', `${pages}/search`, { token: admin, body: { where: { tag: 'big' }, limit: 3, ...(cursor ? { cursor } : {}) } });
        assert.equal(res.statusCode, 200, res.body);
        assert.ok(res.json().items.length >= 1 && res.json().items.length < 3);
        found.push(...res.json().items.map((r: { data: { title: string } }) => r.data.title));
        cursor = res.json().nextCursor;
        searchPages++;
      } while (cursor);
      assert.deepEqual(found, ['n0', 'n1', 'n2', 'n3', 'n4']);
      assert.ok(searchPages >= 3);
    });

    it('strings are NFC-normalised: José typed two ways is one unique value, found either way', async () => {
      const { tenantId } = await seedTenant(t, 'Unicode');
      const admin = (await t.call('POST', `/v1/tenants/${tenantId}/api-keys`, { body: { name: 'a', role: 'admin' } })).json().key;
      const res = await t.call('POST', `/v1/tenants/${tenantId}/collections`, { token: admin,
        body: { name: 'people', fields: [{ name: 'name', type: 'string', unique: true }] } });
      assert.equal(res.statusCode, 201, res.body);
      const at = `/v1/tenants/${tenantId}/collections/people/records`;
      const composed = 'Jos\u00e9';
      const decomposed = 'Jose\u0301';
      const first = await t.call('POST', at, { token: admin, body: { data: { name: decomposed } } });
      assert.equal(first.statusCode, 201, first.body);
      assert.equal(first.json().data.name, composed, 'stored in NFC');
      assertProblem(await t.call('POST', at, { token: admin, body: { data: { name: composed } } }), 409, 'record.unique_violation');
      const imported = await importNdjson(line({ name: composed }), at, admin);
      assert.deepEqual(imported.json().rejected, [{ line: 1, code: 'record.unique_violation', field: 'name' }]);
      for (const spelling of [composed, decomposed]) {
        const hits = (await t.call('POST', `${at}/search`, { token: admin, body: { where: { name: spelling } } })).json().items;
        assert.equal(hits.length, 1, 'found by either spelling');
      }
    });

    it('GET /v1/tenants caps limit at TRESOR_LIST_MAX_LIMIT', async () => {
      for (let i = 0; i < 4; i++) await t.call('POST', '/v1/tenants', { body: { name: `Cap ${i}` } });
      const res = await t.call('GET', '/v1/tenants?limit=1000');
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().items.length, 3);
      assert.ok(res.json().nextCursor);
    });

    it('import: too large records and too long lines are rejected by code, the rest imported', async () => {
      const res = await importNdjson([
        line({ title: 'i1' }),
        line({ title: 'i2', a: 'x'.repeat(2000), b: 'y'.repeat(2000), c: 'z'.repeat(200) }), // record too large
        line({ title: 'i3', a: 'x'.repeat(9000) }), // line too long
        line({ title: 'i4' }),
      ].join('\n'));
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { imported: 2, rejectedCount: 2,
        rejected: [{ line: 2, code: 'record.too_large' }, { line: 3, code: 'import.line_too_long' }] });
    });

    it('import: 20 MB of bare newlines imports nothing and answers', async () => {
      const res = await importNdjson(Buffer.alloc(20 * 1024 * 1024, '\n'));
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { imported: 0, rejectedCount: 0, rejected: [] });
    });

    it('import: a UTF-8 BOM is accepted on line 1 only; invalid UTF-8 is refused, not replaced', async () => {
      const bom = Buffer.from([0xef, 0xbb, 0xbf]);
      const body = Buffer.concat([
        bom, Buffer.from(`${line({ title: 'bom1' })}\n`),
        Buffer.from('{"data": {"title": "bad'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}\n'),
        bom, Buffer.from(`${line({ title: 'bom3' })}\n`),
        Buffer.from(`${line({ title: 'Jos\u00e9' })}\n`),
      ]);
      const res = await importNdjson(body);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { imported: 2, rejectedCount: 2,
        rejected: [{ line: 2, code: 'import.invalid_utf8' }, { line: 3, code: 'import.invalid_json' }] });
    });

    it('import: duplicates beyond the in-file set are still refused by the database', async () => {
      const { tenantId } = await seedTenant(t, 'Dedup');
      const admin = (await t.call('POST', `/v1/tenants/${tenantId}/api-keys`, { body: { name: 'a', role: 'admin' } })).json().key;
      const at = `/v1/tenants/${tenantId}/collections/customers/records`;
      const c = (n: string) => line({ email: `${n}@example.org`, name: n });
      // Batches of 3; the set remembers one value (a): b is caught by the
      // pre-insert check, d (twice in one batch) by the unique index.
      const body = [c('a'), c('b'), c('c'), c('b'), c('d'), c('d'), c('a')].join('\n');
      const res = await t.app.inject({ method: 'POST', url: `${at}/import`, payload: body,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/x-ndjson' } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().imported, 4);
      assert.deepEqual(res.json().rejected.map((r: { line: number; code: string }) => [r.line, r.code]),
        [[4, 'record.unique_violation'], [6, 'record.unique_violation'], [7, 'record.unique_violation']]);
      for (const n of ['a', 'b', 'c', 'd']) {
        const hits = (await t.call('POST', `${at}/search`, { token: admin, body: { where: { email: `${n}@example.org` } } })).json().items;
        assert.equal(hits.length, 1, `${n} stored once`);
      }
    });
  });
}
