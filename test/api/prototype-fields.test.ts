// Defect 6: a field whose name exists on Object.prototype is an ordinary field.
// Names like `toString` or `__proto__` never pass the field-name pattern
// (lower case, leading letter); `constructor` does, and used to make every
// write answer 500 (values.constructor read Object's own constructor).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

for (const backend of backends) {
  describe(`fields named like Object.prototype members [${backend}]`, () => {
    let t: TestApp;
    let key: string;
    let base: string;
    before(async () => {
      t = await startTestApp(backend);
      const tenant = (await t.call('POST', '/v1/tenants', { body: { name: 'Proto' } })).json();
      key = (await t.call('POST', `/v1/tenants/${tenant.id}/api-keys`, { body: { name: 'admin', role: 'admin' } })).json().key;
      const res = await t.call('POST', `/v1/tenants/${tenant.id}/collections`, { token: key, body: { name: 'things', fields: [
        { name: 'constructor', type: 'string', searchable: true },
        { name: 'valueof', type: 'string', unique: true },
        { name: 'label', type: 'string', classification: 'none' },
      ] } });
      assert.equal(res.statusCode, 201, res.body);
      base = `/v1/tenants/${tenant.id}/collections/things/records`;
    });
    after(async () => t.close());

    it('refuses names that are not lower-case identifiers at definition (toString, __proto__, hasOwnProperty)', async () => {
      const tenantId = base.split('/')[3];
      for (const name of ['toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
        const res = await t.call('POST', `/v1/tenants/${tenantId}/collections`, { token: key, body: { name: `c${name.length}`, fields: [{ name, type: 'string' }] } });
        assert.equal(res.statusCode, 422, res.body);
      }
    });

    it('creates, reads, patches, lists, searches and imports records with a `constructor` field', async () => {
      const created = await t.call('POST', base, { token: key, body: { data: { label: 'only plain' } } });
      assert.equal(created.statusCode, 201, created.body);
      assert.deepEqual(created.json().data, { label: 'only plain' });

      const full = await t.call('POST', base, { token: key, body: { data: { constructor: 'Ada', valueof: 'v1', label: 'x' } } });
      assert.equal(full.statusCode, 201, full.body);
      const id = full.json().id;
      assert.deepEqual((await t.call('GET', `${base}/${id}`, { token: key })).json().data, { constructor: 'Ada', valueof: 'v1', label: 'x' });

      const patched = await t.call('PATCH', `${base}/${id}`, { token: key, body: { data: { constructor: 'Grace' } } });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.deepEqual(patched.json().data, { constructor: 'Grace', valueof: 'v1', label: 'x' });
      const cleared = await t.call('PATCH', `${base}/${created.json().id}`, { token: key, body: { data: { label: 'still plain' } } });
      assert.equal(cleared.statusCode, 200, cleared.body);
      assert.deepEqual(cleared.json().data, { label: 'still plain' });

      const found = await t.call('POST', `${base}/search`, { token: key, body: { where: { constructor: 'Grace' } } });
      assert.equal(found.statusCode, 200, found.body);
      assert.deepEqual(found.json().items.map((r: { id: string }) => r.id), [id]);

      const dup = await t.call('POST', base, { token: key, body: { data: { valueof: 'v1' } } });
      assert.equal(dup.statusCode, 409, dup.body);

      // Another tenant imports through the same encode pool at the same time: neither import may fail the other.
      const other = await seedTenant(t, 'Proto neighbour');
      const ndjson = { 'content-type': 'application/x-ndjson' };
      const lines = [{ constructor: 'Imported', valueof: 'v2' }, { label: 'no constructor' }].map((data) => JSON.stringify({ data })).join('\n');
      const neighbourLines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ data: { email: `n${i}@neighbour.example`, name: `N ${i}` } })).join('\n');
      const [imp, neighbour] = await Promise.all([
        t.call('POST', `${base}/import`, { token: key, body: lines, headers: ndjson }),
        t.call('POST', `${other.base}/import`, { token: other.key, body: neighbourLines, headers: ndjson }),
      ]);
      assert.deepEqual(imp.json(), { imported: 2, rejected: [], rejectedCount: 0 });
      assert.deepEqual(neighbour.json(), { imported: 50, rejected: [], rejectedCount: 0 });

      const list = await t.call('GET', `${base}?limit=10`, { token: key });
      assert.equal(list.statusCode, 200, list.body);
      const byText = (d: Record<string, string>) => `${d.constructor ?? ''}|${d.label ?? ''}`;
      const expected: Array<Record<string, string>> = [
        { label: 'no constructor' }, { label: 'still plain' }, { constructor: 'Grace', valueof: 'v1', label: 'x' }, { constructor: 'Imported', valueof: 'v2' },
      ];
      assert.deepEqual(list.json().items.map((r: { data: Record<string, string> }) => r.data).sort((a: any, b: any) => byText(a).localeCompare(byText(b))), expected);
    });
  });
}
