// Distinctive personal values written, searched for and refused through the
// API must appear nowhere in the audit and log tables, the server log or the
// error bodies: entries name fields, never their values.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { buildApp, logRedaction } from '../../src/app.ts';
import { createServices, type Services } from '../../src/services.ts';
import { backends, openRootKey, openTestStore, type TestStore } from '../helpers/backends.ts';
import { customersCollection } from '../helpers/test-app.ts';
import { findNeedles } from '../helpers/security-scan.ts';
import { ledgerFile } from '../../src/subject-rights/erasure-ledger.ts';
import type { App } from '../../src/http/app-types.ts';

const EMAIL = 'xq-auditscan-9071@example.org';
const NAME = 'Wendelgard Auditprobe';
const PHONE = '+49 30 9018 2277';
const NEW_NAME = 'Ottokar Patchprobe';
const SEARCHED = 'yq-sought-4410@example.org';
const IMPORTED = 'zq-imported-3382@example.org';
const NEEDLES = [EMAIL, NAME, '+4930901822', NEW_NAME, SEARCHED, IMPORTED, 'Auditprobe', 'Patchprobe'];

for (const backend of backends) {
  describe(`no personal value in audit tables, logs or error bodies [${backend}]`, () => {
    let store: TestStore;
    let services: Services;
    let app: App;
    let operatorKey: string;
    const lines: string[] = [];
    const errorBodies: string[] = [];

    before(async () => {
      store = await openTestStore(backend);
      const keyProvider = await openRootKey(store.config, store.db);
      services = createServices(store.config, { db: store.db, keyProvider });
      const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
      app = await buildApp(store.config, services, { logger: pino({ level: 'trace', redact: { paths: logRedaction, censor: '[redacted]' } }, sink) });
      operatorKey = (await services.apiKeys.createOperatorKey('scan')).key;
    });
    after(async () => { await app.close(); await store.close(); });

    const call = async (method: string, url: string, token: string, body?: unknown, contentType = 'application/json') => {
      const res = await app.inject({ method: method as 'POST', url, payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': contentType }) } });
      if (res.statusCode >= 400) errorBodies.push(res.body);
      return res;
    };

    it('finds none of the values written, changed, searched for, imported or refused', async () => {
      const tenant = (await call('POST', '/v1/tenants', operatorKey, { name: 'Scan GmbH' })).json();
      const key = (await call('POST', `/v1/tenants/${tenant.id}/api-keys`, operatorKey, { name: 'k', role: 'admin' })).json().key;
      assert.equal((await call('POST', `/v1/tenants/${tenant.id}/collections`, key, customersCollection)).statusCode, 201);
      const base = `/v1/tenants/${tenant.id}/collections/customers/records`;
      const id = (await call('POST', base, key, { data: { email: EMAIL, name: NAME, phone: PHONE, tier: 'gold' } })).json().id;
      assert.equal((await call('POST', base, key, { data: { email: EMAIL, name: NAME } })).statusCode, 409);
      assert.equal((await call('POST', base, key, { data: { email: NAME, name: 42, phone: NAME } })).statusCode, 422);
      assert.equal((await call('PATCH', `${base}/${id}`, key, { data: { name: NEW_NAME } })).statusCode, 200);
      assert.equal((await call('POST', `${base}/search`, key, { where: { email: SEARCHED } })).statusCode, 200);
      assert.equal((await call('POST', `${base}/search`, key, { where: { email: EMAIL, name: NEW_NAME } })).statusCode, 422);
      assert.equal((await call('GET', `${base}/${id}`, key)).statusCode, 200);
      assert.equal((await call('GET', base, key)).statusCode, 200);
      const sub = `/v1/tenants/${tenant.id}/subjects`;
      assert.equal((await call('POST', `${sub}/find`, key, { where: { email: EMAIL } })).statusCode, 200);
      assert.equal((await call('POST', `${sub}/export`, key, { where: { email: EMAIL } })).statusCode, 200);
      assert.equal((await call('POST', `${sub}/find`, key, { where: { email: NAME } })).statusCode, 400);
      const hold = await call('POST', `/v1/tenants/${tenant.id}/legal-holds`, key, { where: { email: EMAIL }, reason: 'litigation, case 12' });
      assert.equal(hold.statusCode, 201);
      assert.equal((await call('POST', `${sub}/erase`, key, { where: { email: EMAIL }, reason: 'Art. 17 request' })).statusCode, 409);
      assert.equal((await call('DELETE', `/v1/tenants/${tenant.id}/legal-holds/${hold.json().id}`, key)).statusCode, 200);
      const ndjson = [{ email: IMPORTED, name: NAME }, { email: IMPORTED, name: NEW_NAME }, { email: 'not-mail', name: IMPORTED }]
        .map((d) => JSON.stringify({ data: d })).join('\n');
      assert.equal((await call('POST', `${base}/import`, key, ndjson, 'application/x-ndjson')).statusCode, 200);
      assert.equal((await call('POST', `${sub}/erase`, key, { where: { email: IMPORTED }, reason: 'Art. 17 request' })).statusCode, 200);
      assert.equal((await call('DELETE', `${base}/${id}`, key)).statusCode, 204);
      assert.equal((await call('GET', `/v1/tenants/${tenant.id}/audit`, key)).statusCode, 200);
      await services.requestLog.flush();
      await services.sequencer.sequence();

      const tables = (await store.db.query<{ name: string }>(`select tablename as name from pg_tables where schemaname = 'public'
        and (tablename like 'audit%' or tablename like '%log%' or tablename like '%event%' or tablename like '%ledger%' or tablename like 'legal_hold%')
        order by 1`)).map((r) => r.name);
      assert.ok(tables.includes('erasure_ledger') && tables.includes('legal_holds'), tables.join(', '));
      assert.ok(tables.includes('audit_entries') && tables.includes('audit_record_refs'), tables.join(', '));
      const found: Record<string, string[]> = {};
      let rows = 0;
      for (const table of tables) {
        const dump = await store.db.query<{ row: string }>(`select t::text as row from ${table} t`);
        rows += dump.length;
        const hits = findNeedles(Buffer.from(dump.map((r) => r.row).join('\n')), NEEDLES);
        if (hits.length) found[table] = hits;
      }
      assert.ok(rows > 20, `the scan read ${rows} rows`);
      const leaves = await store.db.query<{ leaf: Uint8Array }>('select leaf from audit_entries where leaf is not null');
      const leafHits = findNeedles(Buffer.concat(leaves.map((l) => Buffer.from(l.leaf))), NEEDLES);
      if (leafHits.length) found['audit_entries.leaf (decoded)'] = leafHits;
      const ledger = readFileSync(ledgerFile(store.config.backupDir));
      assert.ok(ledger.length > 0);
      const ledgerHits = findNeedles(ledger, NEEDLES);
      if (ledgerHits.length) found['erasure ledger file'] = ledgerHits;
      const logHits = findNeedles(Buffer.from(lines.join('')), NEEDLES);
      if (logHits.length) found['server log'] = logHits;
      assert.ok(errorBodies.length >= 3);
      const errorHits = findNeedles(Buffer.from(errorBodies.join('\n')), NEEDLES);
      if (errorHits.length) found['error bodies'] = errorHits;
      assert.deepEqual(found, {});
    });
  });
}
