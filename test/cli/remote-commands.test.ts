import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTresor, tresorDirs, type TresorProcess } from '../../bench/tresor-process.ts';
import { backends, migratedServerStore } from '../helpers/backends.ts';
import { execFile } from 'node:child_process';
import { bin, tresor, v8Flags } from './run-cli.ts';

// The CLI's [api] commands against a real server, on each backend.
for (const backend of backends) {
  describe(`tresor import and tresor keys rotate against a running server (${backend})`, () => {
    const dirs = tresorDirs('tresor-cli-');
    let server: TresorProcess;
    let store: { env: Record<string, string>; drop: () => Promise<void> } | undefined;
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
      // A migrated store (a first start on an empty one is test/db/embedded-lock's);
      // key rotations retire the old version as soon as the short key cache allows.
      store = await migratedServerStore(backend, dirs.env.TRESOR_DATA_DIR);
      server = await startTresor({ env: { ...dirs.env, ...store.env, TRESOR_KEY_CACHE_TTL_MS: '100', TRESOR_ROTATION_RETIRE_MARGIN_MS: '0',
        TRESOR_ROTATION_POLL_MS: '100' }, expectToken: true, nodeArgs: v8Flags });
      const op = server.token!;
      tenantId = (await api('/v1/tenants', { method: 'POST', body: { name: 'CLI GmbH' }, token: op })).body.id;
      const key = (await api(`/v1/tenants/${tenantId}/api-keys`, { method: 'POST', body: { name: 'cli', role: 'admin' }, token: op })).body.key;
      env = { TRESOR_URL: server.url, TRESOR_TOKEN: key };
      const collection = { name: 'people', fields: [{ name: 'email', type: 'email', unique: true }, { name: 'name', type: 'string' }] };
      assert.equal((await api(`/v1/tenants/${tenantId}/collections`, { method: 'POST', body: collection })).status, 201);
    });
    after(async () => { await server?.stop(); await store?.drop(); dirs.remove(); });

    it('imports an NDJSON file: exit 2 with rejected lines, named by line, code and field, never by value', async () => {
      const file = join(dirs.dir, 'people.jsonl');
      const lines = ['{"data":{"email":"ann@example.com","name":"Ann"}}', '{"data":{"email":"bob@example.com","name":"Bob"}}',
        '{"data":{"email":"not-an-address-7731","name":"Cy"}}', '{"data":{"email":"dee@example.com","name":"Dee"}}'];
      writeFileSync(file, `${lines.join('\n')}\n`);
      const run = await tresor(['import', '--tenant', tenantId, '--collection', 'people', file, '--json'], env);
      assert.equal(run.code, 2, run.stderr);
      const result = JSON.parse(run.stdout);
      assert.equal(result.imported, 3);
      assert.equal(result.rejectedCount, 1);
      assert.deepEqual(result.rejected, [{ line: 3, code: 'record.invalid_email', field: 'email' }]);
      // stderr is not a terminal here: progress is plain lines counting lines sent, the last one at 100 %.
      assert.match(run.stderr, /import people: 4\/4 lines sent \(100%\)/);
      assert.equal(`${run.stdout}${run.stderr}`.includes('not-an-address-7731'), false);
      const found = await api(`/v1/tenants/${tenantId}/collections/people/records/search`, { method: 'POST', body: { where: { email: 'DEE@example.com' } } });
      assert.deepEqual(found.body.items.map((r: { data: { name: string } }) => r.data.name), ['Dee']);

      const again = join(dirs.dir, 'more.jsonl');
      writeFileSync(again, '{"data":{"email":"eve@example.com","name":"Eve"}}\n{"data":{"email":"bad-8812"}}');
      const text = await tresor(['import', '--tenant', tenantId, '--collection', 'people', again], env);
      assert.equal(text.code, 2, text.stderr);
      assert.equal(text.stdout, 'imported 1, rejected 1\n  line 2: record.invalid_email (field email)\n');
      assert.equal(`${text.stdout}${text.stderr}`.includes('bad-8812'), false);
    });

    it('on a terminal, progress is a bar (cli-progress) counting lines sent', async () => {
      const file = join(dirs.dir, 'tty.jsonl');
      writeFileSync(file, '{"data":{"email":"fay@example.com","name":"Fay"}}\n');
      // script(1) runs the command on a pseudo-terminal, as an interactive shell would.
      const command = `${[process.execPath, ...v8Flags, bin].join(" ")} import --tenant ${tenantId} --collection people ${file}`;
      const out = await new Promise<string>((resolve, reject) => execFile('script', ['-qec', command, '/dev/null'],
        { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } }, (err, stdout) => (err ? reject(err) : resolve(stdout))));
      assert.match(out, /import people \|[\u2588\u2591]+\| 100% 1\/1 lines sent/);
      assert.match(out, /imported 1, rejected 0/);
    });

    it('rotates the tenant key (exit 0) and waits until every record is on the new version', async () => {
      const run = await tresor(['keys', 'rotate', '--tenant', tenantId, '--json'], env);
      assert.equal(run.code, 0, run.stderr);
      const status = JSON.parse(run.stdout);
      assert.equal(status.activeVersion, 2);
      assert.equal(status.rotating, false);
      assert.deepEqual(status.unreadable, []);
      assert.match(run.stderr, /re-encrypt to key v2: 5\/5 records \(100%\)/);
      const keys = (await api(`/v1/tenants/${tenantId}/keys`)).body;
      assert.deepEqual(keys.versions.map((v: { version: number; status: string; records: number }) => [v.version, v.status, v.records]),
        [[1, 'retired', 0], [2, 'active', 5]]);
      const text = await tresor(['keys', 'rotate', '--tenant', tenantId], env);
      assert.equal(text.code, 0, text.stderr);
      assert.equal(text.stdout, 'key version 3 active; older versions retired\n');
    });

    it('--url and --token win over TRESOR_URL and TRESOR_TOKEN', async () => {
      const wrongEnv = { TRESOR_URL: 'http://127.0.0.1:9', TRESOR_TOKEN: 'not-a-key' };
      const run = await tresor(['keys', 'rotate', '--tenant', tenantId, '--url', server.url, '--token', env.TRESOR_TOKEN, '--json'], wrongEnv);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(JSON.parse(run.stdout).activeVersion, 4);
    });

    it('an API error exits 1: the problem by status and code, or with --json the problem+json object on stdout', async () => {
      const viewer = (await api(`/v1/tenants/${tenantId}/api-keys`, { method: 'POST', body: { name: 'v', role: 'viewer' } })).body.key;
      const forbidden = await tresor(['keys', 'rotate', '--tenant', tenantId], { ...env, TRESOR_TOKEN: viewer });
      assert.equal(forbidden.code, 1);
      assert.match(forbidden.stderr, /403 auth\.forbidden/);
      const json = await tresor(['import', '--tenant', tenantId, '--collection', 'nobody', join(dirs.dir, 'people.jsonl'), '--json'], env);
      assert.equal(json.code, 1, json.stderr);
      const problem = JSON.parse(json.stdout);
      assert.equal(problem.status, 404);
      assert.equal(typeof problem.code, 'string');
      assert.equal(problem.type, `/problems/${problem.code}`);
      assert.equal(typeof problem.title, 'string');
    });
  });
}
