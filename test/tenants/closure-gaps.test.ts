// Closure gaps: the pseudonym role's writes are frozen with the rest of a
// closed tenant; a write and a concurrent close serialise on the tenant row;
// and the retention job's selection is served by an index.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';
import { openPostgres } from '../../src/db/postgres-driver.ts';
import { expiredPage } from '../../src/retention/retention-repo.ts';
import type { Db } from '../../src/db/db.ts';

const members = { name: 'members', fields: [{ name: 'email', type: 'email', pseudonymize: true }] };

type PlanNode = { type: string; index?: string; cond?: string };
function nodes(plan: any): PlanNode[] {
  const out: PlanNode[] = [{ type: plan['Node Type'], index: plan['Index Name'], cond: plan['Index Cond'] }];
  for (const p of plan.Plans ?? []) out.push(...nodes(p));
  return out;
}

for (const backend of backends) {
  describe(`closure gaps [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend); });
    after(async () => t.close());

    it('a closed tenant\'s pseudonym key rotation answers 409 tenant.not_active; the pseudonym role cannot write its tables either', async () => {
      const s = await seedTenant(t, 'Pseudo');
      assert.equal((await t.call('POST', `/v1/tenants/${s.tenantId}/collections`, { token: s.adminKey, body: members })).statusCode, 201);
      const rec = await t.call('POST', `/v1/tenants/${s.tenantId}/collections/members/records`, { token: s.key, body: { data: { email: 'a@pseudo.example' } } });
      assert.equal(rec.statusCode, 201, rec.body);
      assert.equal((await t.call('POST', `/v1/tenants/${s.tenantId}/close`)).statusCode, 200);
      const versions = () => t.store.db.withTenant(s.tenantId, async (tx) => {
        await tx.query("select set_config('role', 'tresor_pseudonym', true)");
        return tx.query<{ version: number; status: string }>('select version, status from pseudonym_keys order by version');
      });
      const before = await versions();
      assertProblem(await t.call('POST', `/v1/tenants/${s.tenantId}/pseudonyms/rotate`, { token: s.adminKey }), 409, 'tenant.not_active');
      assert.deepEqual(await versions(), before, 'nothing changed');
      await assert.rejects(t.store.db.withTenant(s.tenantId, async (tx) => {
        await tx.query("select set_config('role', 'tresor_pseudonym', true)");
        await tx.query('delete from pseudonym_map');
      }), { code: 'TR409' });
      assert.equal((await t.call('POST', `/v1/tenants/${s.tenantId}/reopen`)).statusCode, 200);
      assert.equal((await t.call('POST', `/v1/tenants/${s.tenantId}/pseudonyms/rotate`, { token: s.adminKey })).statusCode, 200);
    });

    it('the retention selection (created and updated bases) uses its index with the cutoff as index condition', async () => {
      const s = await seedTenant(t, 'Plans');
      const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ data: { email: `p${i}@plans.example`, name: `P${i}` } }));
      const imp = await t.call('POST', `${s.base}/import`, { token: s.key, body: lines.join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
      assert.equal(imp.json().imported, 500, imp.body);
      const collectionId = (await t.call('GET', `/v1/tenants/${s.tenantId}/collections/customers`, { token: s.key })).json().id;
      await t.store.db.query('analyze records');
      for (const basis of ['created', 'updated'] as const) {
        const plan = await t.store.db.withTenant(s.tenantId, async (tx) => {
          for (const [k, v] of [['plan_cache_mode', 'force_generic_plan'], ['enable_seqscan', 'off']]) await tx.query('select set_config($1, $2, true)', [k, v]);
          const [row] = await tx.query(`explain (format json) ${expiredPage(basis)}`, [collectionId, new Date(0).toISOString(), null, 100]);
          const json = row['QUERY PLAN'];
          return nodes((typeof json === 'string' ? JSON.parse(json) : json)[0].Plan);
        });
        assert.ok(plan.some((n) => n.index === `records_retention_${basis}` && new RegExp(`${basis}_at`).test(n.cond ?? '')), `${basis}: ${JSON.stringify(plan)}`);
      }
    });
  });
}

// Serialisation needs two sessions at once: PostgreSQL only (PGlite runs one
// transaction at a time, so the race cannot happen there).
for (const backend of backends.filter((b) => b === 'postgres')) {
  describe(`a write and a concurrent close serialise on the tenant row [${backend}]`, () => {
    let t: TestApp;
    let other: Db;
    before(async () => {
      t = await startTestApp(backend);
      other = openPostgres({ url: t.store.databaseUrl!, poolMax: 2, connectTimeoutMs: 10_000, statementTimeoutMs: 60_000 });
    });
    after(async () => { await other.close(); await t.close(); });

    /** Resolves once some session of this database waits on a lock (asked of the server, no sleeping), or `done()` holds. */
    async function untilWaiting(done: () => boolean) {
      for (;;) {
        if (done()) return;
        const [{ n }] = await t.store.db.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`);
        if (n > 0) return;
        await new Promise((r) => setImmediate(r));
      }
    }

    const gate = () => {
      let open!: () => void;
      const opened = new Promise<void>((r) => { open = r; });
      return { open, opened };
    };

    it('a write that passed the check holds the close until it commits: the close never lands before it', async () => {
      const s = await seedTenant(t, 'Writer');
      const id = (await t.call('POST', s.base, { token: s.key, body: { data: { email: 'w@race.example', name: 'W', tier: 'gold' } } })).json().id;
      const entered = gate();
      const finish = gate();
      const write = other.withTenant(s.tenantId, async (tx) => {
        await tx.query(`update records set plain = plain || '{"tier":"late"}'::jsonb where id = $1`, [id]);
        entered.open();
        await finish.opened;
      });
      await entered.opened;
      let closed = false;
      const close = t.call('POST', `/v1/tenants/${s.tenantId}/close`).then((r) => { closed = true; return r; });
      await untilWaiting(() => closed);
      assert.equal(closed, false, 'the close waited for the write that had passed the check');
      finish.open();
      await write;
      assert.equal((await close).statusCode, 200);
      const rec = (await t.call('GET', `${s.base}/${id}`, { token: s.key })).json();
      assert.equal(rec.data.tier, 'late');
    });

    it('a write arriving while a close is under way waits for it, then answers 409 tenant.not_active', async () => {
      const s = await seedTenant(t, 'Closer');
      const id = (await t.call('POST', s.base, { token: s.key, body: { data: { email: 'c@race.example', name: 'C', tier: 'gold' } } })).json().id;
      const entered = gate();
      const finish = gate();
      const closing = other.transaction(async (tx) => {
        await tx.query('select id from tenants where id = $1 for update', [s.tenantId]);
        await tx.query("update tenants set status = 'closed', closed_at = now(), purge_after = now() + interval '13 months' where id = $1", [s.tenantId]);
        entered.open();
        await finish.opened;
      });
      await entered.opened;
      let answered = false;
      const patch = t.call('PATCH', `${s.base}/${id}`, { token: s.key, body: { data: { tier: 'late' } } }).then((r) => { answered = true; return r; });
      await untilWaiting(() => answered);
      assert.equal(answered, false, 'the write waited for the close under way');
      finish.open();
      await closing;
      assertProblem(await patch, 409, 'tenant.not_active');
      assert.equal((await t.call('GET', `${s.base}/${id}`, { token: s.key })).json().data.tier, 'gold');
    });
  });
}
