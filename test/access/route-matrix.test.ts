// The generated walk: every route the server documents × every role, its
// status checked against the one matrix in src/access/permissions.ts. An
// allowed role is never refused (401, 403, or 404 for its own tenant); a
// forbidden one always answers 403; a tenant role on another tenant 404.
// Requests carry no body: access is decided before the body is read.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { backends } from '../helpers/backends.ts';
import { type TestApp, seedTenant, startTestApp } from '../helpers/test-app.ts';
import { type Action, type Role, ROLES, TENANT_ROLES, permissions } from '../../src/access/permissions.ts';

interface Operation { 'x-action'?: Action; 'x-scope'?: 'tenant' | 'platform'; 'x-required-roles'?: string[]; security?: Record<string, unknown>[] }

for (const backend of backends) {
  describe(`every route × every role, against the matrix [${backend}]`, () => {
    let t: TestApp;
    let a: Awaited<ReturnType<typeof seedTenant>>;
    let b: Awaited<ReturnType<typeof seedTenant>>;
    const keys = {} as Record<Role, string>;
    let routes: { method: string; path: string; op: Operation }[];

    before(async () => {
      t = await startTestApp(backend);
      a = await seedTenant(t, 'Walk A');
      b = await seedTenant(t, 'Walk B');
      keys.operator = t.operatorKey;
      keys.support = (await t.call('POST', '/v1/operator-keys', { body: { name: 'support', role: 'support' } })).json().key;
      for (const role of TENANT_ROLES) {
        keys[role] = (await t.call('POST', `/v1/tenants/${a.tenantId}/api-keys`, { body: { name: role, role } })).json().key;
      }
      const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, Operation>> };
      routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
    });
    after(() => t.close());

    const urlFor = (path: string, tenantId: string) => path.replace(/\{(\w+)\}/g, (_, p: string) =>
      p === 'tenantId' ? tenantId : p === 'name' ? 'customers' : p === 'seq' ? '0' : randomUUID());

    it('the document covers routes of every scope, and every protected route names its action from the matrix', () => {
      const protectedRoutes = routes.filter((r) => r.op['x-required-roles']);
      assert.ok(protectedRoutes.some((r) => r.op['x-scope'] === 'tenant') && protectedRoutes.some((r) => r.op['x-scope'] === 'platform'));
      for (const { method, path, op } of protectedRoutes) {
        assert.ok(op['x-action'] && op['x-action'] in permissions, `${method} ${path} names an action`);
        assert.deepEqual(op['x-required-roles'], [...permissions[op['x-action']!]], `${method} ${path}: x-required-roles from the matrix`);
      }
    });

    it('each role gets exactly what the matrix says on every protected route', async () => {
      let checked = 0;
      // The walk presents API keys; routes that take sessions only (a user's own
      // session, test/identity/sessions.test.ts) answer 401 to any key.
      const byKey = routes.filter((r) => r.op['x-action'] && r.op.security?.some((s) => 'bearer' in s));
      for (const { method, path, op } of byKey) {
        const allowed = permissions[op['x-action']!] as readonly string[];
        for (const role of ROLES) {
          const res = await t.app.inject({ method: method as 'GET', url: urlFor(path, a.tenantId), headers: { authorization: `Bearer ${keys[role]}` } });
          const where = `${role} on ${method} ${path} (${op['x-action']}): ${res.statusCode} ${res.body.slice(0, 200)}`;
          if (allowed.includes(role)) {
            assert.ok(![401, 403].includes(res.statusCode), `allowed: ${where}`);
            assert.ok(!(res.statusCode === 404 && res.json().code === 'tenant.not_found'), `allowed: ${where}`);
          } else {
            assert.equal(res.statusCode, 403, `forbidden: ${where}`);
          }
          checked++;
        }
      }
      assert.ok(checked >= ROLES.length * 20, `walked ${checked} route × role pairs`);
    });

    it('every tenant role on another tenant\'s routes answers 404, whatever the action', async () => {
      for (const { method, path } of routes.filter((r) => r.op['x-scope'] === 'tenant')) {
        for (const role of TENANT_ROLES) {
          const res = await t.app.inject({ method: method as 'GET', url: urlFor(path, b.tenantId), headers: { authorization: `Bearer ${keys[role]}` } });
          assert.equal(res.statusCode, 404, `${role} on ${method} ${path} of another tenant: ${res.body.slice(0, 200)}`);
          assert.equal(res.json().code, 'tenant.not_found');
        }
      }
    });

    it('GET /v1/permissions serves the same matrix, without credentials', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/v1/permissions' });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.deepEqual(Object.fromEntries(body.actions.map((x: { name: string; roles: string[] }) => [x.name, x.roles])),
        Object.fromEntries(Object.entries(permissions).map(([k, v]) => [k, [...v]])));
      assert.deepEqual(body.roles.map((r: { name: string }) => r.name), [...ROLES]);
      assert.equal(body.supportGrantRole, 'viewer');
    });
  });
}
