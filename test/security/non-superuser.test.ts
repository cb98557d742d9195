import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openPostgres } from '../../src/db/postgres-driver.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openRootKey } from '../../src/keys/root-key.ts';
import { createServices } from '../../src/services.ts';
import { buildApp } from '../../src/app.ts';
import type { Db } from '../../src/db/db.ts';
import type { App } from '../../src/http/app-types.ts';
import { testConfig } from '../helpers/backends.ts';

// The production posture from docs/operations.md: Tresor logs in as a role that owns
// its schema but is no superuser. FORCE ROW LEVEL SECURITY must then hold even
// for that owner outside a tenant transaction.
describe('as a non-superuser schema owner [postgres]', { skip: !process.env.TEST_DATABASE_URL }, () => {
  const suffix = randomBytes(4).toString('hex');
  const role = `tresor_owner_${suffix}`;
  const name = `tresor_t_owner_${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'tresor-owner-'));
  let admin: postgres.Sql;
  let db: Db;
  let app: App;
  let operatorKey: string;
  let services: ReturnType<typeof createServices>;

  before(async () => {
    admin = postgres(process.env.TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create role ${role} login createrole`);
    await admin.unsafe(`create database ${name} owner ${role}`);
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.username = role;
    url.pathname = `/${name}`;
    db = openPostgres({ url: url.toString(), poolMax: 4, connectTimeoutMs: 5000, statementTimeoutMs: 30000 });
    await migrate(db);
    const config = testConfig(dir, { DATABASE_URL: url.toString(), TRESOR_INCIDENT_DENIAL_THRESHOLD: '3' });
    services = createServices(config, { db, keyProvider: await openRootKey(config, db) });
    app = await buildApp(config, services);
    operatorKey = (await services.apiKeys.createOperatorKey('owner test')).key;
  });
  after(async () => {
    await app?.close();
    await db?.close();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.unsafe(`drop role if exists ${role}`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (method: string, url: string, token: string, body?: unknown) => app.inject({
    method: method as 'POST', url, payload: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
  });

  it('serves the API, while the owner itself sees no tenant row outside a tenant transaction', async () => {
    const [me] = await db.query<{ rolsuper: boolean }>('select rolsuper from pg_roles where rolname = current_user');
    assert.equal(me.rolsuper, false);
    const tenant = (await call('POST', '/v1/tenants', operatorKey, { name: 'Owner GmbH' })).json();
    const key = (await call('POST', `/v1/tenants/${tenant.id}/api-keys`, operatorKey, { name: 'k', role: 'admin' })).json().key;
    const collection = { name: 'people', fields: [{ name: 'email', type: 'email', unique: true }] };
    assert.equal((await call('POST', `/v1/tenants/${tenant.id}/collections`, key, collection)).statusCode, 201);
    const base = `/v1/tenants/${tenant.id}/collections/people/records`;
    const created = await call('POST', base, key, { data: { email: 'owner@example.org' } });
    assert.equal(created.statusCode, 201);
    assert.equal((await call('GET', `${base}/${created.json().id}`, key)).json().data.email, 'owner@example.org');

    for (const table of ['records', 'record_index', 'collections', 'tenant_keys']) {
      const [{ n }] = await db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
      assert.equal(n, 0, `${table} is hidden from the owner without tenant context`);
    }
    const [{ n }] = await db.withTenant(tenant.id, (tx) => tx.query<{ n: number }>('select count(*)::int as n from records'));
    assert.equal(n, 1);
  });

  it("a burst of refusals is counted on the key's own tenant under FORCE RLS and opens an incident", async () => {
    const tenant = (await call('POST', '/v1/tenants', operatorKey, { name: 'Burst GmbH' })).json();
    const viewer = (await call('POST', `/v1/tenants/${tenant.id}/api-keys`, operatorKey, { name: 'v', role: 'viewer' })).json();
    for (let i = 0; i < 3; i++) assert.equal((await call('POST', `/v1/tenants/${tenant.id}/api-keys`, viewer.key, { name: 'x', role: 'viewer' })).statusCode, 403);
    await services.incidentRules.idle();
    const incidents = (await call('GET', '/v1/incidents', operatorKey)).json().items as { rule: string; title: string }[];
    assert.ok(incidents.some((i) => i.rule === 'denied_access_burst' && i.title.includes(viewer.id)), JSON.stringify(incidents));
  });

  it('pseudonyms work through the tresor_pseudonym role, and deleting a record removes its mapping under FORCE RLS', async () => {
    const tenant = (await call('POST', '/v1/tenants', operatorKey, { name: 'Pseudo GmbH' })).json();
    const owner = (await call('POST', `/v1/tenants/${tenant.id}/api-keys`, operatorKey, { name: 'o', role: 'owner' })).json().key;
    const collection = { name: 'people', fields: [{ name: 'email', type: 'email', pseudonymize: true }] };
    assert.equal((await call('POST', `/v1/tenants/${tenant.id}/collections`, owner, collection)).statusCode, 201);
    const base = `/v1/tenants/${tenant.id}/collections/people/records`;
    const created = await call('POST', base, owner, { data: { email: 'pseudo@example.org' } });
    assert.equal(created.statusCode, 201, created.body);
    const body = { collection: 'people', field: 'email', pseudonym: created.json().pseudonyms.email, reason: 'owner posture check' };
    const resolved = await call('POST', `/v1/tenants/${tenant.id}/pseudonyms/resolve`, owner, body);
    assert.equal(resolved.json().value, 'pseudo@example.org', resolved.body);
    assert.equal((await call('DELETE', `${base}/${created.json().id}`, owner)).statusCode, 204);
    assert.equal((await call('POST', `/v1/tenants/${tenant.id}/pseudonyms/resolve`, owner, body)).statusCode, 404);
  });
});
