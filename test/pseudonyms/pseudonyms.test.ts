// Pseudonymisation with a separately kept key: pseudonyms answered with
// records, stable per tenant and purpose; the key and the mapping readable by
// their own database role only; re-identification by permission, with a
// reason, audited without the value; rotation with a mapping period.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/backends.ts';
import { assertProblem } from '../helpers/problem.ts';
import { startTestApp, type TestApp } from '../helpers/test-app.ts';
import { manualClock } from '../helpers/people.ts';

const DAY = 24 * 3600_000;

const patients = {
  name: 'patients',
  fields: [
    { name: 'email', type: 'email', unique: true, pseudonymize: true },
    { name: 'name', type: 'string', required: true, pseudonymize: true, pseudonymPurpose: 'research' },
    { name: 'ward', type: 'string', classification: 'none' },
  ],
};
// Another collection sharing the purpose of `email`, so exports join across them.
const visits = {
  name: 'visits',
  fields: [
    { name: 'email', type: 'email', pseudonymize: true },
    { name: 'patient', type: 'string', pseudonymize: true, pseudonymPurpose: 'research' },
    { name: 'note', type: 'string', mask: 'full', pseudonymize: true, pseudonymPurpose: 'notes' },
  ],
};

for (const backend of backends) {
  describe(`pseudonyms [${backend}]`, () => {
    const clock = manualClock(Date.parse('2026-05-04T08:00:00Z'));
    let t: TestApp;
    type Tenant = { id: string; owner: string; admin: string; editor: string; viewer: string };
    let a: Tenant;
    let b: Tenant;

    const key = async (tenantId: string, role: string) =>
      (await t.call('POST', `/v1/tenants/${tenantId}/api-keys`, { body: { name: role, role } })).json().key as string;
    async function tenant(name: string): Promise<Tenant> {
      const id = (await t.call('POST', '/v1/tenants', { body: { name } })).json().id as string;
      const x = { id, owner: await key(id, 'owner'), admin: await key(id, 'admin'), editor: await key(id, 'editor'), viewer: await key(id, 'viewer') };
      for (const c of [patients, visits]) {
        const res = await t.call('POST', `/v1/tenants/${id}/collections`, { token: x.admin, body: c });
        assert.equal(res.statusCode, 201, res.body);
      }
      return x;
    }
    const create = async (x: Tenant, collection: string, data: Record<string, unknown>) => {
      const res = await t.call('POST', `/v1/tenants/${x.id}/collections/${collection}/records`, { token: x.editor, body: { data } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as { id: string; data: Record<string, unknown>; pseudonyms: Record<string, string> };
    };
    const resolve = (x: Tenant, body: Record<string, unknown>, token = x.owner) =>
      t.call('POST', `/v1/tenants/${x.id}/pseudonyms/resolve`, { token, body });
    const audit = async (x: Tenant, action: string) => {
      await t.services.sequencer.sequence();
      const res = await t.call('GET', `/v1/tenants/${x.id}/audit?action=${action}&limit=100`, { token: x.owner });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().items.map((i: { entry: Record<string, unknown> }) => i.entry);
    };

    before(async () => {
      t = await startTestApp(backend, { now: clock.now });
      a = await tenant('Clinic A');
      b = await tenant('Clinic B');
    });
    after(async () => t.close());

    it('answers a pseudonym per pseudonymize field, stable for one value, tenant and purpose, and keeps other records\' shape', async () => {
      const one = await create(a, 'patients', { email: 'Ada@Example.com', name: 'Ada Lovelace', ward: 'north' });
      assert.deepEqual(Object.keys(one.pseudonyms).sort(), ['email', 'name']);
      assert.match(one.pseudonyms.email, /^[A-Za-z0-9_-]{43}$/);
      assert.ok(!/ada@example|lovelace/i.test(JSON.stringify(one.pseudonyms)), 'no value inside a pseudonym');
      // The same normalised value in another collection, same purpose: the same pseudonym (a join key).
      const visit = await create(a, 'visits', { email: 'ada@example.com', patient: 'Ada Lovelace', note: 'Ada Lovelace' });
      assert.equal(visit.pseudonyms.email, one.pseudonyms.email);
      assert.equal(visit.pseudonyms.patient, one.pseudonyms.name, 'purpose research is shared');
      // Same value, another purpose: unrelated.
      assert.notEqual(visit.pseudonyms.note, visit.pseudonyms.patient);
      // Reading answers the same pseudonyms; a viewer whose mask hides the note still gets its pseudonym.
      const read = await t.call('GET', `/v1/tenants/${a.id}/collections/visits/records/${visit.id}`, { token: a.viewer });
      assert.equal(read.statusCode, 200, read.body);
      assert.notEqual(read.json().data.note, 'Ada Lovelace');
      assert.deepEqual(read.json().pseudonyms, visit.pseudonyms);
      // Another tenant, same value and purpose: another pseudonym.
      const other = await create(b, 'patients', { email: 'ada@example.com', name: 'Ada Lovelace' });
      assert.notEqual(other.pseudonyms.email, one.pseudonyms.email);
      assert.notEqual(other.pseudonyms.name, one.pseudonyms.name);
      // A collection without pseudonymize fields answers records as before: no `pseudonyms` member.
      await t.call('POST', `/v1/tenants/${a.id}/collections`, { token: a.admin, body: { name: 'plain', fields: [{ name: 'x', type: 'string' }] } });
      const plain = await t.call('POST', `/v1/tenants/${a.id}/collections/plain/records`, { token: a.editor, body: { data: { x: 'y' } } });
      assert.deepEqual(Object.keys(plain.json()).sort(), ['createdAt', 'data', 'id', 'updatedAt', 'version']);
    });

    it('imported records resolve like created ones', async () => {
      const body = [{ email: 'imp1@example.com', name: 'Imported One' }, { email: 'imp2@example.com', name: 'Imported Two' }]
        .map((data) => JSON.stringify({ data })).join('\n');
      const res = await t.call('POST', `/v1/tenants/${a.id}/collections/patients/records/import`, { token: a.editor, body,
        headers: { 'content-type': 'application/x-ndjson' } });
      assert.equal(res.json().imported, 2, res.body);
      const found = await t.call('POST', `/v1/tenants/${a.id}/collections/patients/records/search`, { token: a.editor, body: { where: { email: 'imp2@example.com' } } });
      const p = found.json().items[0].pseudonyms.email;
      const back = await resolve(a, { collection: 'patients', field: 'email', pseudonym: p, reason: 'import check' });
      assert.equal(back.json().value, 'imp2@example.com', back.body);
    });

    it('refuses pseudonymize on json and boolean fields, and a purpose without pseudonymize', async () => {
      const res = await t.call('POST', `/v1/tenants/${a.id}/collections`, { token: a.admin, body: { name: 'bad', fields: [
        { name: 'doc', type: 'json', pseudonymize: true }, { name: 'x', type: 'string', pseudonymPurpose: 'p' }] } });
      const body = assertProblem(res, 422, 'collection.invalid_definition');
      assert.deepEqual(body.problems.map((p: { path: string; code: string }) => `${p.path} ${p.code}`).sort(),
        ['/fields/0/pseudonymize collection.field_not_indexable', '/fields/1/pseudonymPurpose collection.invalid_option']);
    });

    it('the app role cannot read the pseudonym key or the mapping tables', async () => {
      for (const table of ['pseudonym_keys', 'pseudonym_map']) {
        await assert.rejects(t.store.db.withTenant(a.id, (tx) => tx.query(`select * from ${table}`)),
          (err: { code?: string; message: string }) => err.code === '42501' || /permission denied/.test(err.message), table);
      }
      // Nor is the key among the tenant keys the app role reads.
      const purposes = await t.store.db.withTenant(a.id, (tx) => tx.query<{ purpose: string }>('select distinct purpose from tenant_keys'));
      assert.deepEqual(purposes.map((p) => p.purpose).sort(), ['data', 'index']);
    });

    it('re-identifies for an owner with a reason, audited with the reason and never the value', async () => {
      const rec = await create(a, 'patients', { email: 'grace@example.com', name: 'Grace Hopper' });
      const res = await resolve(a, { collection: 'patients', field: 'email', pseudonym: rec.pseudonyms.email, reason: 'ticket 4711: patient asked for her file' });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { value: 'grace@example.com', purpose: 'email', version: 1 });
      // By purpose, without a collection.
      const byPurpose = await resolve(a, { field: 'research', pseudonym: rec.pseudonyms.name, reason: 'study follow-up' });
      assert.equal(byPurpose.json().value, 'Grace Hopper');
      const entries = await audit(a, 'pseudonym.resolve');
      const mine = entries.filter((e: { target: { id: string } }) => e.target.id === rec.pseudonyms.email);
      assert.equal(mine.length, 1);
      assert.equal(mine[0].detail.reason, 'ticket 4711: patient asked for her file');
      assert.equal(mine[0].collection, 'patients');
      assert.ok(!JSON.stringify(entries).includes('grace@example.com') && !JSON.stringify(entries).includes('Grace Hopper'), 'no value in the audit log');
    });

    it('refuses re-identification without the permission (403), without a reason (400), for another tenant (404)', async () => {
      const rec = await create(a, 'patients', { email: 'alan@example.com', name: 'Alan Turing' });
      const body = { collection: 'patients', field: 'email', pseudonym: rec.pseudonyms.email, reason: 'audit request' };
      for (const role of ['admin', 'editor', 'viewer'] as const) assertProblem(await resolve(a, body, a[role]), 403, 'auth.forbidden');
      const { reason: _r, ...noReason } = body;
      assertProblem(await resolve(a, noReason), 400, 'request.validation_failed');
      assertProblem(await resolve(a, { ...body, reason: '   ' }), 400, 'request.validation_failed');
      // B's owner asking in A's tenant; and A's pseudonym asked in B's own tenant.
      assertProblem(await resolve(a, body, b.owner), 404, 'tenant.not_found');
      assertProblem(await resolve(b, body), 404, 'pseudonym.not_found');
      // The refusals left no entry.
      const entries = (await audit(a, 'pseudonym.resolve')).filter((e: { target: { id: string } }) => e.target.id === rec.pseudonyms.email);
      assert.equal(entries.length, 0);
    });

    it('an update replaces the mapping of a changed value; a deleted record takes its mappings along', async () => {
      const rec = await create(a, 'patients', { email: 'kat@example.com', name: 'Katherine Johnson' });
      const patched = await t.call('PATCH', `/v1/tenants/${a.id}/collections/patients/records/${rec.id}`, { token: a.editor, body: { data: { email: 'kj@example.com' } } });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.notEqual(patched.json().pseudonyms.email, rec.pseudonyms.email);
      assert.equal(patched.json().pseudonyms.name, rec.pseudonyms.name);
      const q = (p: string) => resolve(a, { collection: 'patients', field: 'email', pseudonym: p, reason: 'check' });
      assertProblem(await q(rec.pseudonyms.email), 404, 'pseudonym.not_found');
      assert.equal((await q(patched.json().pseudonyms.email)).json().value, 'kj@example.com');
      assert.equal((await t.call('DELETE', `/v1/tenants/${a.id}/collections/patients/records/${rec.id}`, { token: a.editor })).statusCode, 204);
      assertProblem(await q(patched.json().pseudonyms.email), 404, 'pseudonym.not_found');
    });

    it('rotation answers new pseudonyms; old ones resolve during the mapping period, then retire', async () => {
      const rec = await create(b, 'patients', { email: 'hedy@example.com', name: 'Hedy Lamarr' });
      const rotated = await t.call('POST', `/v1/tenants/${b.id}/pseudonyms/rotate`, { token: b.admin });
      assert.equal(rotated.statusCode, 200, rotated.body);
      assert.equal(rotated.json().version, 2);
      assert.equal(rotated.json().previous, 1);
      assert.equal(rotated.json().retireAfter, new Date(clock.now().getTime() + 30 * DAY).toISOString());
      const now = (await t.call('GET', `/v1/tenants/${b.id}/collections/patients/records/${rec.id}`, { token: b.editor })).json();
      assert.notEqual(now.pseudonyms.email, rec.pseudonyms.email);
      const q = (p: string) => resolve(b, { collection: 'patients', field: 'email', pseudonym: p, reason: 'rotation check' });
      assert.deepEqual((await q(rec.pseudonyms.email)).json(), { value: 'hedy@example.com', purpose: 'email', version: 1 });
      assert.deepEqual((await q(now.pseudonyms.email)).json(), { value: 'hedy@example.com', purpose: 'email', version: 2 });
      // A record written after the rotation resolves under both live versions' mappings.
      const later = await create(b, 'patients', { email: 'mary@example.com', name: 'Mary Jackson' });
      assert.equal((await q(later.pseudonyms.email)).json().version, 2);

      clock.advance(29 * DAY);
      assert.equal(await t.services.pseudonyms.retireDue(), 0);
      assert.equal((await q(rec.pseudonyms.email)).statusCode, 200, 'still in its mapping period');
      clock.advance(2 * DAY);
      assert.equal(await t.services.pseudonyms.retireDue(), 1);
      assertProblem(await q(rec.pseudonyms.email), 404, 'pseudonym.not_found');
      assert.equal((await q(now.pseudonyms.email)).json().value, 'hedy@example.com');
      const retired = await audit(b, 'pseudonym_key.retire');
      assert.equal(retired.length, 1);
      assert.equal(retired[0].target.id, '1');
    });

    it('destroying the pseudonym keys (the closure seam) leaves no pseudonym resolvable', async () => {
      const c = await tenant('Clinic C');
      const rec = await create(c, 'patients', { email: 'lise@example.com', name: 'Lise Meitner' });
      const out = await t.store.db.withTenant(c.id, (tx) => t.services.pseudonyms.inner.destroy(tx, { type: 'system', id: 'closure', name: 'closure', role: 'system', tenantId: null }));
      assert.deepEqual(out, { mappings: 2, versions: 1 });
      assertProblem(await resolve(c, { collection: 'patients', field: 'email', pseudonym: rec.pseudonyms.email, reason: 'after closure' }), 404, 'pseudonym.not_found');
      const rows = await t.store.db.query<{ n: number }>("select count(*)::int as n from pseudonym_keys where tenant_id = $1 and wrapped is not null", [c.id]);
      assert.equal(rows[0].n, 0, 'no wrapped pseudonym key is left');
    });

    it('refuses a rotation while too many versions are live', async () => {
      const rotate = () => t.call('POST', `/v1/tenants/${a.id}/pseudonyms/rotate`, { token: a.owner });
      assert.equal((await rotate()).statusCode, 200);
      assert.equal((await rotate()).statusCode, 200);
      assertProblem(await rotate(), 409, 'pseudonym.too_many_versions');
      assertProblem(await t.call('POST', `/v1/tenants/${a.id}/pseudonyms/rotate`, { token: a.editor }), 403, 'auth.forbidden');
    });
  });
}
