// The sub-processor register: operators keep it, every active tenant is told
// of each change through the outbox (a webhook through the egress module,
// retried), tenants object within the objection period, operators read it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { type TestApp, startTestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';
import { type Listener, listen } from '../helpers/listeners.ts';
import { manualClock } from '../helpers/people.ts';

const DAY = 24 * 3600_000;
const hetzner = { name: 'Hetzner Online GmbH', service: 'hosting', country: 'DE', dataCategories: ['all tenant data (encrypted)'], dpaDate: '2026-01-15' };

for (const backend of backends) {
  describe(`sub-processor register [${backend}]`, () => {
    let t: TestApp;
    let eu: Listener, us: Listener;
    const clock = manualClock(Date.now());
    const tenants: Record<'a' | 'b', { id: string; owner: string; admin: string; viewer: string }> = {} as never;
    let spId: string, addedChange: string;

    const tenant = async (name: string) => {
      const id = (await t.call('POST', '/v1/tenants', { body: { name } })).json().id as string;
      const key = async (role: string) => (await t.call('POST', `/v1/tenants/${id}/api-keys`, { body: { name: role, role } })).json().key as string;
      return { id, owner: await key('owner'), admin: await key('admin'), viewer: await key('viewer') };
    };
    const deliveries = async (changeId: string) => (await t.call('GET', `/v1/sub-processors/changes/${changeId}/deliveries`)).json().items as
      { tenantId: string; attempts: number; deliveredAt: string | null; lastError: string | null }[];
    const of = (rows: Awaited<ReturnType<typeof deliveries>>, tenantId: string) => rows.find((r) => r.tenantId === tenantId)!;

    before(async () => {
      [eu, us] = await Promise.all([listen(), listen()]);
      t = await startTestApp(backend, { now: clock.now, env: { TRESOR_EGRESS_ALLOW: `DE ${eu.origin}/ internal, US ${us.origin}/ internal`,
        TRESOR_SUB_PROCESSOR_NOTICE_RETRY_MS: '60000' } });
      tenants.a = await tenant('A');
      tenants.b = await tenant('B');
    });
    after(async () => { await t.close(); await Promise.all([eu.close(), us.close()]); });

    it('an operator adds a sub-processor: the change is announced with an objection deadline, tenants read the register', async () => {
      const res = await t.call('POST', '/v1/sub-processors', { body: hetzner });
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json();
      spId = body.id;
      addedChange = body.change.id;
      assert.deepEqual([body.change.kind, body.change.subProcessor], ['added', hetzner]);
      assert.equal(Date.parse(body.change.objectionDeadline) - Date.parse(body.change.announcedAt), 30 * DAY);
      const seen = (await t.call('GET', '/v1/sub-processors', { token: tenants.a.admin })).json();
      assert.deepEqual(seen.items.map((s: { name: string }) => s.name), ['Hetzner Online GmbH']);
      assert.equal(seen.changes[0].id, addedChange);
      assertProblem(await t.call('GET', '/v1/sub-processors', { token: tenants.a.viewer }), 403, 'auth.forbidden');
      assertProblem(await t.call('POST', '/v1/sub-processors', { token: tenants.a.owner, body: hetzner }), 403, 'auth.forbidden');
    });

    it('a notification target must be covered by the egress allowlist', async () => {
      assertProblem(await t.call('PUT', `/v1/tenants/${tenants.a.id}/notification-target`, { token: tenants.a.admin, body: { url: 'https://elsewhere.example/' } }),
        422, 'transfer.destination_not_allowed');
      const res = await t.call('PUT', `/v1/tenants/${tenants.a.id}/notification-target`, { token: tenants.a.admin, body: { url: `${eu.origin}/tresor` } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((await t.call('GET', `/v1/tenants/${tenants.a.id}/notification-target`, { token: tenants.a.owner })).json().url, `${eu.origin}/tresor`);
      assertProblem(await t.call('GET', `/v1/tenants/${tenants.a.id}/notification-target`, { token: tenants.b.owner }), 404, 'tenant.not_found');
    });

    it('the outbox delivers to each tenant\'s target through the egress module and keeps what it could not deliver', async () => {
      assert.deepEqual(await t.services.subProcessors.deliverDue(), { delivered: 1, failed: 1 });
      const [got] = eu.received;
      assert.equal(got.path, '/tresor');
      const notice = JSON.parse(got.body);
      assert.deepEqual([notice.kind, notice.tenantId, notice.change.id, notice.change.subProcessor.name], ['sub_processor.change', tenants.a.id, addedChange, hetzner.name]);
      const rows = await deliveries(addedChange);
      assert.ok(of(rows, tenants.a.id).deliveredAt);
      assert.deepEqual([of(rows, tenants.b.id).attempts, of(rows, tenants.b.id).lastError], [1, 'no_target']);
      const log = (await t.call('GET', `/v1/tenants/${tenants.a.id}/audit?action=transfer`, { token: tenants.a.owner })).json().items;
      assert.deepEqual(log.map((i: { entry: { detail: Record<string, unknown> } }) => [i.entry.detail.purpose, i.entry.detail.outcome, i.entry.detail.country]),
        [['sub_processor_notice', 'sent', 'DE']]);
      assert.deepEqual(await t.services.subProcessors.deliverDue(), { delivered: 0, failed: 0 }, 'nothing is due before the backoff ends');
    });

    it('a target outside the EU/EEA is refused by the egress module and retried later; a failing target is retried until it answers', async () => {
      await t.call('PUT', `/v1/tenants/${tenants.b.id}/notification-target`, { token: tenants.b.owner, body: { url: `${us.origin}/in` } });
      clock.advance(60_000);
      assert.deepEqual(await t.services.subProcessors.deliverDue(), { delivered: 0, failed: 1 });
      assert.equal(us.received.length, 0);
      assert.deepEqual([of(await deliveries(addedChange), tenants.b.id).attempts, of(await deliveries(addedChange), tenants.b.id).lastError],
        [2, 'transfer.outside_eea']);

      const changed = (await t.call('PUT', `/v1/sub-processors/${spId}`, { body: { ...hetzner, service: 'hosting and backups' } })).json().change;
      eu.answer = (res) => res.writeHead(503).end();
      await t.services.subProcessors.deliverDue();
      assert.equal(of(await deliveries(changed.id), tenants.a.id).lastError, 'transfer.failed');
      eu.answer = undefined;
      clock.advance(60_000);
      await t.services.subProcessors.deliverDue();
      const a = of(await deliveries(changed.id), tenants.a.id);
      assert.deepEqual([a.attempts, a.lastError, !!a.deliveredAt], [2, null, true]);
      assert.equal(JSON.parse(eu.received.at(-1)!.body).change.subProcessor.service, 'hosting and backups');
    });

    it('owners object within the objection period, once per change; operators read the objections', async () => {
      const url = `/v1/tenants/${tenants.a.id}/sub-processors/objections`;
      assertProblem(await t.call('POST', url, { token: tenants.a.admin, body: { changeId: addedChange, reason: 'no' } }), 403, 'auth.forbidden');
      const res = await t.call('POST', url, { token: tenants.a.owner, body: { changeId: addedChange, reason: 'we need SCCs first' } });
      assert.equal(res.statusCode, 201, res.body);
      assertProblem(await t.call('POST', url, { token: tenants.a.owner, body: { changeId: addedChange, reason: 'again' } }), 409, 'sub_processor.already_objected');
      assertProblem(await t.call('POST', url, { token: tenants.a.owner, body: { changeId: '01900000-0000-7000-8000-000000000000', reason: 'x' } }),
        404, 'sub_processor.change_not_found');
      const all = (await t.call('GET', '/v1/sub-processors/objections')).json().items;
      assert.deepEqual(all.map((o: { tenantId: string; reason: string }) => [o.tenantId, o.reason]), [[tenants.a.id, 'we need SCCs first']]);
      assert.equal((await t.call('GET', `/v1/tenants/${tenants.b.id}/sub-processors/objections`, { token: tenants.b.owner })).json().items.length, 0);
      assertProblem(await t.call('GET', '/v1/sub-processors/objections', { token: tenants.a.owner }), 403, 'auth.forbidden');
      const entry = (await t.call('GET', `/v1/tenants/${tenants.a.id}/audit?action=sub_processor.object`, { token: tenants.a.owner })).json().items[0].entry;
      assert.ok(!JSON.stringify(entry).includes('SCCs'), 'the reason is not logged');
    });

    it('after the deadline objections are refused; a removal is announced and leaves the register', async () => {
      clock.advance(31 * DAY);
      assertProblem(await t.call('POST', `/v1/tenants/${tenants.b.id}/sub-processors/objections`, { token: tenants.b.owner,
        body: { changeId: addedChange, reason: 'late' } }), 409, 'sub_processor.objection_period_over');
      const removed = await t.call('DELETE', `/v1/sub-processors/${spId}`);
      assert.equal(removed.statusCode, 200, removed.body);
      assert.equal(removed.json().change.kind, 'removed');
      assertProblem(await t.call('DELETE', `/v1/sub-processors/${spId}`), 404, 'sub_processor.not_found');
      assert.deepEqual((await t.call('GET', '/v1/sub-processors', { token: tenants.b.owner })).json().items, []);
    });
  });
}
