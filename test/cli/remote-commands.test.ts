import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTresor, tresorDirs, type TresorProcess } from '../../bench/tresor-process.ts';

const cli = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function tresor(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', cli, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

// The CLI's [api] commands against a real server on the embedded store.
describe('tresor import and tresor keys rotate against a running server', () => {
  const dirs = tresorDirs('tresor-cli-');
  let server: TresorProcess;
  let tenantId: string;
  let env: Record<string, string>;
  const api = async (path: string, init: { method?: string; body?: unknown; token?: string } = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${init.token ?? env.TRESOR_TOKEN}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });
    return { status: res.status, body: await res.json() };
  };

  before(async () => {
    server = await startTresor({ env: { ...dirs.env, TRESOR_KEY_CACHE_TTL_MS: '100' }, expectToken: true });
    const op = server.token!;
    tenantId = (await api('/v1/tenants', { method: 'POST', body: { name: 'CLI GmbH' }, token: op })).body.id;
    const key = (await api(`/v1/tenants/${tenantId}/api-keys`, { method: 'POST', body: { name: 'cli', role: 'admin' }, token: op })).body.key;
    env = { TRESOR_URL: server.url, TRESOR_TOKEN: key };
    const collection = { name: 'people', fields: [{ name: 'email', type: 'email', unique: true }, { name: 'name', type: 'string' }] };
    assert.equal((await api(`/v1/tenants/${tenantId}/collections`, { method: 'POST', body: collection })).status, 201);
  });
  after(async () => { await server?.stop(); dirs.remove(); });

  it('imports an NDJSON file, reporting rejected lines by number, code and field without values', async () => {
    const file = join(dirs.dir, 'people.jsonl');
    const lines = ['{"data":{"email":"ann@example.com","name":"Ann"}}', '{"data":{"email":"bob@example.com","name":"Bob"}}',
      '{"data":{"email":"not-an-address-7731","name":"Cy"}}', '{"data":{"email":"dee@example.com","name":"Dee"}}'];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const run = await tresor(['import', '--tenant', tenantId, '--collection', 'people', file], env);
    assert.equal(run.code, 2, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.equal(result.imported, 3);
    assert.deepEqual(result.rejected, [{ line: 3, code: 'record.invalid_email', field: 'email' }]);
    assert.equal(run.stdout.includes('not-an-address-7731'), false);
    const found = await api(`/v1/tenants/${tenantId}/collections/people/records/search`, { method: 'POST', body: { where: { email: 'DEE@example.com' } } });
    assert.deepEqual(found.body.items.map((r: { data: { name: string } }) => r.data.name), ['Dee']);
  });

  it('rotates the tenant key and waits until every record is on the new version', async () => {
    const run = await tresor(['keys', 'rotate', '--tenant', tenantId], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /key version 2 active/);
    const keys = (await api(`/v1/tenants/${tenantId}/keys`)).body;
    assert.equal(keys.activeVersion, 2);
    assert.equal(keys.rotating, false);
    assert.deepEqual(keys.versions.map((v: { version: number; status: string; records: number }) => [v.version, v.status, v.records]),
      [[1, 'retired', 0], [2, 'active', 3]]);
    const list = (await api(`/v1/tenants/${tenantId}/collections/people/records`)).body.items;
    assert.deepEqual(list.map((r: { data: { name: string } }) => r.data.name).sort(), ['Ann', 'Bob', 'Dee']);
  });

  it('refuses without TRESOR_URL/TRESOR_TOKEN, and reports API errors by code', async () => {
    const missing = await tresor(['keys', 'rotate', '--tenant', tenantId], {});
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /TRESOR_URL and TRESOR_TOKEN/);
    const viewer = (await api(`/v1/tenants/${tenantId}/api-keys`, { method: 'POST', body: { name: 'v', role: 'viewer' } })).body.key;
    const forbidden = await tresor(['keys', 'rotate', '--tenant', tenantId], { ...env, TRESOR_TOKEN: viewer });
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /403 auth\.forbidden/);
  });
});
