// Rules that open incidents by themselves (actor: the system), each from where
// its signal is produced, and their deduplication: one open incident per rule
// and subject, further hits as timeline events.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends } from '../helpers/backends.ts';
import { type TestApp, anotherNode, seedTenant, startTestApp } from '../helpers/test-app.ts';
import { makeBackup, verifyBackupNow } from '../backup/backup-fixture.ts';
import { manualClock } from '../helpers/people.ts';
import { verifyAuditLog } from '../../src/cli/audit-commands.ts';
import type { Db } from '../../src/db/db.ts';

interface Incident { id: string; title: string; rule: string | null; category: string; openedBy: { type: string; id: string }; timeline?: { kind: string; note: string }[] }

for (const backend of backends) {
  describe(`incident rules [${backend}]`, () => {
    let t: TestApp;
    let s: Awaited<ReturnType<typeof seedTenant>>;
    const clock = manualClock(Date.now());
    const backupDir = mkdtempSync(join(tmpdir(), 'tresor-incident-backups-'));
    const byRule = async (rule: string) => {
      await t.services.incidentRules.idle();
      const items = (await t.call('GET', '/v1/incidents?limit=500')).json().items as Incident[];
      return items.filter((i) => i.rule === rule);
    };
    const timeline = async (id: string) => (await t.call('GET', `/v1/incidents/${id}`)).json().timeline as { kind: string; note: string }[];

    before(async () => {
      t = await startTestApp(backend, { now: clock.now, env: { TRESOR_BACKUP_DIR: backupDir, TRESOR_INCIDENT_DENIAL_THRESHOLD: '3', TRESOR_INCIDENT_LOCKOUT_THRESHOLD: '2', TRESOR_EGRESS_ALLOW: 'DE https://allowed.example/' } });
      s = await seedTenant(t, 'Ruled', 'viewer');
    });
    after(async () => { await t.close(); rmSync(backupDir, { recursive: true, force: true }); });

    it('a refused transfer opens one incident per destination; the next refusal is a timeline event', async () => {
      for (let i = 0; i < 2; i++) {
        await assert.rejects(t.services.egress.send({ tenantId: s.tenantId, purpose: 'webhook', url: 'https://elsewhere.example/x', body: '{}' }),
          { code: 'transfer.destination_not_allowed' });
      }
      const [incident, ...more] = await byRule('egress_refused');
      assert.equal(more.length, 0);
      assert.deepEqual([incident.category, incident.openedBy], ['confidentiality', { type: 'system', id: 'incident-rules' }]);
      assert.deepEqual((await timeline(incident.id)).map((e) => e.kind), ['opened', 'rule_hit']);
    });

    it('a burst of refused requests by one key opens an incident', async () => {
      for (let i = 0; i < 4; i++) assert.equal((await t.call('POST', s.base, { token: s.key, body: { data: { name: 'denied' } } })).statusCode, 403);
      const [incident, ...more] = await byRule('denied_access_burst');
      assert.equal(more.length, 0, 'one burst, one incident');
      assert.match((await timeline(incident.id))[0].note, /3 refusals of api_key:/);
    });

    it('refusals spread over two nodes add up to a burst (counted in the database, not per process)', async () => {
      const { services: other, app: node2 } = await anotherNode(t, { now: clock.now });
      try {
        const key = (await t.call('POST', `/v1/tenants/${s.tenantId}/api-keys`, { body: { name: 'spread', role: 'viewer' } })).json();
        const refuse = async (app: typeof node2) => assert.equal((await app.inject({ method: 'POST', url: s.base,
          headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' }, payload: '{"data":{"name":"denied"}}' })).statusCode, 403);
        await refuse(t.app);
        await refuse(node2);
        await other.incidentRules.idle();
        assert.equal((await byRule('denied_access_burst')).filter((i) => i.title.includes(key.id)).length, 0, 'two refusals are no burst');
        await refuse(node2);
        await other.incidentRules.idle();
        const [incident] = (await byRule('denied_access_burst')).filter((i) => i.title.includes(key.id));
        assert.ok(incident, 'the third refusal, on the second node, completes the burst');
        assert.match((await timeline(incident.id))[0].note, new RegExp(`3 refusals of api_key:${key.id}`));
      } finally {
        await node2.close();
      }
    });

    it('lockouts in one tenant open an incident; after the dedup window the next burst opens a new one', async () => {
      const locked = async (userId: string) => t.services.securityEvents.recordAlone({ type: 'account.locked', tenantId: s.tenantId,
        actor: { type: 'user', id: userId, name: userId, role: 'viewer', tenantId: s.tenantId, sessionId: 'none' } });
      await locked('u1');
      assert.equal((await byRule('lockout_burst')).length, 0, 'one lockout is no burst');
      await locked('u2');
      const [first] = await byRule('lockout_burst');
      assert.match((await timeline(first.id))[0].note, new RegExp(`2 account lockouts \\(tenant:${s.tenantId}\\)`));
      await locked('u3');
      await locked('u4');
      assert.deepEqual((await byRule('lockout_burst')).map((i) => i.id), [first.id], 'within the window: a timeline event');
      assert.deepEqual((await timeline(first.id)).map((e) => e.kind), ['opened', 'rule_hit']);
      clock.advance(25 * 3_600_000);
      await locked('u5');
      await locked('u6');
      assert.equal((await byRule('lockout_burst')).length, 2, 'past TRESOR_INCIDENT_DEDUP_HOURS: a new incident');
    });

    it('support acting on a tenant without an approved grant opens an incident', async () => {
      const support = (await t.call('POST', '/v1/operator-keys', { body: { name: 'helpdesk', role: 'support' } })).json().key;
      assert.equal((await t.call('GET', s.base, { token: support })).statusCode, 403);
      const [incident] = await byRule('support_without_approval');
      assert.ok(incident, 'opened');
      assert.match((await timeline(incident.id))[0].note, /GET \/v1\/tenants\/:tenantId\/collections\/:name\/records \(records\.read\) without an approved grant/);
    });

    it('a tampered audit log fails tresor audit verify, which opens an integrity incident', async () => {
      await t.services.requestLog.flush();
      await t.services.sequencer.sequence();
      await t.store.db.transaction(async (tx) => {
        await tx.query("set local session_replication_role = 'replica'");
        await tx.query(`update audit_entries set leaf = convert_to(replace(convert_from(leaf, 'UTF8'), '"v":1', '"v":2'), 'UTF8')
          where id = (select max(entry_id) from audit_log)`);
      });
      // The command's own store handle, whose close leaves the test's store open.
      const db = new Proxy(t.store.db, { get: (target, p) => (p === 'close' ? async () => {} : Reflect.get(target, p)) }) as Db;
      const keyProvider = await (await import('../helpers/backends.ts')).openRootKey(t.store.config, t.store.db);
      const code = await verifyAuditLog(t.store.config, { json: true }, async () => ({ db, keyProvider }));
      assert.equal(code, 1);
      const [incident] = await byRule('audit_verify_failed');
      assert.equal(incident.category, 'integrity');
      assert.match((await timeline(incident.id))[0].note, /first bad seq \d+/);
    });

    if (backend === 'pglite') {
      it('a failed restore verification opens an availability incident', async () => {
        const id = (await makeBackup(t)).id;
        const path = join(backupDir, `${id}.tresorbak`);
        const bytes = readFileSync(path);
        bytes[bytes.length - 10] ^= 0xff;
        writeFileSync(path, bytes);
        const { verification } = await verifyBackupNow(t, { backupId: id });
        assert.equal(verification.result, 'failed');
        const [incident] = await byRule('restore_verification_failed');
        assert.equal(incident.category, 'availability');
        assert.match((await timeline(incident.id))[0].note, new RegExp(`verification ${verification.id} of backup ${id} failed: checksum`));
      });
    }
  });
}
