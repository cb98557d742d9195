// Field masking: a collection's `mask` decides what a role without
// records.unmask (viewer, and support under a grant) sees on every read path.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { type TestApp, startTestApp } from '../helpers/test-app.ts';
import { maskValue } from '../../src/access/masking.ts';
import type { FieldDef } from '../../src/collections/collection-definition.ts';

const field = (type: FieldDef['type'], mask: FieldDef['mask']): FieldDef =>
  ({ name: 'f', type, mask, required: false, searchable: false, unique: false, classification: 'personal' });

describe('mask forms', () => {
  it('partial keeps the e-mail domain and first letter, a phone\'s last four digits, a date\'s year, a long string\'s last four', () => {
    assert.equal(maskValue(field('email', 'partial'), 'jane.doe@example.com'), 'j***@example.com');
    assert.equal(maskValue(field('phone', 'partial'), '+442079460958'), '***0958');
    assert.equal(maskValue(field('date', 'partial'), '1815-12-10'), '1815-**-**');
    assert.equal(maskValue(field('string', 'partial'), 'DE89370400440532013000'), '***3000');
    assert.equal(maskValue(field('string', 'partial'), 'Ada'), '***', 'short strings are hidden whole');
    assert.equal(maskValue(field('number', 'partial'), 42), '***');
    assert.equal(maskValue(field('boolean', 'partial'), true), '***');
    assert.equal(maskValue(field('json', 'partial'), { street: 'x' }), '***');
  });

  it('full hides every type; none and no mask show the value; an unset value stays unset', () => {
    for (const [type, value] of [['email', 'a@b.example'], ['string', 'Ada Lovelace'], ['number', 7], ['json', { a: 1 }]] as const) {
      assert.equal(maskValue(field(type, 'full'), value), '***');
      assert.deepEqual(maskValue(field(type, 'none'), value), value);
      assert.deepEqual(maskValue(field(type, undefined), value), value);
    }
    assert.equal(maskValue(field('email', 'full'), null), null);
  });
});

for (const backend of backends) {
  describe(`masked fields on every read path [${backend}]`, () => {
    let t: TestApp;
    let base: string;
    const keys: Record<string, string> = {};
    const ada = { email: 'ada.lovelace@example.com', name: 'Ada Lovelace', phone: '+44 20 7946 0958', birthdate: '1815-12-10',
      iban: 'DE89370400440532013000', tier: 'gold', score: 42 };
    const masked = { email: 'a***@example.com', name: '***', phone: '***0958', birthdate: '1815-**-**', iban: '***3000', tier: 'gold', score: '***' };
    let id: string;

    before(async () => {
      t = await startTestApp(backend);
      const tenant = (await t.call('POST', '/v1/tenants', { body: { name: 'Masks' } })).json();
      for (const role of ['owner', 'admin', 'editor', 'viewer']) {
        keys[role] = (await t.call('POST', `/v1/tenants/${tenant.id}/api-keys`, { body: { name: role, role } })).json().key;
      }
      const res = await t.call('POST', `/v1/tenants/${tenant.id}/collections`, { token: keys.admin, body: { name: 'people', fields: [
        { name: 'email', type: 'email', unique: true, mask: 'partial' },
        { name: 'name', type: 'string', mask: 'full' },
        { name: 'phone', type: 'phone', searchable: true, mask: 'partial' },
        { name: 'birthdate', type: 'date', mask: 'partial' },
        { name: 'iban', type: 'string', mask: 'partial' },
        { name: 'tier', type: 'string', classification: 'none', mask: 'none' },
        { name: 'score', type: 'number', mask: 'partial' },
      ] } });
      assert.equal(res.statusCode, 201, res.body);
      base = `/v1/tenants/${tenant.id}/collections/people/records`;
      const created = await t.call('POST', base, { token: keys.editor, body: { data: ada } });
      assert.equal(created.statusCode, 201, created.body);
      id = created.json().id;
    });
    after(() => t.close());

    const expectedFull = { ...ada, email: 'ada.lovelace@example.com', phone: '+442079460958' };

    it('a viewer reads masked values from get, list and search; the stored record is unchanged', async () => {
      assert.deepEqual((await t.call('GET', `${base}/${id}`, { token: keys.viewer })).json().data, masked);
      assert.deepEqual((await t.call('GET', base, { token: keys.viewer })).json().items[0].data, masked);
      const found = await t.call('POST', `${base}/search`, { token: keys.viewer, body: { where: { email: 'ada.lovelace@example.com' } } });
      assert.deepEqual(found.json().items.map((r: { data: unknown }) => r.data), [masked]);
      // The values are only in data; the rest of the answer is ids, times and counters (where '12-10' or '7946' may occur by chance).
      const { data, ...meta } = (await t.call('GET', `${base}/${id}`, { token: keys.viewer })).json();
      for (const [k, v] of Object.entries(meta)) {
        assert.ok(typeof v === 'number' || /^[0-9a-f-]{36}$|^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(String(v)), `${k} is an id, a time or a number: ${v}`);
      }
      for (const secret of ['lovelace', 'Lovelace', '7946', '12-10', '0532013']) assert.ok(!JSON.stringify(data).includes(secret), `viewer answer holds no '${secret}'`);
    });

    it('roles with records.unmask read values whole on every path, and the answers of create and update are whole too', async () => {
      for (const role of ['owner', 'admin', 'editor']) {
        assert.deepEqual((await t.call('GET', `${base}/${id}`, { token: keys[role] })).json().data, expectedFull, role);
        assert.deepEqual((await t.call('GET', base, { token: keys[role] })).json().items[0].data, expectedFull, role);
      }
      const updated = await t.call('PATCH', `${base}/${id}`, { token: keys.editor, body: { data: { tier: 'silver' } } });
      assert.deepEqual(updated.json().data, { ...expectedFull, tier: 'silver' });
      assert.deepEqual((await t.call('GET', `${base}/${id}`, { token: keys.viewer })).json().data, { ...masked, tier: 'silver' });
    });
  });
}
