// A record's encrypted fields are sealed together, and the seal is bound to
// tenant, collection, record and key version through the AAD: someone with
// write access to the tables (a DBA, an SQL injection, a restored backup mixed
// with another) who moves a sealed blob to another place must get an error,
// never another record's plaintext.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { backends } from '../helpers/backends.ts';
import { customersCollection, seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

const people = [
  { email: 'ada.aadcheck@example.org', name: 'Ada Aadcheck', birthdate: '1915-12-10', tier: 'gold' },
  { email: 'bob.aadcheck@example.org', name: 'Bob Aadcheck', birthdate: '1920-01-02', tier: 'silver' },
  { email: 'cy.aadcheck@example.org', name: 'Cy Aadcheck', birthdate: '1930-03-04', tier: 'bronze' },
];
const other = { email: 'eve.othertenant@example.org', name: 'Eve Othertenant', birthdate: '1940-05-06' };
const plaintexts = [...people, other].flatMap((p) => [p.email, p.name, p.birthdate, p.email.split('@')[0]!]);

for (const backend of backends) {
  describe(`sealed records are bound to their place [${backend}]`, () => {
    let t: TestApp;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let b: Awaited<ReturnType<typeof seedTenant>>;
    let ids: string[];
    let otherId: string;

    const sealedOf = async (tenantId: string, id: string) =>
      (await t.store.db.withTenant(tenantId, (tx) => tx.query<{ sealed: Uint8Array }>('select sealed from records where id = $1', [id])))[0]!.sealed;
    const setSealed = (id: string, sealed: Uint8Array) =>
      t.store.db.withTenant(a.tenantId, (tx) => tx.query('update records set sealed = $2 where id = $1 returning id', [id, sealed]));
    const get = (id: string) => t.call('GET', `${a.base}/${id}`, { token: a.key });

    function assertFailsCleanly(res: LightMyRequestResponse) {
      assert.equal(res.statusCode, 500, res.body);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      const body = res.json();
      assert.equal(body.code, 'internal.error');
      assert.equal(body.status, 500);
      assert.ok(body.requestId);
      const lower = res.body.toLowerCase();
      for (const p of plaintexts) assert.ok(!lower.includes(p.toLowerCase()), `the error answer leaks '${p}'`);
    }

    async function assertReads(id: string, person: Record<string, string>) {
      const res = await get(id);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().data, person);
    }

    /** Tampers, checks the API refuses, restores, checks the record reads again: the failure came from the move alone. */
    async function tamperAndRestore(id: string, tampered: Uint8Array, check: () => Promise<void>) {
      const original = await sealedOf(a.tenantId, id);
      assert.equal((await setSealed(id, tampered)).length, 1);
      try { await check(); } finally { await setSealed(id, original); }
    }

    before(async () => {
      t = await startTestApp(backend, { env: { TRESOR_KEY_CACHE_TTL_MS: '200', TRESOR_ROTATION_BATCH: '50' } });
      a = await seedTenant(t, 'AAD A');
      b = await seedTenant(t, 'AAD B');
      ids = [];
      for (const p of people) {
        const res = await t.call('POST', a.base, { token: a.key, body: { data: p } });
        assert.equal(res.statusCode, 201, res.body);
        ids.push(res.json().id);
      }
      otherId = (await t.call('POST', b.base, { token: b.key, body: { data: other } })).json().id;
    });
    after(async () => t.close());

    it("refuses R1's sealed blob copied into R2; R1 still reads", async () => {
      const r1 = await sealedOf(a.tenantId, ids[0]!);
      await tamperAndRestore(ids[1]!, r1, async () => {
        assertFailsCleanly(await get(ids[1]!));
        await assertReads(ids[0]!, people[0]!);
        // A PATCH decrypts first, so it must refuse too rather than re-seal the foreign value in place.
        assertFailsCleanly(await t.call('PATCH', `${a.base}/${ids[1]}`, { token: a.key, body: { data: { tier: 'x' } } }));
      });
      await assertReads(ids[1]!, people[1]!);
    });

    it('refuses a sealed blob with one byte flipped or cut short', async () => {
      const r3 = Buffer.from(await sealedOf(a.tenantId, ids[2]!));
      for (const tampered of [Buffer.concat([r3.subarray(0, 20), Buffer.from([r3[20]! ^ 1]), r3.subarray(21)]), r3.subarray(0, r3.length - 1)]) {
        await tamperAndRestore(ids[2]!, tampered, async () => assertFailsCleanly(await get(ids[2]!)));
      }
      await assertReads(ids[2]!, people[2]!);
    });

    it('refuses a record moved to another collection of the same tenant', async () => {
      const res = await t.call('POST', `/v1/tenants/${a.tenantId}/collections`, { token: a.adminKey, body: { ...customersCollection, name: 'clients' } });
      assert.equal(res.statusCode, 201, res.body);
      const move = (to: string) => t.store.db.withTenant(a.tenantId, (tx) =>
        tx.query('update records set collection_id = $2 where id = $1 returning id', [ids[0], to]));
      const customersId = (await t.call('GET', `/v1/tenants/${a.tenantId}/collections/customers`, { token: a.key })).json().id;
      await move(res.json().id);
      try {
        assertFailsCleanly(await t.call('GET', `/v1/tenants/${a.tenantId}/collections/clients/records/${ids[0]}`, { token: a.key }));
      } finally { await move(customersId); }
      await assertReads(ids[0]!, people[0]!);
    });

    it("refuses another tenant's sealed blob planted in this tenant's record", async () => {
      const foreign = await sealedOf(b.tenantId, otherId);
      await tamperAndRestore(ids[1]!, foreign, async () => assertFailsCleanly(await get(ids[1]!)));
      await assertReads(ids[1]!, people[1]!);
    });

    it('refuses a record whose key_version was changed to another (existing or unknown) version', async () => {
      const rotate = await t.call('POST', `/v1/tenants/${a.tenantId}/keys/rotate`, { token: a.adminKey });
      assert.equal(rotate.statusCode, 202, rotate.body);
      await t.services.rotation.idle();
      const setVersion = (v: number) => t.store.db.withTenant(a.tenantId, (tx) =>
        tx.query<{ key_version: number }>('update records set key_version = $2 where id = $1 returning key_version', [ids[0], v]));
      const [now] = await t.store.db.withTenant(a.tenantId, (tx) => tx.query<{ key_version: number }>('select key_version from records where id = $1', [ids[0]]));
      assert.equal(now!.key_version, 2, 'the rotation moved the record to version 2');
      for (const wrong of [1, 3]) {
        await setVersion(wrong);
        try { assertFailsCleanly(await get(ids[0]!)); } finally { await setVersion(2); }
      }
      await assertReads(ids[0]!, people[0]!);
    });
  });
}
