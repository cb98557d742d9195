// Retention policies per collection: records are deleted N days after their
// creation, their last update, or a date field's value, by the retention job
// in bounded batches (one audit entry per batch, ids only), skipping records
// under a legal hold; closed tenants are frozen and left to their purge.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';
import { retentionServiceFactory } from '../../src/retention/retention-service.ts';

const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY);

for (const backend of backends) {
  describe(`retention policies [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend, { env: { TRESOR_RETENTION_BATCH: '3' } }); });
    after(async () => t.close());

    const policyUrl = (tenantId: string, collection = 'customers') => `/v1/tenants/${tenantId}/collections/${collection}/retention`;
    const create = async (s: { base: string; key: string }, data: Record<string, unknown>) => {
      const res = await t.call('POST', s.base, { token: s.key, body: { data } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    };
    // Records made weeks ago cannot be made through the API without waiting:
    // their timestamps are moved back in the database, as time would have.
    const age = (tenantId: string, id: string, at: { created?: Date; updated?: Date }) => t.store.db.transaction(async (tx) => {
      await tx.query("select set_config('app.tenant_id', $1, true)", [tenantId]);
      await tx.query('update records set created_at = coalesce($2, created_at), updated_at = coalesce($3, updated_at) where id = $1',
        [id, at.created ?? null, at.updated ?? null]);
    });
    const exists = async (s: { base: string; key: string }, id: string) => {
      const res = await t.call('GET', `${s.base}/${id}`, { token: s.key });
      assert.ok([200, 404].includes(res.statusCode), res.body);
      return res.statusCode === 200;
    };
    const entries = async (tenantId: string, action: string) =>
      (await t.call('GET', `/v1/tenants/${tenantId}/audit?limit=500&action=${action}`)).json().items.map((i: { entry: unknown }) => i.entry);

    it('sets, reads and removes a policy; refuses invalid ones with retention.invalid_policy and changes nothing', async () => {
      const s = await seedTenant(t, 'Policies');
      assertProblem(await t.call('GET', policyUrl(s.tenantId), { token: s.adminKey }), 404, 'retention.not_found');
      const bad = [
        { basis: 'field', days: 1 },
        { basis: 'field', days: 1, field: 'nope' },
        { basis: 'field', days: 1, field: 'tier' },
        { basis: 'field', days: 1, field: 'birthdate' },
        { basis: 'created', days: 1, field: 'tier' },
      ];
      for (const body of bad) {
        const problem = assertProblem(await t.call('PUT', policyUrl(s.tenantId), { token: s.adminKey, body }), 422, 'retention.invalid_policy');
        assert.doesNotMatch(problem.detail, /@/);
      }
      assert.match(assertProblem(await t.call('PUT', policyUrl(s.tenantId), { token: s.adminKey, body: bad[3] }), 422, 'retention.invalid_policy').detail,
        /encrypted \(classification special\)/);
      assertProblem(await t.call('PUT', policyUrl(s.tenantId), { token: s.adminKey, body: { basis: 'created', days: -1 } }), 400, 'request.validation_failed');
      assertProblem(await t.call('GET', policyUrl(s.tenantId), { token: s.adminKey }), 404, 'retention.not_found');

      const put = await t.call('PUT', policyUrl(s.tenantId), { token: s.adminKey, body: { basis: 'updated', days: 395 } });
      assert.equal(put.statusCode, 200, put.body);
      const { updatedAt, ...policy } = put.json();
      assert.deepEqual(policy, { collection: 'customers', basis: 'updated', days: 395 });
      assert.ok(Date.parse(updatedAt) > 0);
      assert.deepEqual((await t.call('GET', policyUrl(s.tenantId), { token: s.adminKey })).json(), put.json());
      assert.equal((await t.call('DELETE', policyUrl(s.tenantId), { token: s.adminKey })).statusCode, 204);
      assertProblem(await t.call('DELETE', policyUrl(s.tenantId), { token: s.adminKey }), 404, 'retention.not_found');
      assertProblem(await t.call('PUT', policyUrl(s.tenantId, 'nothing'), { token: s.adminKey, body: { basis: 'created', days: 1 } }), 404, 'collection.not_found');
    });

    it('roles: editors and viewers may not read or set policies (403); another tenant\'s key gets 404', async () => {
      const s = await seedTenant(t, 'Roles', 'editor');
      const other = await seedTenant(t, 'Other');
      assertProblem(await t.call('PUT', policyUrl(s.tenantId), { token: s.key, body: { basis: 'created', days: 1 } }), 403, 'auth.forbidden');
      assertProblem(await t.call('GET', policyUrl(s.tenantId), { token: s.key }), 403, 'auth.forbidden');
      assertProblem(await t.call('PUT', policyUrl(s.tenantId), { token: other.adminKey, body: { basis: 'created', days: 1 } }), 404, 'tenant.not_found');
    });

    it('deletes records N days after creation, and only those; one audit entry per batch names the records, never a value', async () => {
      const s = await seedTenant(t, 'Created');
      const old = await create(s, { email: 'old@created.example', name: 'Old' });
      const recent = await create(s, { email: 'recent@created.example', name: 'Recent' });
      await age(s.tenantId, old, { created: daysAgo(31) });
      await age(s.tenantId, recent, { created: daysAgo(29) });
      assert.equal((await t.call('PUT', policyUrl(s.tenantId), { token: s.adminKey, body: { basis: 'created', days: 30 } })).statusCode, 200);
      const run = await t.services.retention.enforce({ tenantId: s.tenantId });
      assert.equal(run.deleted, 1);
      assert.equal(await exists(s, old), false);
      assert.equal(await exists(s, recent), true);
      const [entry] = await entries(s.tenantId, 'retention.delete');
      assert.deepEqual(entry.recordIds, [old]);
      assert.deepEqual(entry.detail, { records: 1, basis: 'created', days: 30 });
      assert.equal(entry.actor.type, 'system');
      assert.doesNotMatch(JSON.stringify(entry), /created\.example|Old/);
      const history = (await t.call('GET', `${s.base}/${old}/history`, { token: s.adminKey })).json().items;
      assert.equal(history[0].entry.action, 'retention.delete', 'the record\'s history says retention deleted it');
    });

    it('counts from the last update with basis updated: an old record changed recently stays', async () => {
      const s = await seedTenant(t, 'Updated');
      const stale = await create(s, { email: 'stale@updated.example', name: 'Stale' });
      const touched = await create(s, { email: 'touched@updated.example', name: 'Touched' });
      await age(s.tenantId, stale, { created: daysAgo(100), updated: daysAgo(91) });
      await age(s.tenantId, touched, { created: daysAgo(100), updated: daysAgo(100) });
      assert.equal((await t.call('PATCH', `${s.base}/${touched}`, { token: s.key, body: { data: { tier: 'gold' } } })).statusCode, 200);
      await t.call('PUT', policyUrl(s.tenantId), { token: s.adminKey, body: { basis: 'updated', days: 90 } });
      assert.equal((await t.services.retention.enforce({ tenantId: s.tenantId })).deleted, 1);
      assert.equal(await exists(s, stale), false);
      assert.equal(await exists(s, touched), true);
    });

    it('counts from a date field (a contract\'s end), compared as of the run; records without the date stay', async () => {
      const s = await seedTenant(t, 'Contracts');
      const contracts = { name: 'contracts', fields: [{ name: 'holder', type: 'string' }, { name: 'ends_on', type: 'date', classification: 'none' }] };
      assert.equal((await t.call('POST', `/v1/tenants/${s.tenantId}/collections`, { token: s.adminKey, body: contracts })).statusCode, 201);
      const c = { base: `/v1/tenants/${s.tenantId}/collections/contracts/records`, key: s.key };
      const ended = await create(c, { holder: 'Ended', ends_on: '2026-01-31' });
      const endsLater = await create(c, { holder: 'Later', ends_on: '2026-03-01' });
      const open = await create(c, { holder: 'Open-ended' });
      const put = await t.call('PUT', policyUrl(s.tenantId, 'contracts'), { token: s.adminKey, body: { basis: 'field', field: 'ends_on', days: 30 } });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal((await t.services.retention.enforce({ tenantId: s.tenantId, asOf: new Date('2026-03-02T12:00:00Z') })).deleted, 0,
        'ended 30 days ago, to the day: kept');
      assert.equal((await t.services.retention.enforce({ tenantId: s.tenantId, asOf: new Date('2026-03-03T00:00:00Z') })).deleted, 1);
      assert.deepEqual([await exists(c, ended), await exists(c, endsLater), await exists(c, open)], [false, true, true]);
      assert.equal((await t.services.retention.enforce({ tenantId: s.tenantId, asOf: new Date('2099-01-01T00:00:00Z') })).deleted, 1);
      assert.deepEqual([await exists(c, endsLater), await exists(c, open)], [false, true]);
    });

    it('deletes in batches of TRESOR_RETENTION_BATCH: 7 records are 3 + 3 + 1, 6 are 3 + 3, each batch one entry', async () => {
      for (const n of [7, 6]) {
        const s = await seedTenant(t, `Batches ${n}`);
        const ids = [];
        for (let i = 0; i < n; i++) ids.push(await create(s, { email: `b${i}@batches.example`, name: `B${i}` }));
        await t.call('PUT', policyUrl(s.tenantId), { token: s.adminKey, body: { basis: 'created', days: 0 } });
        const progress: number[] = [];
        const run = await t.services.retention.enforce({ tenantId: s.tenantId, asOf: new Date(Date.now() + DAY), onProgress: (d) => progress.push(d) });
        assert.equal(run.deleted, n);
        const batches = (await entries(s.tenantId, 'retention.delete')).map((e: { recordIds: string[] }) => e.recordIds.length).sort().reverse();
        assert.deepEqual(batches, n === 7 ? [3, 3, 1] : [3, 3]);
        assert.deepEqual(progress.filter((p, i) => p !== progress[i - 1]), n === 7 ? [3, 6, 7] : [3, 6]);
        for (const id of ids) assert.equal(await exists(s, id), false);
      }
    });

    it('skips records the legal-hold seam names, across batch boundaries, and deletes them once released', async () => {
      const s = await seedTenant(t, 'Held');
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await create(s, { email: `h${i}@held.example`, name: `H${i}` }));
      await t.call('PUT', policyUrl(s.tenantId), { token: s.adminKey, body: { basis: 'created', days: 0 } });
      const held = new Set([ids[0], ids[1], ids[2], ids[4]]);
      const withHolds = retentionServiceFactory({ db: t.store.db, collections: t.services.collections, batchSize: 3, now: () => new Date(Date.now() + DAY),
        heldRecords: async (_tx, candidates) => new Set(candidates.filter((id) => held.has(id))) });
      const run = await withHolds.enforce({ tenantId: s.tenantId });
      assert.deepEqual([run.deleted, run.held], [1, 4], 'a first batch of held records does not stop the run');
      assert.deepEqual(await Promise.all(ids.map((id) => exists(s, id))), [true, true, true, false, true]);
      held.clear();
      assert.equal((await withHolds.enforce({ tenantId: s.tenantId })).deleted, 4);
    });

    it('retention skips a held record: a legal hold placed through the API keeps it until released', async () => {
      const s = await seedTenant(t, 'Legal hold');
      const held = await create(s, { email: 'held@hold.example', name: 'Held' });
      const free = await create(s, { email: 'free@hold.example', name: 'Free' });
      const hold = await t.call('POST', `/v1/tenants/${s.tenantId}/legal-holds`, { token: s.adminKey,
        body: { where: { email: 'held@hold.example' }, reason: 'litigation 2026-17' } });
      assert.equal(hold.statusCode, 201, hold.body);
      await t.call('PUT', policyUrl(s.tenantId), { token: s.adminKey, body: { basis: 'created', days: 0 } });
      const asOf = new Date(Date.now() + DAY);
      const run = await t.services.retention.enforce({ tenantId: s.tenantId, asOf });
      assert.deepEqual([run.deleted, run.held], [1, 1]);
      assert.deepEqual([await exists(s, held), await exists(s, free)], [true, false]);
      const released = await t.call('DELETE', `/v1/tenants/${s.tenantId}/legal-holds/${hold.json().id}`, { token: s.adminKey });
      assert.equal(released.statusCode, 200, released.body);
      assert.equal((await t.services.retention.enforce({ tenantId: s.tenantId, asOf })).deleted, 1);
      assert.equal(await exists(s, held), false);
    });

    it('a closed tenant with an active legal hold is not purged (its keys stay) until the hold is released', async () => {
      const s = await seedTenant(t, 'Held tenant');
      await create(s, { email: 'keep@heldtenant.example', name: 'Keep' });
      const hold = await t.call('POST', `/v1/tenants/${s.tenantId}/legal-holds`, { token: s.adminKey,
        body: { where: { email: 'keep@heldtenant.example' }, reason: 'tax audit' } });
      assert.equal(hold.statusCode, 201, hold.body);
      assert.equal((await t.call('POST', `/v1/tenants/${s.tenantId}/close`)).statusCode, 200);
      const later = new Date(Date.now() + 2 * 366 * DAY);
      assert.deepEqual(await t.services.purge.purgeDue({ asOf: later, tenantId: s.tenantId }), []);
      assert.equal((await t.call('GET', `/v1/tenants/${s.tenantId}`)).json().status, 'closed');
      assert.equal((await t.call('POST', `/v1/tenants/${s.tenantId}/reopen`)).statusCode, 200, 'its keys were not destroyed');
      assert.equal((await t.call('POST', `/v1/tenants/${s.tenantId}/close`)).statusCode, 200);
      assert.equal((await t.call('DELETE', `/v1/tenants/${s.tenantId}/legal-holds/${hold.json().id}`, { token: s.adminKey })).statusCode, 200);
      assert.equal((await t.services.purge.purgeDue({ asOf: later, tenantId: s.tenantId })).length, 1);
      assert.equal((await t.call('GET', `/v1/tenants/${s.tenantId}`)).json().status, 'purged');
    });

    it('leaves a closed tenant alone (frozen until its purge), and refuses policy changes there with 409 tenant.not_active', async () => {
      const s = await seedTenant(t, 'Closed');
      const id = await create(s, { email: 'kept@closed.example', name: 'Kept' });
      await t.call('PUT', policyUrl(s.tenantId), { token: s.adminKey, body: { basis: 'created', days: 0 } });
      assert.equal((await t.call('POST', `/v1/tenants/${s.tenantId}/close`)).statusCode, 200);
      assert.equal((await t.services.retention.enforce({ tenantId: s.tenantId, asOf: new Date(Date.now() + DAY) })).deleted, 0);
      assert.equal(await exists(s, id), true);
      assertProblem(await t.call('PUT', policyUrl(s.tenantId), { token: s.adminKey, body: { basis: 'created', days: 5 } }), 409, 'tenant.not_active');
      assertProblem(await t.call('DELETE', policyUrl(s.tenantId), { token: s.adminKey }), 409, 'tenant.not_active');
      assert.equal((await t.call('GET', policyUrl(s.tenantId), { token: s.adminKey })).json().days, 0);
    });

    it('the job runs on the services\' clock and reports to /metrics', async () => {
      const s = await seedTenant(t, 'Job');
      await create(s, { email: 'job@job.example', name: 'Job' });
      await t.call('PUT', policyUrl(s.tenantId), { token: s.adminKey, body: { basis: 'created', days: 0 } });
      const before = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      const counted = (text: string) => Number(/^tresor_retention_records_deleted_total (\d+)/m.exec(text)?.[1] ?? NaN);
      await t.services.jobs.kick('retention');
      const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.ok(counted(text) >= counted(before) + 1, text);
      assert.match(text, /^tresor_retention_last_run_timestamp_seconds \d+/m);
      assert.match(text, /tresor_job_runs_total\{job="retention",outcome="ok"\} \d+/);
    });
  });
}
