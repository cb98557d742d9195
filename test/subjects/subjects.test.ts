import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { backends, openRootKey } from '../helpers/backends.ts';
import { assertProblem } from '../helpers/problem.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { canonicalJson } from '../../src/audit/audit-leaf.ts';
import { signingKeyFor, verifyEd25519 } from '../../src/crypto/signing.ts';
import { ledgerFile } from '../../src/subject-rights/erasure-ledger.ts';
import { heldRecordIds } from '../../src/subject-rights/subjects-repo.ts';

const orders = { name: 'orders', fields: [
  { name: 'email', type: 'email', searchable: true },
  { name: 'item', type: 'string', classification: 'none' },
  { name: 'note', type: 'string' },
] };
// Has an email field, but not indexed: a subject lookup cannot reach it.
const notes = { name: 'notes', fields: [{ name: 'email', type: 'email' }, { name: 'text', type: 'string' }] };

for (const backend of backends) {
  describe(`data-subject requests [${backend}]`, () => {
    let t: TestApp;
    before(async () => { t = await startTestApp(backend); });
    after(async () => t.close());

    /** A tenant with customers, orders and notes; Ada has a customer record and two orders, Bob one of each. */
    async function arrange(name: string) {
      const s = await seedTenant(t, name);
      for (const c of [orders, notes]) assert.equal((await t.call('POST', `/v1/tenants/${s.tenantId}/collections`, { token: s.adminKey, body: c })).statusCode, 201);
      const rec = async (collection: string, data: Record<string, unknown>) => {
        const res = await t.call('POST', `/v1/tenants/${s.tenantId}/collections/${collection}/records`, { token: s.adminKey, body: { data } });
        assert.equal(res.statusCode, 201, res.body);
        return res.json().id as string;
      };
      const ids = {
        adaCustomer: await rec('customers', { email: 'Ada@Example.com', name: 'Ada Lovelace', phone: '+44 20 7946 0958', birthdate: '1815-12-10', tier: 'gold' }),
        adaOrder1: await rec('orders', { email: 'ada@example.com', item: 'engine', note: 'gift wrap' }),
        adaOrder2: await rec('orders', { email: 'ada@example.com', item: 'punch cards' }),
        adaNote: await rec('notes', { email: 'ada@example.com', text: 'called' }),
        bobCustomer: await rec('customers', { email: 'bob@example.com', name: 'Bob' }),
        bobOrder: await rec('orders', { email: 'bob@example.com', item: 'loom' }),
      };
      const sub = `/v1/tenants/${s.tenantId}/subjects`;
      return { ...s, ids, sub, holds: `/v1/tenants/${s.tenantId}/legal-holds`,
        find: async (where: Record<string, unknown>) => {
          const res = await t.call('POST', `${sub}/find`, { token: s.adminKey, body: { where } });
          assert.equal(res.statusCode, 200, res.body);
          return res.json().records as Array<{ collection: string; id: string }>;
        } };
    }
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);

    it('finds a subject in every collection that indexes the field, and only there', async () => {
      const a = await arrange('Find');
      const found = await a.find({ email: ' ADA@example.com' });
      assert.deepEqual(found.sort(byId), [
        { collection: 'customers', id: a.ids.adaCustomer }, { collection: 'orders', id: a.ids.adaOrder1 }, { collection: 'orders', id: a.ids.adaOrder2 },
      ].sort(byId));
      // Two fields: only collections indexing both are searched (orders has no phone).
      assert.deepEqual(await a.find({ email: 'ada@example.com', phone: '+442079460958' }), [{ collection: 'customers', id: a.ids.adaCustomer }]);
      assert.deepEqual(await a.find({ email: 'nobody@example.com' }), []);
    });

    it('exports the subject as machine-readable JSON with collections, classifications, values and times', async () => {
      const a = await arrange('Export');
      const res = await t.call('POST', `${a.sub}/export`, { token: a.adminKey, body: { where: { email: 'ada@example.com' } } });
      assert.equal(res.statusCode, 200, res.body);
      const x = res.json();
      assert.equal(x.format, 'tresor.subject-export.v1');
      assert.equal(x.tenantId, a.tenantId);
      assert.ok(!Number.isNaN(Date.parse(x.exportedAt)));
      assert.deepEqual(x.collections.map((c: { name: string }) => c.name).sort(), ['customers', 'orders']);
      assert.deepEqual(x.collections.find((c: { name: string }) => c.name === 'orders').fields, [
        { name: 'email', type: 'email', classification: 'personal' }, { name: 'item', type: 'string', classification: 'none' },
        { name: 'note', type: 'string', classification: 'personal' }]);
      assert.equal(x.records.length, 3);
      const customer = x.records.find((r: { id: string }) => r.id === a.ids.adaCustomer);
      assert.equal(customer.collection, 'customers');
      assert.equal(customer.version, 1);
      assert.ok(customer.createdAt && customer.updatedAt);
      assert.deepEqual(customer.data, { email: 'ada@example.com', name: 'Ada Lovelace', phone: '+442079460958', birthdate: '1815-12-10', tier: 'gold' });
      assert.deepEqual(customer.classifications, { email: 'personal', name: 'personal', phone: 'personal', birthdate: 'special', tier: 'none' });
      const order = x.records.find((r: { id: string }) => r.id === a.ids.adaOrder1);
      assert.deepEqual(order.data, { email: 'ada@example.com', item: 'engine', note: 'gift wrap' });
      assert.deepEqual(order.classifications, { email: 'personal', item: 'none', note: 'personal' });
    });

    it('rectification is a PATCH of each record found; the export then shows the corrected value', async () => {
      const a = await arrange('Rectify');
      for (const r of await a.find({ email: 'ada@example.com' })) {
        const res = await t.call('PATCH', `/v1/tenants/${a.tenantId}/collections/${r.collection}/records/${r.id}`,
          { token: a.adminKey, body: { data: { email: 'ada.king@example.com' } } });
        assert.equal(res.statusCode, 200, res.body);
      }
      assert.deepEqual(await a.find({ email: 'ada@example.com' }), []);
      assert.equal((await a.find({ email: 'ada.king@example.com' })).length, 3);
    });

    it('erases every record of the subject, answers a verifiable certificate and writes the ledger (table and file)', async () => {
      const a = await arrange('Erase');
      const res = await t.call('POST', `${a.sub}/erase`, { token: a.adminKey, body: { where: { email: 'ada@example.com' }, reason: 'Art. 17 request 2026-03-02' } });
      assert.equal(res.statusCode, 200, res.body);
      const { erased, certificate } = res.json();
      assert.equal(erased, 3);
      assert.deepEqual(await a.find({ email: 'ada@example.com' }), []);
      assertProblem(await t.call('GET', `/v1/tenants/${a.tenantId}/collections/orders/records/${a.ids.adaOrder1}`, { token: a.adminKey }), 404, 'record.not_found');
      // Bob and the unindexed note stay.
      assert.equal((await a.find({ email: 'bob@example.com' })).length, 2);
      assert.equal((await t.call('GET', `/v1/tenants/${a.tenantId}/collections/notes/records/${a.ids.adaNote}`, { token: a.adminKey })).statusCode, 200);

      const st = certificate.statement;
      assert.equal(st.type, 'tresor.erasure-certificate.v1');
      assert.equal(st.tenantId, a.tenantId);
      assert.equal(st.reason, 'Art. 17 request 2026-03-02');
      assert.equal(st.erased, 3);
      assert.deepEqual(st.subject, { fields: ['email'] });
      assert.deepEqual(st.collections.flatMap((c: { records: string[] }) => c.records).sort(), [a.ids.adaCustomer, a.ids.adaOrder1, a.ids.adaOrder2].sort());
      const publicKey = Buffer.from(certificate.publicKey, 'base64');
      const keyProvider = await openRootKey(t.store.config, t.store.db);
      assert.deepEqual(publicKey, signingKeyFor(keyProvider, 'erasure.certificate').publicKey);
      const bytes = Buffer.from(canonicalJson(st), 'utf8');
      assert.ok(verifyEd25519(publicKey, bytes, Buffer.from(certificate.signature, 'base64')));
      assert.ok(!verifyEd25519(publicKey, Buffer.from(canonicalJson({ ...st, erased: 2 }), 'utf8'), Buffer.from(certificate.signature, 'base64')));

      const rows = await t.store.db.withTenant(a.tenantId, (tx) => tx.query<{ id: string; entry: Uint8Array }>('select id::text as id, entry from erasure_ledger'));
      assert.equal(rows.length, 1);
      assert.equal(rows[0].id, st.id);
      const entry = JSON.parse(Buffer.from(rows[0].entry).toString('utf8'));
      assert.deepEqual(entry.recordIds.sort(), [a.ids.adaCustomer, a.ids.adaOrder1, a.ids.adaOrder2].sort());
      assert.equal(entry.groups.length, 2);
      for (const g of entry.groups) assert.match(g.terms[0].hash, /^[0-9a-f]{64}$/);
      const file = readFileSync(ledgerFile(t.store.config.backupDir), 'utf8');
      assert.ok(file.includes(st.id));
      assert.ok(!/ada@example\.com|lovelace/i.test(file) && !/ada@example\.com/.test(Buffer.from(rows[0].entry).toString('utf8')));
      // Erasing again finds nothing and says so.
      const again = await t.call('POST', `${a.sub}/erase`, { token: a.adminKey, body: { where: { email: 'ada@example.com' }, reason: 'repeat' } });
      assert.equal(again.json().erased, 0);
    });

    it('a legal hold covers collections created after it; a released hold does not reach new ones and keeps no lookup value', async () => {
      const a = await arrange('HoldLater');
      const h = (await t.call('POST', a.holds, { token: a.adminKey, body: { where: { email: 'ada@example.com' }, reason: 'litigation 2026/18' } })).json();
      const tickets = { name: 'tickets', fields: [{ name: 'email', type: 'email', searchable: true }, { name: 'topic', type: 'string' }] };
      assert.equal((await t.call('POST', `/v1/tenants/${a.tenantId}/collections`, { token: a.adminKey, body: tickets })).statusCode, 201);
      const rec = async (collection: string, email: string) =>
        (await t.call('POST', `/v1/tenants/${a.tenantId}/collections/${collection}/records`, { token: a.adminKey, body: { data: { email } } })).json().id as string;
      const adaTicket = await rec('tickets', 'ada@example.com');
      const bobTicket = await rec('tickets', 'bob@example.com');
      const held = await t.store.db.withTenant(a.tenantId, (tx) => heldRecordIds(tx, [adaTicket, bobTicket]));
      assert.deepEqual([...held], [adaTicket]);
      // Only the new collection's record is left of Ada's indexed ones: the erasure is still refused because of it.
      for (const id of [a.ids.adaCustomer]) assert.equal((await t.call('DELETE', `${a.base}/${id}`, { token: a.adminKey })).statusCode, 204);
      for (const id of [a.ids.adaOrder1, a.ids.adaOrder2]) {
        assert.equal((await t.call('DELETE', `/v1/tenants/${a.tenantId}/collections/orders/records/${id}`, { token: a.adminKey })).statusCode, 204);
      }
      const erase = () => t.call('POST', `${a.sub}/erase`, { token: a.adminKey, body: { where: { email: 'ada@example.com' }, reason: 'Art. 17' } });
      assertProblem(await erase(), 409, 'subject.legal_hold');
      assert.equal((await t.call('DELETE', `${a.holds}/${h.id}`, { token: a.adminKey })).statusCode, 200);
      const kept = await t.store.db.withTenant(a.tenantId, (tx) => tx.query<{ sealed: Uint8Array | null }>('select subject_sealed as sealed from legal_holds where id = $1', [h.id]));
      assert.equal(kept[0].sealed, null, 'the released hold keeps no lookup value');
      const more = { name: 'visits', fields: [{ name: 'email', type: 'email', searchable: true }] };
      assert.equal((await t.call('POST', `/v1/tenants/${a.tenantId}/collections`, { token: a.adminKey, body: more })).statusCode, 201);
      const adaVisit = await rec('visits', 'ada@example.com');
      assert.deepEqual([...await t.store.db.withTenant(a.tenantId, (tx) => heldRecordIds(tx, [adaVisit, adaTicket]))], []);
      const ok = await erase();
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().erased, 2);
    });

    it('a legal hold blocks erasure with 409 until it is released; holds are listed with who and when', async () => {
      const a = await arrange('Hold');
      const hold = await t.call('POST', a.holds, { token: a.adminKey, body: { where: { email: 'ada@example.com' }, reason: 'litigation 2026/17' } });
      assert.equal(hold.statusCode, 201, hold.body);
      const h = hold.json();
      assert.equal(h.reason, 'litigation 2026/17');
      assert.deepEqual(h.fields, ['email']);
      assert.equal(h.releasedAt, null);
      const erase = () => t.call('POST', `${a.sub}/erase`, { token: a.adminKey, body: { where: { email: 'ada@example.com' }, reason: 'Art. 17' } });
      assertProblem(await erase(), 409, 'subject.legal_hold');
      assert.equal((await a.find({ email: 'ada@example.com' })).length, 3);
      // A record of the subject added after the hold is held too; other subjects are not.
      const later = await t.call('POST', `/v1/tenants/${a.tenantId}/collections/orders/records`, { token: a.adminKey, body: { data: { email: 'ada@example.com', item: 'later' } } });
      const held = await t.store.db.withTenant(a.tenantId, (tx) => heldRecordIds(tx, [later.json().id, a.ids.adaOrder1, a.ids.bobOrder, a.ids.adaNote]));
      assert.deepEqual([...held].sort(), [later.json().id, a.ids.adaOrder1].sort());
      const bob = await t.call('POST', `${a.sub}/erase`, { token: a.adminKey, body: { where: { email: 'bob@example.com' }, reason: 'Art. 17' } });
      assert.equal(bob.statusCode, 200, bob.body);

      const list = await t.call('GET', a.holds, { token: a.adminKey });
      assert.equal(list.statusCode, 200);
      assert.deepEqual(list.json().items.map((x: { id: string }) => x.id), [h.id]);
      const released = await t.call('DELETE', `${a.holds}/${h.id}`, { token: a.adminKey });
      assert.equal(released.statusCode, 200, released.body);
      assert.ok(released.json().releasedAt);
      assert.match(released.json().releasedBy, /^api_key:/);
      assertProblem(await t.call('DELETE', `${a.holds}/${h.id}`, { token: a.adminKey }), 404, 'legal_hold.not_found');
      const ok = await erase();
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().erased, 4);
    });

    it('another tenant\'s subject: 404 with that tenant in the path, nothing found in one\'s own', async () => {
      const a = await arrange('Mine');
      const b = await seedTenant(t, 'Theirs');
      for (const path of ['find', 'export']) {
        assertProblem(await t.call('POST', `${a.sub}/${path}`, { token: b.adminKey, body: { where: { email: 'ada@example.com' } } }), 404, 'tenant.not_found');
      }
      assertProblem(await t.call('POST', `${a.sub}/erase`, { token: b.adminKey, body: { where: { email: 'ada@example.com' }, reason: 'x' } }), 404, 'tenant.not_found');
      assertProblem(await t.call('POST', a.holds, { token: b.adminKey, body: { where: { email: 'ada@example.com' }, reason: 'x' } }), 404, 'tenant.not_found');
      const own = await t.call('POST', `/v1/tenants/${b.tenantId}/subjects/find`, { token: b.adminKey, body: { where: { email: 'ada@example.com' } } });
      assert.deepEqual(own.json(), { records: [] });
      const hold = (await t.call('POST', a.holds, { token: a.adminKey, body: { where: { email: 'ada@example.com' }, reason: 'x' } })).json();
      assertProblem(await t.call('DELETE', `/v1/tenants/${b.tenantId}/legal-holds/${hold.id}`, { token: b.adminKey }), 404, 'legal_hold.not_found');
      assert.equal((await a.find({ email: 'ada@example.com' })).length, 3);
    });

    it('roles: editors and viewers may not make subject requests (403); auditors list holds but place none', async () => {
      const a = await arrange('Roles');
      const key = async (role: string) => (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { token: a.adminKey, body: { name: role, role } })).json().key;
      const body = { where: { email: 'ada@example.com' }, reason: 'x' };
      for (const role of ['editor', 'viewer', 'auditor']) {
        const k = await key(role);
        assertProblem(await t.call('POST', `${a.sub}/find`, { token: k, body: { where: body.where } }), 403, 'auth.forbidden');
        assertProblem(await t.call('POST', `${a.sub}/export`, { token: k, body: { where: body.where } }), 403, 'auth.forbidden');
        assertProblem(await t.call('POST', `${a.sub}/erase`, { token: k, body }), 403, 'auth.forbidden');
        assertProblem(await t.call('POST', a.holds, { token: k, body }), 403, 'auth.forbidden');
        assert.equal((await t.call('GET', a.holds, { token: k })).statusCode, role === 'auditor' ? 200 : 403);
      }
      assertProblem(await t.call('POST', `${a.sub}/find`, { body: { where: body.where } }), 403, 'auth.forbidden');
      assert.equal((await a.find({ email: 'ada@example.com' })).length, 3);
    });

    it('a malformed where answers 400 problem+json, names fields never values, and changes nothing', async () => {
      const a = await arrange('Bad');
      const bad = (path: string, body: unknown) => t.call('POST', `${a.sub}/${path}`, { token: a.adminKey, body });
      const unknown = assertProblem(await bad('find', { where: { shoe_size: '44' } }), 400, 'subject.where_invalid');
      assert.deepEqual(unknown.problems.map((p: { code: string; field: string }) => [p.field, p.code]), [['shoe_size', 'record.unknown_field']]);
      const unsearchable = assertProblem(await bad('export', { where: { name: 'Ada Lovelace' } }), 400, 'subject.where_invalid');
      assert.deepEqual(unsearchable.problems.map((p: { code: string }) => p.code), ['record.field_not_searchable']);
      const wrongType = assertProblem(await bad('erase', { where: { email: 'Ada Lovelace' }, reason: 'x' }), 400, 'subject.where_invalid');
      assert.deepEqual(wrongType.problems.map((p: { code: string }) => p.code), ['record.invalid_email']);
      assert.ok(!JSON.stringify([unknown, unsearchable, wrongType]).includes('Lovelace'));
      assertProblem(await bad('find', { where: {} }), 400, 'request.validation_failed');
      assertProblem(await bad('find', {}), 400, 'request.validation_failed');
      const many = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`f${i}`, 'x']));
      assertProblem(await bad('find', { where: many }), 400, 'request.validation_failed');
      assertProblem(await bad('find', { where: { 'Bad-Name': 'x' } }), 400, 'request.validation_failed');
      assertProblem(await bad('erase', { where: { email: 'ada@example.com' } }), 400, 'request.validation_failed');
      assertProblem(await bad('erase', { where: { email: 'ada@example.com' }, reason: '' }), 400, 'request.validation_failed');
      assertProblem(await bad('erase', { where: { email: 'ada@example.com' }, reason: 'x'.repeat(501) }), 400, 'request.validation_failed');
      assertProblem(await t.call('POST', a.holds, { token: a.adminKey, body: { where: { shoe_size: 1 }, reason: 'x' } }), 400, 'subject.where_invalid');
      assert.equal((await a.find({ email: 'ada@example.com' })).length, 3);
      assert.deepEqual((await t.call('GET', a.holds, { token: a.adminKey })).json().items, []);
    });
  });
}
