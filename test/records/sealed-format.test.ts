// One seal per record (defect 7 and the speed lever of issue 13): values of
// different lengths within a 32-byte bucket store the same number of bytes,
// and rows in the first, per-field format still read and are converted by the
// re-encryption job.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { v7 as uuidv7 } from 'uuid';
import { encryptValue, fieldAad } from '../../src/crypto/envelope.ts';
import { indexHash } from '../../src/records/record-codec.ts';
import type { FieldDef } from '../../src/collections/collection-definition.ts';
import { backends } from '../helpers/backends.ts';
import { customersCollection, seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

for (const backend of backends) {
  describe(`sealed record format [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend, { env: { TRESOR_KEY_CACHE_TTL_MS: '100' } }); });
    after(async () => t.close());

    it('stores the same ciphertext length for true and false, and for 1- and 20-character strings', async () => {
      const s = await seedTenant(t, 'Lengths');
      const res = await t.call('POST', `/v1/tenants/${s.tenantId}/collections`, { token: s.adminKey, body: { name: 'flags', fields: [
        { name: 'flag', type: 'boolean', classification: 'special' }, { name: 'note', type: 'string', classification: 'personal' },
      ] } });
      assert.equal(res.statusCode, 201, res.body);
      const base = `/v1/tenants/${s.tenantId}/collections/flags/records`;
      const ids: string[] = [];
      for (const data of [{ flag: true }, { flag: false }, { note: 'a' }, { note: 'x'.repeat(20) }]) {
        const created = await t.call('POST', base, { token: s.key, body: { data } });
        assert.equal(created.statusCode, 201, created.body);
        ids.push(created.json().id);
        assert.deepEqual((await t.call('GET', `${base}/${created.json().id}`, { token: s.key })).json().data, data);
      }
      const rows = await t.store.db.withTenant(s.tenantId, (tx) =>
        tx.query<{ n: number; enc: unknown }>('select octet_length(sealed) as n, enc from records where id in (select jsonb_array_elements_text($1::text::jsonb)::uuid) order by id', [JSON.stringify(ids)]));
      assert.equal(rows.length, 4);
      assert.deepEqual(new Set(rows.map((r) => r.n)).size, 1, `lengths: ${rows.map((r) => r.n)}`);
      assert.equal(rows[0].n, 12 + 64 + 16, 'nonce, the 64-byte minimum, tag');
      for (const r of rows) assert.deepEqual(r.enc, {});
    });

    it('reads a row in the per-field format and the job seals it', async () => {
      const s = await seedTenant(t, 'Legacy');
      const c = (await t.call('GET', `/v1/tenants/${s.tenantId}/collections/customers`, { token: s.key })).json();
      const data = { email: 'old@legacy.example', name: 'Old Format', phone: '+442079460958', tier: 'gold' };
      const id = uuidv7();
      // Written as the first format did: each encrypted field sealed alone, AAD with the field name.
      await t.store.db.withTenant(s.tenantId, async (tx) => {
        const ring = await t.services.keys.ringFor(tx, s.tenantId);
        const enc: Record<string, string> = {};
        for (const f of ['email', 'name', 'phone'] as const) {
          const aad = fieldAad({ tenantId: s.tenantId, collection: c.id, recordId: id, field: f, keyVersion: ring.activeVersion });
          enc[f] = encryptValue(ring.data.get(ring.activeVersion)!, Buffer.from(JSON.stringify(data[f])), aad).toString('base64');
        }
        await tx.query('insert into records (tenant_id, id, collection_id, key_version, enc, plain) values ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb)',
          [s.tenantId, id, c.id, ring.activeVersion, JSON.stringify(enc), JSON.stringify({ tier: data.tier })]);
        const defs = customersCollection.fields as unknown as FieldDef[];
        for (const f of ['email', 'phone'] as const) {
          const def = { ...defs.find((d) => d.name === f)!, searchable: true } as FieldDef;
          await tx.query("insert into record_index (tenant_id, collection_id, record_id, field, hash, is_unique) values ($1, $2, $3, $4, decode($5, 'hex'), $6)",
            [s.tenantId, c.id, id, f, indexHash(ring, c.id, def, data[f]), f === 'email']);
        }
      });
      const read = async () => {
        const res = await t.call('GET', `${s.base}/${id}`, { token: s.key });
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json().data, data);
      };
      await read();
      const found = await t.call('POST', `${s.base}/search`, { token: s.key, body: { where: { email: data.email } } });
      assert.deepEqual(found.json().items.map((r: { id: string }) => r.id), [id]);

      // What migration 0003 does for every tenant that had records: ask the job to convert them.
      await t.store.db.query('update tenants set reencrypt_requested_at = now() where id = $1', [s.tenantId]);
      await t.services.jobs.kick('rotation');
      await t.services.rotation.idle();
      const [row] = await t.store.db.withTenant(s.tenantId, (tx) =>
        tx.query<{ sealed: boolean; enc: unknown }>('select sealed is not null as sealed, enc from records where id = $1', [id]));
      assert.deepEqual({ ...row }, { sealed: true, enc: {} });
      const [pending] = await t.store.db.query<{ since: unknown }>('select reencrypt_requested_at as since from tenants where id = $1', [s.tenantId]);
      assert.equal(pending.since, null, 'the job cleared the request once every row was sealed');
      await read();
      const patched = await t.call('PATCH', `${s.base}/${id}`, { token: s.key, body: { data: { name: 'New Format' } } });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.deepEqual(patched.json().data, { ...data, name: 'New Format' });
    });
  });
}
