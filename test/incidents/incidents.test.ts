// The incident register end to end through the API: open, timeline, the
// 72-hour clock's warnings (on a clock the test moves), the affected records
// from the audit trail, the notification drafts (no values), the tenant's view,
// decision, closure and the Art. 33(5) export; and the refusals.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { backends } from '../helpers/backends.ts';
import { type TestApp, seedTenant, startTestApp } from '../helpers/test-app.ts';
import { manualClock } from '../helpers/people.ts';
import { assertProblem } from '../helpers/problem.ts';
import { sample } from '../helpers/metrics.ts';
import { type Listener, listen } from '../helpers/listeners.ts';
import { incidentEvidence } from '../../src/incidents/incident-evidence.ts';

const HOUR = 3_600_000;

for (const backend of backends) {
  describe(`incidents: register, clock, affected records, drafts [${backend}]`, () => {
    let t: TestApp;
    let hook: Listener;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let b: Awaited<ReturnType<typeof seedTenant>>;
    let ownerA: string;
    let ownerB: string;
    // Audit entries carry real time: the test's clock starts there and only moves ahead.
    const clock = manualClock(Date.now());
    const iso = (ms = 0) => new Date(clock.now().getTime() + ms).toISOString();
    const values = { email: `${randomUUID()}@victim.example`, name: `Name ${randomUUID()}`, phone: '+4930901820', tier: 'gold' };
    const opening = () => ({ title: 'Leaked key', category: 'confidentiality', severity: 'high', detectedAt: iso(-2 * HOUR), awareAt: iso(-HOUR),
      affectedSystems: ['API'], dataCategories: ['contact data'], description: 'An editor key was found in a public repository.' });

    before(async () => {
      hook = await listen();
      t = await startTestApp(backend, { now: clock.now, env: { TRESOR_EGRESS_ALLOW: `DE ${hook.origin}/ internal`, TRESOR_INCIDENT_ALERT_URL: `${hook.origin}/incidents`,
        TRESOR_DPO_CONTACT: 'Datenschutz, Beispiel GmbH, dsb@beispiel.example' } });
      a = await seedTenant(t, 'Affected GmbH', 'editor');
      b = await seedTenant(t, 'Bystander AG', 'editor');
      ownerA = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'owner', role: 'owner' } })).json().key;
      ownerB = (await t.call('POST', `/v1/tenants/${b.tenantId}/api-keys`, { body: { name: 'owner', role: 'owner' } })).json().key;
    });
    after(async () => { await t.close(); await hook.close(); });

    it('refuses aware-at in the future or before detected-at, malformed bodies and the wrong roles', async () => {
      assertProblem(await t.call('POST', '/v1/incidents', { body: { ...opening(), awareAt: iso(HOUR) } }), 422, 'incident.aware_in_future');
      assertProblem(await t.call('POST', '/v1/incidents', { body: { ...opening(), awareAt: iso(-3 * HOUR) } }), 422, 'incident.aware_before_detected');
      assertProblem(await t.call('POST', '/v1/incidents', { body: { ...opening(), severity: 'apocalyptic' } }), 400, 'request.validation_failed');
      assertProblem(await t.call('POST', '/v1/incidents', { body: { ...opening(), extra: 1 } }), 400, 'request.validation_failed');
      assertProblem(await t.call('POST', '/v1/incidents', { body: { ...opening(), description: 'x'.repeat(5001) } }), 400, 'request.validation_failed');
      assertProblem(await t.call('POST', '/v1/incidents', { token: ownerA, body: opening() }), 403, 'auth.forbidden');
      assertProblem(await t.call('GET', '/v1/incidents', { token: ownerA }), 403, 'auth.forbidden');
      assertProblem(await t.call('GET', `/v1/incidents/${randomUUID()}`), 404, 'incident.not_found');
      assert.deepEqual((await t.call('GET', '/v1/incidents')).json().items, [], 'nothing refused was recorded');
    });

    it('runs an incident from opening to the Art. 33(5) export', async () => {
      // The editor key of tenant A reads and changes records; B's records are untouched by it.
      const keyId = (await t.call('GET', `/v1/tenants/${a.tenantId}/api-keys`, { token: ownerA })).json().items.find((k: { role: string }) => k.role === 'editor').id;
      const start = iso(-HOUR);
      const created = (await t.call('POST', a.base, { token: a.key, body: { data: values } })).json().id as string;
      const other = (await t.call('POST', a.base, { token: a.adminKey, body: { data: { ...values, email: `${randomUUID()}@other.example` } } })).json().id as string;
      assert.equal((await t.call('GET', `${a.base}/${other}`, { token: a.key })).statusCode, 200);
      assert.equal((await t.call('POST', b.base, { token: b.key, body: { data: { ...values, email: `${randomUUID()}@b.example` } } })).statusCode, 201);
      clock.advance(10 * 60_000); // ahead of the real time the entries were written at

      const opened = await t.call('POST', '/v1/incidents', { body: opening() });
      assert.equal(opened.statusCode, 201, opened.body);
      const inc = opened.json();
      assert.equal(inc.status, 'open');
      assert.equal(inc.clock.deadline, new Date(Date.parse(inc.awareAt) + 72 * HOUR).toISOString());
      assert.deepEqual(inc.timeline.map((e: { kind: string }) => e.kind), ['opened']);

      const event = await t.call('POST', `/v1/incidents/${inc.id}/events`, { body: { kind: 'containment', note: 'Key revoked.' } });
      assert.equal(event.statusCode, 201, event.body);
      assert.deepEqual([event.json().seq, event.json().actor.type], [2, 'api_key']);

      // Affected records from the audit trail: A's two records, by id and counts; nothing of B.
      assertProblem(await t.call('POST', `/v1/incidents/${inc.id}/affected`, { body: { actorId: keyId, from: iso(), to: start } }), 422, 'incident.invalid_window');
      const affected = await t.call('POST', `/v1/incidents/${inc.id}/affected`, { body: { actorId: keyId, from: start, to: iso() } });
      assert.equal(affected.statusCode, 200, affected.body);
      const parts = affected.json().affectedTenants;
      assert.equal(parts.length, 1);
      assert.equal(parts[0].tenantId, a.tenantId);
      assert.deepEqual([parts[0].recordsRead, parts[0].recordsChanged, parts[0].recordsTotal], [1, 1, 2]);
      assert.deepEqual(parts[0].recordIds.customers.sort(), [created, other].sort());

      // The tenant's view: its own part and a draft; the other tenant sees nothing of it.
      const mine = await t.call('GET', `/v1/tenants/${a.tenantId}/incidents/${inc.id}?lang=de`, { token: ownerA });
      assert.equal(mine.statusCode, 200, mine.body);
      assert.equal(mine.json().affected.recordsTotal, 2);
      assert.equal(mine.json().timeline, undefined);
      assert.match(mine.json().draft.text, /Art\. 33 DSGVO/);
      assert.deepEqual((await t.call('GET', `/v1/tenants/${b.tenantId}/incidents`, { token: ownerB })).json().items, []);
      assertProblem(await t.call('GET', `/v1/tenants/${b.tenantId}/incidents/${inc.id}`, { token: ownerB }), 404, 'incident.not_found');
      assertProblem(await t.call('GET', `/v1/tenants/${b.tenantId}/incidents/${inc.id}`, { token: ownerA }), 404, 'tenant.not_found');
      assertProblem(await t.call('GET', `/v1/tenants/${a.tenantId}/incidents`, { token: a.key }), 403, 'auth.forbidden');
      assert.equal((await t.call('GET', `/v1/tenants/${a.tenantId}/incidents`, { token: ownerA })).json().items.length, 1);

      // Drafts in both languages carry the Art. 33(3) contents and no value of any record.
      for (const lang of ['de', 'en']) {
        const drafts = await t.call('GET', `/v1/incidents/${inc.id}/drafts?lang=${lang}`);
        assert.equal(drafts.statusCode, 200, drafts.body);
        const [draft] = drafts.json().items;
        assert.equal(draft.tenantName, 'Affected GmbH');
        assert.equal(draft.contents.approximateSubjects, 2);
        assert.equal(draft.contents.contact, 'Datenschutz, Beispiel GmbH, dsb@beispiel.example');
        const text = JSON.stringify(draft);
        for (const v of [values.email, values.name, values.phone, '901820', created, other]) assert.ok(!text.includes(v), `the ${lang} draft holds ${v}`);
      }

      // Decision and closure; a closed incident takes nothing more.
      assertProblem(await t.call('POST', `/v1/incidents/${inc.id}/close`, { body: { lessonsLearned: 'Scan repositories.' } }), 409, 'incident.undecided');
      const decided = await t.call('POST', `/v1/incidents/${inc.id}/decision`,
        { body: { notifiable: true, reason: 'Contact data readable by a stranger.', measures: 'Key revoked.', authorityNotifiedAt: iso() } });
      assert.equal(decided.statusCode, 200, decided.body);
      assert.equal(decided.json().clock.running, false);
      const closed = await t.call('POST', `/v1/incidents/${inc.id}/close`, { body: { lessonsLearned: 'Scan repositories for keys.' } });
      assert.equal(closed.statusCode, 200, closed.body);
      assert.equal(closed.json().status, 'closed');
      assertProblem(await t.call('POST', `/v1/incidents/${inc.id}/events`, { body: { kind: 'note', note: 'late' } }), 409, 'incident.closed');

      const doc = await t.call('GET', `/v1/incidents/${inc.id}/export`);
      assert.equal(doc.statusCode, 200, doc.body);
      assert.deepEqual(doc.json().incident.timeline.map((e: { kind: string }) => e.kind), ['opened', 'containment', 'affected_computed', 'decision', 'closed']);
      assert.match(doc.json().markdown, /Lessons learned[\s\S]*Scan repositories for keys\./);
      assert.ok(!doc.body.includes(values.email) && !doc.body.includes(values.name));

      // Every change is in the audit log, the platform's and the tenant's.
      const audit = (await t.call('GET', `/v1/audit/export?limit=500`)).json().items.map((i: { entry: { action?: string } }) => i.entry.action);
      for (const action of ['incident.open', 'incident.event', 'incident.affected', 'incident.decide', 'incident.close']) assert.ok(audit.includes(action), action);
      assert.equal((await t.call('GET', `/v1/tenants/${a.tenantId}/audit?action=incident.affected`, { token: ownerA })).json().items.length, 1);
      assert.equal((await t.call('GET', `/v1/tenants/${b.tenantId}/audit?action=incident.affected`, { token: ownerB })).json().items.length, 0);
    });

    it('warns at 24, 48 and 66 hours, each once: timeline, metric and webhook; stops once decided', async () => {
      const inc = (await t.call('POST', '/v1/incidents', { body: { ...opening(), title: 'Clock' } })).json();
      const warnings = async () => (await t.call('GET', `/v1/incidents/${inc.id}`)).json().timeline.filter((e: { kind: string }) => e.kind === 'clock_warning').length;
      const scrape = async () => (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.deepEqual(await t.services.incidentClock.tick(), []);
      clock.advance(23 * HOUR + 1000); // 24 h since aware-at
      assert.deepEqual(await t.services.incidentClock.tick(), [{ incidentId: inc.id, hours: 24 }]);
      assert.deepEqual(await t.services.incidentClock.tick(), [], 'each warning once');
      assert.equal(sample(await scrape(), 'tresor_incidents_clock_past_hours', '{hours="24"}'), 1);
      clock.advance(43 * HOUR); // 67 h: 48 and 66 together
      assert.deepEqual((await t.services.incidentClock.tick()).map((w) => w.hours), [48, 66]);
      assert.equal(await warnings(), 3);
      const metrics = await scrape();
      assert.equal(sample(metrics, 'tresor_incident_clock_warnings_total', '{hours="66"}'), 1);
      assert.equal(sample(metrics, 'tresor_incidents_clock_past_hours', '{hours="72"}'), 0);
      const sent = hook.received.filter((r) => r.path === '/incidents').map((r) => JSON.parse(r.body));
      assert.deepEqual(sent.map((w) => [w.incidentId, w.hours]), [[inc.id, 24], [inc.id, 48], [inc.id, 66]]);
      clock.advance(6 * HOUR);
      await t.services.incidentClock.tick();
      assert.equal(sample(await scrape(), 'tresor_incidents_clock_past_hours', '{hours="72"}'), 1);
      assert.equal((await incidentEvidence(t.store.db, clock.now())).overdue, 1);
      assert.equal((await t.call('POST', `/v1/incidents/${inc.id}/decision`, { body: { notifiable: false, reason: 'No personal data left the system.' } })).statusCode, 200);
      await t.services.incidentClock.tick();
      assert.equal(sample(await scrape(), 'tresor_incidents_clock_past_hours', '{hours="72"}'), 0);
      const evidence = await incidentEvidence(t.store.db, clock.now());
      assert.deepEqual([evidence.overdue, typeof evidence.lastClosedAt], [0, 'string']);
    });
  });
}
