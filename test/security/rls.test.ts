// Row-level security is the last line of client separation (M1.3, I8): even
// SQL written inside a tenant transaction without any WHERE must only ever see
// and change that tenant's rows.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { backends } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';

const TABLES = ['records', 'collections', 'record_index', 'tenant_keys'] as const;

for (const backend of backends) {
  describe(`row-level security [${backend}]`, () => {
    let t: TestApp;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let b: Awaited<ReturnType<typeof seedTenant>>;
    const bRecords: string[] = [];
    let bCollectionId: string;

    before(async () => {
      t = await startTestApp(backend);
      a = await seedTenant(t, 'Tenant A');
      b = await seedTenant(t, 'Tenant B');
      for (const [seed, prefix, out] of [[a, 'a', null], [b, 'b', bRecords]] as const) {
        for (let i = 0; i < 3; i++) {
          const res = await t.call('POST', seed.base, { token: seed.key,
            body: { data: { email: `${prefix}${i}@rls.example`, name: `${prefix} person ${i}`, phone: '+4930901820', tier: `${prefix}-tier` } } });
          assert.equal(res.statusCode, 201, res.body);
          out?.push(res.json().id);
        }
      }
      // Platform context (no tenant, not the app role) to learn B's collection id.
      bCollectionId = (await t.store.db.query<{ id: string }>('select id from collections where tenant_id = $1', [b.tenantId]))[0]!.id;
    });
    after(async () => t.close());

    for (const table of TABLES) {
      it(`${table}: tenant A's context returns A's rows and none of B's`, async () => {
        const rows = await t.store.db.withTenant(a.tenantId, (tx) => tx.query<{ tenant_id: string }>(`select * from ${table}`));
        assert.ok(rows.length > 0, `expected A to see its own ${table} rows`);
        assert.deepEqual([...new Set(rows.map((r) => r.tenant_id))], [a.tenantId]);
        const platform = await t.store.db.query<{ n: number }>(`select count(*)::int as n from ${table} where tenant_id = $1`, [b.tenantId]);
        assert.ok(platform[0]!.n > 0, `B must have ${table} rows for this check to mean anything`);
      });

      it(`${table}: an empty or unknown tenant context sees nothing`, async () => {
        for (const tenant of ['', randomUUID()]) {
          // Refusing a malformed tenant id outright is as good as seeing nothing.
          const rows = await t.store.db.withTenant(tenant, (tx) => tx.query(`select * from ${table}`)).catch(() => []);
          assert.equal(rows.length, 0, `context '${tenant}' saw ${rows.length} ${table} rows`);
        }
      });
    }

    it('runs tenant transactions as tresor_app, neither superuser nor BYPASSRLS, from the first statement on', async () => {
      // The first statement matters: on postgres the context query is pipelined with it.
      const [role] = await t.store.db.withTenant(a.tenantId, (tx) => tx.query<{ rolname: string; rolsuper: boolean; rolbypassrls: boolean }>(
        "select rolname, rolsuper, rolbypassrls, current_setting('app.tenant_id', true) as tenant from pg_roles where rolname = current_user"));
      assert.deepEqual({ ...role }, { rolname: 'tresor_app', rolsuper: false, rolbypassrls: false, tenant: a.tenantId });
    });

    it('puts statements fired in parallel at the start of the callback under the context too', async () => {
      const who = await t.store.db.withTenant(a.tenantId, (tx) => Promise.all([1, 2, 3].map(() =>
        tx.query<{ who: string; n: number }>('select current_user as who, (select count(*)::int from records) as n'))));
      assert.deepEqual(who.map((r) => ({ ...r[0] })), [1, 2, 3].map(() => ({ who: 'tresor_app', n: 3 })));
    });

    it('does not carry the tenant context or role past the transaction', async () => {
      await t.store.db.withTenant(a.tenantId, (tx) => tx.query('select 1'));
      const [after] = await t.store.db.query<{ who: string; tenant: string | null }>(
        "select current_user as who, current_setting('app.tenant_id', true) as tenant");
      assert.notEqual(after!.who, 'tresor_app');
      assert.ok(!after!.tenant, `app.tenant_id leaked: ${after!.tenant}`);
    });

    it("refuses to insert a row for tenant B from A's context (42501)", async () => {
      await assert.rejects(
        t.store.db.withTenant(a.tenantId, (tx) => tx.query(
          `insert into records (tenant_id, id, collection_id, key_version, enc, plain) values ($1, $2, $3, 1, '{}', '{}')`,
          [b.tenantId, randomUUID(), bCollectionId])),
        { code: '42501' });
      await assert.rejects(
        t.store.db.withTenant(a.tenantId, (tx) => tx.query(
          "insert into collections (tenant_id, id, name, fields) values ($1, $2, 'planted', '[]')", [b.tenantId, randomUUID()])),
        { code: '42501' });
      const planted = await t.store.db.query('select 1 from collections where name = $1', ['planted']);
      assert.equal(planted.length, 0);
    });

    it("refuses to move A's own row over to tenant B (42501)", async () => {
      await assert.rejects(
        t.store.db.withTenant(a.tenantId, (tx) => tx.query('update records set tenant_id = $1', [b.tenantId])),
        { code: '42501' });
    });

    it("cannot update or delete B's rows from A's context; B reads them unchanged", async () => {
      const before = (await t.call('GET', `${b.base}/${bRecords[0]}`, { token: b.key })).json();
      const touched = await t.store.db.withTenant(a.tenantId, async (tx) => ({
        targeted: (await tx.query(`update records set plain = '{"tier":"hijacked"}' where tenant_id = $1 returning id`, [b.tenantId])).length,
        byId: (await tx.query(`update records set version = version + 100 where id in (select jsonb_array_elements_text($1::text::jsonb)::uuid) returning id`, [JSON.stringify(bRecords)])).length,
        deleted: (await tx.query('delete from records where tenant_id = $1 returning id', [b.tenantId])).length,
        unscoped: (await tx.query<{ tenant_id: string }>('update records set version = version returning tenant_id')),
      }));
      assert.equal(touched.targeted, 0);
      assert.equal(touched.byId, 0);
      assert.equal(touched.deleted, 0);
      assert.equal(touched.unscoped.length, 3, 'an unscoped UPDATE touches exactly A\'s three rows');
      assert.ok(touched.unscoped.every((r) => r.tenant_id === a.tenantId));
      const afterRes = await t.call('GET', `${b.base}/${bRecords[0]}`, { token: b.key });
      assert.equal(afterRes.statusCode, 200);
      assert.deepEqual(afterRes.json(), before);
      assert.equal(afterRes.json().data.tier, 'b-tier');
      const list = (await t.call('GET', b.base, { token: b.key })).json();
      assert.equal(list.items.length, 3);
    });

    it("A's API key cannot reach B's records (404, not 403)", async () => {
      const res = await t.call('GET', `${b.base}/${bRecords[0]}`, { token: a.key });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().code, 'tenant.not_found');
    });
  });
}
