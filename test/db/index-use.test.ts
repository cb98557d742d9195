// Under RLS a condition is used as an index condition only if its functions
// are leakproof. A blind-index probe written as `hash = decode(…)` therefore
// scanned the collection's whole index on every import batch (issue 13,
// Speed). These plans are taken as the app role inside withTenant, on a table
// of a few thousand rows, with generic plans forced (as prepared statements
// get after a few runs).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { TAKEN_UNIQUE_SQL, searchQuery } from '../../src/records/records-repo.ts';

const ROWS = 3000;

type PlanNode = { type: string; relation?: string; index?: string; cond?: string };
function nodes(plan: any): PlanNode[] {
  const out: PlanNode[] = [{ type: plan['Node Type'], relation: plan['Relation Name'], index: plan['Index Name'], cond: plan['Index Cond'] }];
  for (const p of plan.Plans ?? []) out.push(...nodes(p));
  return out;
}

for (const backend of backends) {
  describe(`blind-index probes use the index under RLS [${backend}]`, () => {
    let t: TestApp;
    let s: Awaited<ReturnType<typeof seedTenant>>;
    let collectionId: string;
    before(async () => {
      t = await startTestApp(backend);
      s = await seedTenant(t, 'Plans');
      const lines = Array.from({ length: ROWS }, (_, i) => JSON.stringify({ data: { email: `p${i}@plans.example`, name: `P${i}`, phone: '+4930901820' } }));
      const imp = await t.call('POST', `${s.base}/import`, { token: s.key, body: lines.join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
      assert.equal(imp.json().imported, ROWS, imp.body);
      collectionId = (await t.call('GET', `/v1/tenants/${s.tenantId}/collections/customers`, { token: s.key })).json().id;
      await t.store.db.query('analyze');
    });
    after(async () => t.close());

    async function plan(text: string, params: unknown[]) {
      return t.store.db.withTenant(s.tenantId, async (tx) => {
        // Whether the index CAN serve the hash comparison, not whether a small
        // table makes a scan cheaper: scans and hash joins are priced out.
        for (const [k, v] of [['plan_cache_mode', 'force_generic_plan'], ['enable_seqscan', 'off'], ['enable_hashjoin', 'off'], ['enable_mergejoin', 'off']]) {
          await tx.query('select set_config($1, $2, true)', [k, v]);
        }
        const [row] = await tx.query(`explain (format json) ${text}`, params);
        const json = row['QUERY PLAN'];
        return nodes((typeof json === 'string' ? JSON.parse(json) : json)[0].Plan);
      });
    }
    // The hash must be part of the index condition: a scan over the collection's index entries filtered afterwards is the trap.
    const probesIndex = (n: PlanNode[]) => n.some((x) => /^record_index/.test(x.index ?? '') && /hash/.test(x.cond ?? ''));

    it('the import and PATCH unique check probes record_index by index', async () => {
      const hashes = await t.store.db.withTenant(s.tenantId, (tx) =>
        tx.query<{ field: string; hash: string }>("select field, encode(hash, 'hex') as hash from record_index where is_unique limit 50"));
      const n = await plan(TAKEN_UNIQUE_SQL, [collectionId, JSON.stringify(hashes), null]);
      assert.ok(probesIndex(n), JSON.stringify(n));
    });

    it('search probes record_index by index', async () => {
      const [h] = await t.store.db.withTenant(s.tenantId, (tx) =>
        tx.query<{ field: string; hash: string }>("select field, encode(hash, 'hex') as hash from record_index where field = 'email' limit 1"));
      const q = searchQuery(collectionId, [h, { field: 'phone', hash: '00'.repeat(32) }], null, 10);
      const n = await plan(q.text, q.params);
      assert.ok(probesIndex(n), JSON.stringify(n));
    });
  });
}
