import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { buildApp, logRedaction } from '../../src/app.ts';
import { createServices } from '../../src/services.ts';
import { backends, openRootKey, openTestStore, type TestStore } from '../helpers/backends.ts';
import { customersCollection } from '../helpers/test-app.ts';
import type { App } from '../../src/http/app-types.ts';

const SECRET_EMAIL = 'zz-logcheck-5521@example.org';
const SECRET_NAME = 'Quirinius Logprobe';

for (const backend of backends) {
  describe(`logs carry no secrets and no personal values [${backend}]`, () => {
    let store: TestStore;
    let app: App;
    let operatorKey: string;
    const lines: string[] = [];

    before(async () => {
      store = await openTestStore(backend);
      const keyProvider = await openRootKey(store.config, store.db);
      const services = createServices(store.config, { db: store.db, keyProvider });
      const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
      const logger = pino({ level: 'trace', redact: { paths: logRedaction, censor: '[redacted]' } }, sink);
      app = await buildApp(store.config, services, { logger });
      operatorKey = (await services.apiKeys.createOperatorKey('log test')).key;
    });
    after(async () => { await app.close(); await store.close(); });

    const call = (method: string, url: string, token: string, body?: unknown) => app.inject({
      method: method as 'POST', url, payload: body === undefined ? undefined : JSON.stringify(body),
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    });

    it('logs every request (method, url, status) but neither keys nor field values, even on errors', async () => {
      const tenant = (await call('POST', '/v1/tenants', operatorKey, { name: 'Log GmbH' })).json();
      const created = (await call('POST', `/v1/tenants/${tenant.id}/api-keys`, operatorKey, { name: 'k', role: 'admin' })).json();
      const key = created.key as string;
      assert.equal((await call('POST', `/v1/tenants/${tenant.id}/collections`, key, customersCollection)).statusCode, 201);
      const base = `/v1/tenants/${tenant.id}/collections/customers/records`;
      assert.equal((await call('POST', base, key, { data: { email: SECRET_EMAIL, name: SECRET_NAME } })).statusCode, 201);
      assert.equal((await call('POST', base, key, { data: { email: SECRET_EMAIL, name: SECRET_NAME } })).statusCode, 409);
      assert.equal((await call('POST', base, key, { data: { email: 'nope', name: SECRET_NAME, nme: SECRET_NAME } })).statusCode, 422);
      assert.equal((await call('POST', `${base}/search`, key, { where: { email: SECRET_EMAIL } })).statusCode, 200);
      assert.equal((await call('GET', base, 'trk_deadbeef_notarealkeynotarealkeynotarealkey000000')).statusCode, 401);

      const log = lines.join('');
      // After authentication every line of the request names the actor and tenant (ids only).
      const completed = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request completed' && l.res?.statusCode === 409);
      assert.equal(completed.length, 1);
      assert.deepEqual(completed[0].actor, { type: 'api_key', id: created.id, role: 'admin' });
      assert.equal(completed[0].tenantId, tenant.id);
      assert.match(log, /"method":"POST"/);
      assert.match(log, /"statusCode":409/);
      assert.match(log, /"url":"\/v1\/tenants\//);
      assert.match(log, /"remoteAddress":"127\.0\.0\.1"/);
      for (const secret of [operatorKey, key, SECRET_EMAIL, SECRET_NAME, 'notarealkey']) {
        assert.equal(log.toLowerCase().includes(secret.toLowerCase()), false, `log must not contain ${secret.slice(0, 12)}…`);
      }
    });
  });
}
