// Tenant closure: a closed tenant is read-only (every write 409
// tenant.not_active, nothing changes), readable and reopenable until its
// retention period ends; then its keys are destroyed (crypto-shredding), its
// rows deleted, and a signed deletion certificate issued.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { backends } from '../helpers/backends.ts';
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.ts';
import { assertProblem } from '../helpers/problem.ts';
import { manualClock } from '../helpers/people.ts';
import { verifyEd25519 } from '../../src/crypto/signing.ts';
import { signingKeyFor } from '../../src/crypto/signing.ts';
import { openRootKey } from '../helpers/backends.ts';
import { unwrapDataKey, type KeyPurpose } from '../../src/crypto/keyring.ts';
import type { KeyWrapper } from '../../src/crypto/key-provider.ts';
import type { Wrapping } from '../../src/keys/tenant-keks.ts';
import { decodeRecord } from '../../src/records/record-codec.ts';
import { toBuffer } from '../../src/db/db.ts';
import { addMonths } from '../../src/clock.ts';

const DAY = 86_400_000;
type Seeded = Awaited<ReturnType<typeof seedTenant>>;

for (const backend of backends) {
  describe(`tenant closure [${backend}]`, () => {
    let t: TestApp;
    const clock = manualClock(Date.now());
    before(async () => { t = await startTestApp(backend, { now: clock.now }); });
    after(async () => t.close());

    const tenantUrl = (s: Seeded) => `/v1/tenants/${s.tenantId}`;
    const members = { name: 'members', fields: [{ name: 'email', type: 'email', pseudonymize: true }] };
    const ownerKey = async (s: Seeded) =>
      (await t.call('POST', `/v1/tenants/${s.tenantId}/api-keys`, { body: { name: 'owner', role: 'owner' } })).json().key as string;
    const create = async (s: Seeded, i: number) => {
      const res = await t.call('POST', s.base, { token: s.key, body: { data: { email: `p${i}@closure.example`, name: `Person ${i}`, phone: '+4930901820', tier: 'gold' } } });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    };
    /** What a reader sees of a tenant: its records, collections and key versions. */
    const snapshot = async (s: Seeded) => ({
      records: (await t.call('GET', `${s.base}?limit=100`, { token: s.key })).json().items,
      collections: (await t.call('GET', `${tenantUrl(s)}/collections`, { token: s.adminKey })).json().items,
      keys: (await t.call('GET', `${tenantUrl(s)}/keys`, { token: s.adminKey })).json().versions,
    });

    it('close → closed with purgeAfter 13 months on; every write answers 409 tenant.not_active and changes nothing; reads work', async () => {
      const s = await seedTenant(t, 'Closing');
      const id = await create(s, 1);
      const res = await t.call('POST', `${tenantUrl(s)}/close`);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.status, 'closed');
      assert.equal(body.purgeAfter, addMonths(new Date(body.closedAt), 13).toISOString());
      assert.equal(body.closedAt, clock.now().toISOString());
      const before = await snapshot(s);
      const writes: Array<[string, string, unknown, string?]> = [
        ['POST', s.base, { data: { email: 'new@closure.example', name: 'New' } }],
        ['PATCH', `${s.base}/${id}`, { data: { name: 'Changed' } }],
        ['DELETE', `${s.base}/${id}`, undefined],
        ['POST', `${tenantUrl(s)}/collections`, { name: 'more', fields: [{ name: 'x', type: 'string' }] }, s.adminKey],
        ['POST', `${tenantUrl(s)}/keys/rotate`, undefined, s.adminKey],
        ['PUT', `${tenantUrl(s)}/collections/customers/retention`, { basis: 'created', days: 30 }, s.adminKey],
      ];
      for (const [method, url, payload, token] of writes) {
        assertProblem(await t.call(method, url, { token: token ?? s.key, body: payload }), 409, 'tenant.not_active');
      }
      const imported = await t.app.inject({ method: 'POST', url: `${s.base}/import`, payload: '{"data":{"email":"imp@closure.example","name":"Imp"}}\n',
        headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/x-ndjson' } });
      assertProblem(imported, 409, 'tenant.not_active');
      assert.deepEqual(await snapshot(s), before, 'nothing changed');
      assert.equal((await t.call('GET', `${s.base}/${id}`, { token: s.key })).json().data.name, 'Person 1');
      const search = await t.call('POST', `${s.base}/search`, { token: s.key, body: { where: { email: 'p1@closure.example' } } });
      assert.equal(search.statusCode, 200, search.body);
      assert.equal(search.json().items.length, 1);
      assert.equal((await t.call('GET', tenantUrl(s), { token: s.key })).json().status, 'closed');
    });

    it('closing twice answers 409 tenant.already_closed; reopening makes it writable again; reopening an active tenant 409 tenant.not_closed', async () => {
      const s = await seedTenant(t, 'Twice');
      assert.equal((await t.call('POST', `${tenantUrl(s)}/close`)).statusCode, 200);
      assertProblem(await t.call('POST', `${tenantUrl(s)}/close`), 409, 'tenant.already_closed');
      const reopened = await t.call('POST', `${tenantUrl(s)}/reopen`);
      assert.equal(reopened.statusCode, 200, reopened.body);
      assert.deepEqual([reopened.json().status, reopened.json().closedAt, reopened.json().purgeAfter], ['active', null, null]);
      await create(s, 2);
      assertProblem(await t.call('POST', `${tenantUrl(s)}/reopen`), 409, 'tenant.not_closed');
    });

    it('owners and operators may close and reopen; admins and auditors get 403; another tenant\'s owner 404', async () => {
      const s = await seedTenant(t, 'Roles');
      const other = await seedTenant(t, 'Elsewhere');
      const auditor = (await t.call('POST', `/v1/tenants/${s.tenantId}/api-keys`, { body: { name: 'a', role: 'auditor' } })).json().key;
      assertProblem(await t.call('POST', `${tenantUrl(s)}/close`, { token: s.adminKey }), 403, 'auth.forbidden');
      assertProblem(await t.call('POST', `${tenantUrl(s)}/close`, { token: auditor }), 403, 'auth.forbidden');
      assertProblem(await t.call('POST', `${tenantUrl(s)}/close`, { token: await ownerKey(other) }), 404, 'tenant.not_found');
      assertProblem(await t.call('GET', `${tenantUrl(s)}/deletion-certificates`, { token: await ownerKey(other) }), 404, 'tenant.not_found');
      assertProblem(await t.call('POST', '/v1/tenants/0190a000-0000-7000-8000-00000000beef/close'), 404, 'tenant.not_found');
      const owner = await ownerKey(s);
      assert.equal((await t.call('POST', `${tenantUrl(s)}/close`, { token: owner })).statusCode, 200);
      assert.equal((await t.call('POST', `${tenantUrl(s)}/reopen`, { token: owner })).statusCode, 200);
    });

    describe('after the retention period (clock moved 13 months on)', () => {
      let s: Seeded;
      let kept: Seeded;
      let keptRecord: string;
      let copied: { records: Array<Record<string, any>>; keys: Array<Record<string, any>>; pseudonymKeys: Array<Record<string, any>> };
      before(async () => {
        s = await seedTenant(t, 'Purged GmbH');
        kept = await seedTenant(t, 'Staying');
        for (let i = 0; i < 5; i++) await create(s, 10 + i);
        keptRecord = await create(kept, 99);
        // A collection with a pseudonymised field: the tenants get pseudonym keys too.
        for (const x of [s, kept]) {
          const res = await t.call('POST', `${tenantUrl(x)}/collections`, { token: x.adminKey, body: members });
          assert.equal(res.statusCode, 201, res.body);
        }
        for (const [x, i] of [[s, 1], [s, 2], [kept, 3]] as const) {
          const res = await t.call('POST', `${tenantUrl(x)}/collections/members/records`, { token: x.key, body: { data: { email: `m${i}@closure.example` } } });
          assert.equal(res.statusCode, 201, res.body);
        }
        assert.equal((await t.call('POST', `${tenantUrl(s)}/close`)).statusCode, 200);
        // What an attacker with a copy of the database (or a replica) holds before the purge.
        copied = await t.store.db.transaction(async (tx) => {
          await tx.query("select set_config('app.tenant_id', $1, true)", [s.tenantId]);
          return {
            records: await tx.query('select * from records where tenant_id = $1', [s.tenantId]),
            keys: await tx.query('select * from tenant_keys where tenant_id = $1', [s.tenantId]),
            pseudonymKeys: await tx.query('select * from pseudonym_keys where tenant_id = $1', [s.tenantId]),
          };
        });
        assert.equal(copied.records.length, 7);
        assert.equal(copied.pseudonymKeys.length, 1);
      });

      it('nothing is purged before purgeAfter; at purgeAfter the keys go, then the rows, and the tenant is a tombstone', async () => {
        clock.advance(395 * DAY - 2 * DAY);
        assert.deepEqual(await t.services.purge.purgeDue(), []);
        assert.equal((await t.call('GET', `${s.base}?limit=10`, { token: s.key })).statusCode, 200);
        clock.advance(40 * DAY);
        const purged = await t.services.purge.purgeDue();
        assert.deepEqual(purged.map((p) => p.tenantId).includes(s.tenantId), true);
        const tenant = (await t.call('GET', tenantUrl(s))).json();
        assert.equal(tenant.status, 'purged');
        // Its API keys are deleted too (401); a key this process validated within TRESOR_AUTH_CACHE_TTL_MS finds no tenant (404).
        const gone = await t.call('GET', `${s.base}?limit=10`, { token: s.key });
        assert.ok(['auth.invalid_credentials', 'tenant.not_found'].includes(gone.json().code), gone.body);
        for (const table of ['records', 'record_index', 'collections', 'tenant_keys', 'pseudonym_keys', 'pseudonym_map', 'api_keys', 'retention_policies', 'security_events', 'users']) {
          const [{ n }] = await t.store.db.transaction(async (tx) => {
            await tx.query("select set_config('app.tenant_id', $1, true)", [s.tenantId]);
            return tx.query<{ n: number }>(`select count(*)::int as n from ${table} where tenant_id = $1`, [s.tenantId]);
          });
          assert.equal(n, 0, `${table} still holds rows of the purged tenant`);
        }
        assert.equal((await t.call('GET', `${kept.base}/${keptRecord}`, { token: kept.key })).statusCode, 200, 'another tenant keeps its data');
        assertProblem(await t.call('POST', `${tenantUrl(s)}/reopen`), 409, 'tenant.keys_destroyed');
        assertProblem(await t.call('POST', `${tenantUrl(s)}/close`), 409, 'tenant.already_closed');
      });

      it('crypto-shredding: the copied rows and key rows cannot be decrypted with any key that remains', async () => {
        const keyProvider = await openRootKey(t.store.config, t.store.db);
        const remaining = await t.store.db.transaction(async (tx) => tx.query<{ tenant_id: string; purpose: KeyPurpose; version: number; wrapped: Uint8Array; wrapping: Wrapping }>(
          'select tenant_id::text, purpose, version, wrapped, wrapping from tenant_keys'));
        assert.ok(remaining.length >= 2, 'other tenants keep their keys');
        assert.equal(remaining.filter((k) => k.tenant_id === s.tenantId).length, 0);
        assert.ok(remaining.every((k) => k.wrapping === 'tenant'), 'every key row is wrapped under its tenant\'s KEK');
        // The purged tenant's secret is gone from the key directory; the other tenants' are there.
        const secrets = t.services.tenantKeks.secrets;
        assert.equal(secrets.read(s.tenantId).state, 'destroyed');
        assert.equal(existsSync(join(secrets.dir, `${s.tenantId}.key`)), false);
        // Every key Tresor holds: the root key, every tenant KEK it can derive
        // (from every secret left in the directory), every data, index and
        // pseudonym key those unwrap, and the root key's derived keys.
        const wrappers: KeyWrapper[] = [keyProvider];
        const candidates: Buffer[] = [readFileSync(t.store.config.keyFile)];
        for (const file of readdirSync(secrets.dir).filter((f) => f.endsWith('.key'))) {
          const secret = readFileSync(join(secrets.dir, file));
          candidates.push(secret);
          for (const tenantId of new Set([file.slice(0, -4), s.tenantId])) wrappers.push(keyProvider.tenantKek(tenantId, secret));
        }
        for (const k of remaining) {
          candidates.push(t.services.tenantKeks.unwrap(toBuffer(k.wrapped), k.wrapping, { tenantId: k.tenant_id, purpose: k.purpose, version: k.version }));
          assert.throws(() => unwrapDataKey(keyProvider, toBuffer(k.wrapped), { tenantId: s.tenantId, purpose: 'data', version: k.version }));
        }
        const pseudonymKeys = await t.store.db.query<{ tenant_id: string; version: number; wrapped: Uint8Array; wrapping: Wrapping }>(
          'select tenant_id::text, version, wrapped, wrapping from pseudonym_keys where wrapped is not null');
        assert.ok(pseudonymKeys.length >= 1, 'the other tenant keeps its pseudonym key');
        for (const k of pseudonymKeys) {
          candidates.push(t.services.tenantKeks.unwrap(toBuffer(k.wrapped), k.wrapping, { tenantId: k.tenant_id, purpose: 'pseudonym', version: k.version }));
        }
        for (const purpose of ['signing.audit.tree_head', 'signing.deletion.certificate', 'signing.backup.verification']) candidates.push(keyProvider.deriveKey(purpose));
        let attempts = 0;
        for (const row of copied.records) {
          for (const key of candidates) {
            const ring = { activeVersion: row.key_version, data: new Map([[row.key_version, key]]), index: key };
            const at = { tenantId: s.tenantId, collectionId: row.collection_id, recordId: row.id };
            assert.throws(() => decodeRecord(ring, at, { keyVersion: row.key_version, enc: row.enc, plain: row.plain, sealed: row.sealed }));
            attempts++;
          }
        }
        assert.equal(attempts, copied.records.length * candidates.length);
        // The copied key rows (what a backup or replica made before the purge
        // holds) unwrap under no key either: not the root key, not any
        // remaining tenant's KEK; and Tresor answers tenant.keys_destroyed.
        for (const k of [...copied.keys, ...copied.pseudonymKeys.map((p) => ({ ...p, purpose: 'pseudonym' }))] as Array<Record<string, any>>) {
          const p = { tenantId: s.tenantId, purpose: k.purpose as KeyPurpose, version: k.version as number };
          for (const w of wrappers) assert.throws(() => unwrapDataKey(w, toBuffer(k.wrapped), p), { code: 'crypto.unwrap_failed' });
          assert.throws(() => t.services.tenantKeks.unwrap(toBuffer(k.wrapped), k.wrapping, p), { code: 'tenant.keys_destroyed' });
        }
      });

      it('the deletion certificate says what, when, how and under which policy; its Ed25519 signature verifies and a changed byte fails', async () => {
        const res = await t.call('GET', `${tenantUrl(s)}/deletion-certificates`);
        assert.equal(res.statusCode, 200, res.body);
        const [c] = res.json().items;
        assert.equal(c.kind, 'tenant.purge');
        assert.equal(c.certificate.tenant.name, 'Purged GmbH');
        assert.deepEqual(c.certificate.collections, ['customers', 'members']);
        assert.equal(c.certificate.rowsDeleted.records, 7);
        assert.equal(c.certificate.rowsDeleted.collections, 2);
        assert.equal(c.certificate.rowsDeleted.pseudonym_map, 2);
        assert.deepEqual(c.certificate.keysDestroyed, { data: 1, index: 1, pseudonym: 1, tenant_secret: 1 });
        assert.equal(c.certificate.policy.months, 13);
        assert.match(c.certificate.method.cryptoShredding, /outside the database/);
        assert.match(c.certificate.backups, /tenant.keys_destroyed/);
        assert.ok(Date.parse(c.certificate.keysDestroyedAt) <= Date.parse(c.certificate.completedAt));
        assert.match(c.text, /TRESOR DELETION CERTIFICATE/);
        assert.match(c.text, /records\s+7/);
        const bytes = Buffer.from(c.signedBytes, 'base64');
        const publicKey = Buffer.from(c.publicKey, 'base64');
        const signature = Buffer.from(c.signature, 'base64');
        assert.deepEqual(JSON.parse(bytes.toString('utf8')), c.certificate);
        assert.deepEqual(publicKey, signingKeyFor(await openRootKey(t.store.config, t.store.db), 'deletion.certificate').publicKey);
        assert.equal(verifyEd25519(publicKey, bytes, signature), true);
        const changed = Buffer.from(bytes);
        changed[changed.indexOf('7')] = '8'.charCodeAt(0);
        assert.equal(verifyEd25519(publicKey, changed, signature), false);
        const auditor = (await t.call('POST', `/v1/tenants/${kept.tenantId}/api-keys`, { body: { name: 'a', role: 'viewer' } })).json().key;
        assertProblem(await t.call('GET', `${tenantUrl(kept)}/deletion-certificates`, { token: auditor }), 403, 'auth.forbidden');
        assert.deepEqual((await t.call('GET', `${tenantUrl(kept)}/deletion-certificates`)).json().items, []);
      });

      it('close, reopen, key destruction and purge are in the audit log, without values', async () => {
        const platform = async (action: string) => (await t.call('GET', `/v1/audit/export?limit=500&action=${action}`)).json().items
          .map((i: { entry: { target?: { id: string } } }) => i.entry).filter((e: { target?: { id: string } }) => e.target?.id === s.tenantId);
        await t.services.sequencer.sequence();
        const [destroyed] = await platform('tenant.keys_destroy');
        assert.deepEqual(destroyed.detail, { data: 1, index: 1, pseudonym: 1, tenant_secret: 1 });
        const [purge] = await platform('tenant.purge');
        assert.equal(purge.actor.id, 'tenant-purge');
        assert.equal((await platform('tenant.close')).length, 1);
        assert.doesNotMatch(JSON.stringify([destroyed, purge]), /closure\.example|Person/);
      });
    });
  });
}
