// The TOM register through the API: every template measure with its status,
// live evidence that fails when the thing it checks fails (a broken RLS
// policy, an expired restore verification), attestations flagged past their
// review date, the signed annex in both languages, roles and bad input.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { backends } from '../helpers/backends.ts';
import { type TestApp, seedTenant, startTestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';
import { TEMPLATE } from '../../src/tom/tom-template.ts';
import { verifyDocument } from '../../src/tom/tom-signature.ts';

type Entry = { key: string; kind: string; status: string; evidence: { status: string; summary: { de: string; en: string }; checkedAt: string } | null;
  attestation: { documentSha256: string | null } | null; owner: string | null; description: { de: string; en: string } };

const POLICY = "tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid";

for (const backend of backends) {
  describe(`TOM register and annex [${backend}]`, () => {
    let t: TestApp;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let b: Awaited<ReturnType<typeof seedTenant>>;
    let ownerKey: string;
    const entries = async () => {
      const res = await t.call('GET', '/v1/tom/entries');
      assert.equal(res.statusCode, 200, res.body);
      return new Map((res.json().items as Entry[]).map((e) => [e.key, e]));
    };
    const annex = async (lang: string, format = 'md') => {
      const res = await t.call('GET', `/v1/tom/report?lang=${lang}&format=${format}`);
      assert.equal(res.statusCode, 200, res.body.slice(0, 300));
      return res.body;
    };
    /** The annex line of one measure (Markdown: title, status, then its indented lines). */
    const block = (md: string, title: string) => {
      const at = md.indexOf(`**${title}**`);
      assert.ok(at >= 0, `${title} is in the annex`);
      return md.slice(at, md.indexOf('\n- **', at + 1) > 0 ? md.indexOf('\n- **', at + 1) : md.indexOf('\n## ', at));
    };
    const title = (key: string, lang: 'de' | 'en') => TEMPLATE.find((m) => m.key === key)!.title[lang];
    const platformEvents = async () => (await t.call('GET', '/v1/security-events?limit=100')).json().items as { type: string; detail: Record<string, unknown> }[];

    before(async () => {
      t = await startTestApp(backend);
      a = await seedTenant(t, 'Register A');
      b = await seedTenant(t, 'Register B');
      ownerKey = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: 'owner', role: 'owner' } })).json().key;
      await t.call('POST', a.base, { token: a.key, body: { data: { email: `${randomUUID()}@a.example`, name: 'Ada' } } });
      await t.call('POST', b.base, { token: b.key, body: { data: { email: `${randomUUID()}@b.example`, name: 'Bob' } } });
    });
    after(() => t.close());

    it('lists every template measure; technical ones carry evidence with its check time, the others are not attested yet', async () => {
      const all = await entries();
      assert.deepEqual([...all.keys()].sort(), TEMPLATE.map((m) => m.key).sort());
      for (const m of TEMPLATE) {
        const e = all.get(m.key)!;
        assert.equal(e.kind, m.kind);
        if (m.check) {
          assert.ok(e.evidence && !Number.isNaN(Date.parse(e.evidence.checkedAt)), `${m.key} has evidence`);
          assert.equal(e.status, e.evidence.status);
        } else assert.equal(e.status, 'unattested', m.key);
      }
      assert.equal(all.get('separation.tenants')!.status, 'met', JSON.stringify(all.get('separation.tenants')!.evidence));
      assert.equal(all.get('data.encryption')!.status, 'met', JSON.stringify(all.get('data.encryption')!.evidence));
      assert.equal(all.get('access.mfa')!.status, 'met');
      assert.equal(all.get('recovery.restore_tests')!.status, 'failing', 'never verified is not met');
    });

    it('an RLS policy broken on purpose shows tenant separation failing, in both languages, and raises a security event once', async () => {
      await t.store.db.exec('alter policy tenant_isolation on collections using (true)');
      try {
        const de = block(await annex('de'), title('separation.tenants', 'de'));
        assert.match(de, /Status: \*\*NICHT ERFÜLLT\*\*/);
        assert.match(de, /Mandantentrennung verletzt: collections zeigt fremde Zeilen/);
        assert.match(de, /geprüft am \d{4}-\d\d-\d\dT/);
        const en = block(await annex('en'), title('separation.tenants', 'en'));
        assert.match(en, /Status: \*\*FAILING\*\*/);
        assert.match(en, /Tenant separation broken: collections shows other tenants' rows/);
        const raised = (await platformEvents()).filter((e) => e.type === 'tom.measure_failing' && e.detail.measure === 'separation.tenants');
        assert.equal(raised.length, 1, 'one event for the change to failing, not one per report');
      } finally {
        await t.store.db.exec(`alter policy tenant_isolation on collections using (${POLICY})`);
      }
      assert.equal((await entries()).get('separation.tenants')!.status, 'met');
    });

    it('an expired restore verification shows failing; a recent one met', async () => {
      const insert = (daysAgo: number) => t.store.db.query(`insert into backup_verifications (id, backup_id, verified_at, result, evidence, signature, key_id, public_key)
        values ($1, '20260101T000000000Z-0000abcd', $2, 'passed', '\\x7b7d', '\\x00', 'k', '\\x00')`, [randomUUID(), new Date(Date.now() - daysAgo * 86_400_000)]);
      await insert(20);
      const expired = (await entries()).get('recovery.restore_tests')!;
      assert.equal(expired.status, 'failing');
      assert.match(expired.evidence!.summary.en, /expired: 20 days old \(allowed: 14\)/);
      assert.match(block(await annex('de'), title('recovery.restore_tests', 'de')), /NICHT ERFÜLLT[\s\S]*abgelaufen: 20 Tage alt/);
      await insert(1);
      assert.equal((await entries()).get('recovery.restore_tests')!.status, 'met');
    });

    it('an attestation past its review date is flagged overdue; a current one with its document hash is met', async () => {
      const day = 86_400_000;
      const past = await t.call('POST', '/v1/tom/entries/physical.dc_guards/attestations', { body: {
        attestedBy: 'Facility management', attestedAt: new Date(Date.now() - 400 * day).toISOString(), nextReviewAt: new Date(Date.now() - 35 * day).toISOString(),
        documentSha256: 'AB'.repeat(32) } });
      assert.equal(past.statusCode, 201, past.body);
      assert.equal(past.json().documentSha256, 'ab'.repeat(32));
      assert.equal((await entries()).get('physical.dc_guards')!.status, 'overdue');
      assert.match(block(await annex('de'), title('physical.dc_guards', 'de')), /ÜBERPRÜFUNG ÜBERFÄLLIG/);
      assert.match(block(await annex('en'), title('physical.dc_guards', 'en')), /REVIEW OVERDUE[\s\S]*attested by Facility management/);
      assert.ok((await platformEvents()).some((e) => e.type === 'tom.measure_failing' && e.detail.measure === 'physical.dc_guards' && e.detail.status === 'overdue'));

      const doc = Buffer.from('Wachdienstvertrag 2026, Anlage 3');
      const current = await t.call('POST', '/v1/tom/entries/physical.dc_guards/attestations', { body: {
        attestedBy: 'Facility management', nextReviewAt: new Date(Date.now() + 300 * day).toISOString(), document: doc.toString('base64') } });
      assert.equal(current.statusCode, 201, current.body);
      assert.equal(current.json().documentSha256, createHash('sha256').update(doc).digest('hex'));
      assert.equal(current.json().documentBytes, doc.length);
      assert.equal((await entries()).get('physical.dc_guards')!.status, 'met');
    });

    it('the operator adapts an entry: owner and wording show in the annex', async () => {
      const res = await t.call('PATCH', '/v1/tom/entries/access.firewall', { body: { owner: 'IT operations', description: { en: 'nftables on every host; unattended-upgrades.' } } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().owner, 'IT operations');
      const en = block(await annex('en'), title('access.firewall', 'en'));
      assert.match(en, /nftables on every host/);
      assert.match(en, /Owner: IT operations/);
      assert.equal((await t.call('PATCH', '/v1/tom/entries/access.firewall', { body: { description: { en: null } } })).json().description.en,
        TEMPLATE.find((m) => m.key === 'access.firewall')!.description.en);
    });

    it('the annex is signed with the published key; a changed byte fails', async () => {
      const html = await annex('de', 'html');
      assert.match(html, /<html lang="de">/);
      const pinned = Buffer.from((await t.app.inject({ method: 'GET', url: '/v1/tom/public-key' })).json().publicKey, 'base64');
      const bytes = Buffer.from(html);
      assert.equal(verifyDocument(bytes, pinned).ok, true);
      for (const at of [100, Math.floor(bytes.length / 2), bytes.length - 20]) {
        const changed = Buffer.from(bytes);
        changed[at] ^= 0x01;
        assert.equal(verifyDocument(changed, pinned).ok, false, `byte ${at} changed`);
      }
      assert.equal(verifyDocument(bytes, Buffer.alloc(32, 7)).ok, false, 'another pinned key');
    });

    it('a tenant owner fetches the annex for the tenant; other roles get 403, other tenants 404', async () => {
      const own = await t.call('GET', `/v1/tenants/${a.tenantId}/tom/report?lang=en&format=md`, { token: ownerKey });
      assert.equal(own.statusCode, 200, own.body.slice(0, 300));
      assert.match(own.body, /Scope: the view of tenant: Register A/);
      assert.match(own.headers['content-type'] as string, /^text\/markdown/);
      assertProblem(await t.call('GET', `/v1/tenants/${b.tenantId}/tom/report`, { token: ownerKey }), 404, 'tenant.not_found');
      assertProblem(await t.call('GET', `/v1/tenants/${a.tenantId}/tom/report`, { token: a.adminKey }), 403, 'auth.forbidden');
      assertProblem(await t.call('GET', '/v1/tom/report', { token: ownerKey }), 403, 'auth.forbidden');
      assertProblem(await t.call('PATCH', '/v1/tom/entries/access.firewall', { token: ownerKey, body: { owner: 'x' } }), 403, 'auth.forbidden');
    });

    it('refuses malformed input and changes nothing', async () => {
      assertProblem(await t.call('GET', '/v1/tom/report?lang=fr'), 400, 'request.validation_failed');
      assertProblem(await t.call('GET', '/v1/tom/report?format=docx'), 400, 'request.validation_failed');
      assertProblem(await t.call('PATCH', '/v1/tom/entries/no.such_measure', { body: { owner: 'x' } }), 404, 'tom.entry_not_found');
      assertProblem(await t.call('PATCH', '/v1/tom/entries/access.firewall', { body: { reviewIntervalDays: 0 } }), 400, 'request.validation_failed');
      assertProblem(await t.call('PATCH', '/v1/tom/entries/access.firewall', { body: {} }), 400, 'request.validation_failed');
      assertProblem(await t.call('PATCH', '/v1/tom/entries/access.firewall', { body: { reviewedAt: new Date(Date.now() + 86_400_000).toISOString() } }), 422, 'tom.invalid_entry');
      const path = '/v1/tom/entries/physical.dc_fence/attestations';
      const now = Date.now();
      assertProblem(await t.call('POST', path, { body: { attestedBy: 'x', attestedAt: new Date(now - 1000).toISOString(), nextReviewAt: new Date(now - 2000).toISOString() } }), 422, 'tom.invalid_attestation');
      assertProblem(await t.call('POST', path, { body: { attestedBy: 'x', nextReviewAt: new Date(now + 1e9).toISOString(), documentSha256: 'ab'.repeat(32), document: 'eA==' } }), 422, 'tom.invalid_attestation');
      assertProblem(await t.call('POST', path, { body: { attestedBy: 'x', nextReviewAt: new Date(now + 1e9).toISOString(), documentSha256: 'xyz' } }), 400, 'request.validation_failed');
      assertProblem(await t.call('POST', path, { body: { attestedBy: 'x', nextReviewAt: new Date(now + 1e9).toISOString(),
        document: Buffer.alloc(t.store.config.tomDocumentMaxBytes + 1).toString('base64') } }), 422, 'tom.document_too_large');
      assertProblem(await t.call('POST', path, { body: { nextReviewAt: new Date(now + 1e9).toISOString() } }), 400, 'request.validation_failed');
      assert.equal((await entries()).get('physical.dc_fence')!.status, 'unattested');
    });
  });
}
