import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends } from '../helpers/backends.ts';
import { assertProblem } from '../helpers/problem.ts';
import { tresor } from '../cli/run-cli.ts';
import { backupFixture, makeBackup, openRestored } from './backup-fixture.ts';

const ID = /^[0-9]{8}T[0-9]{9}Z-[0-9a-f]{8}$/;

for (const backend of backends) {
  describe(`backups through the API [${backend}]`, () => {
    let f: Awaited<ReturnType<typeof backupFixture>>;
    before(async () => { f = await backupFixture(backend, { env: { TRESOR_BACKUP_KEEP: '2' } }); });
    after(async () => f.close());

    if (backend === 'postgres') {
      it('answers 409 backup.unsupported_store: PostgreSQL is backed up by pgBackRest', async () => {
        assertProblem(await f.t.call('POST', '/v1/backups'), 409, 'backup.unsupported_store');
        assert.deepEqual(readdirSync(f.backupDir), []);
        assert.deepEqual((await f.t.call('GET', '/v1/backups')).json(), { items: [] });
      });
      return;
    }

    it('writes an encrypted backup whose manifest counts each tenant\'s rows', async () => {
      const res = await f.t.call('POST', '/v1/backups');
      assert.equal(res.statusCode, 202, res.body);
      assert.deepEqual({ ...(res.json() as object), id: 'x' }, { id: 'x', status: 'running', bytesDone: 0, bytesTotal: 0, error: null, backup: null });
      assertProblem(await f.t.call('POST', '/v1/backups'), 409, 'backup.in_progress');
      await f.t.services.backups.idle();
      const run = (await f.t.call('GET', `/v1/backups/${res.json().id}/status`)).json();
      assert.equal(run.status, 'complete');
      assert.equal(run.bytesDone, run.bytesTotal);
      const b = run.backup;
      assert.match(b.id, ID);
      assert.equal(b.store, 'pglite');
      assert.ok(b.schemaVersion >= 8);
      const mine = b.tenants.find((x: { tenantId: string }) => x.tenantId === f.tenant.tenantId);
      assert.equal(mine.rows.records, 3);
      assert.equal(mine.rows.collections, 1);
      assert.deepEqual(readdirSync(f.backupDir).sort(), [`${b.id}.json`, `${b.id}.tresorbak`]);
      assert.deepEqual((await f.t.call('GET', `/v1/backups/${b.id}`)).json(), b);
    });

    it('lists newest first and keeps only the newest TRESOR_BACKUP_KEEP', async () => {
      const made = [];
      for (let i = 0; i < 2; i++) made.push((await makeBackup(f.t)).id as string);
      const items = (await f.t.call('GET', '/v1/backups')).json().items.map((b: { id: string }) => b.id);
      assert.deepEqual(items, [made[1], made[0]]);
      assert.equal(readdirSync(f.backupDir).length, 4);
    });

    it('an unknown backup id answers 404 backup.not_found; a tenant key may not back up', async () => {
      assertProblem(await f.t.call('GET', '/v1/backups/20200101T000000000Z-00000000'), 404, 'backup.not_found');
      assertProblem(await f.t.call('POST', '/v1/backups', { token: f.tenant.adminKey }), 403, 'auth.forbidden');
    });

    // The newest backup of the listing test serves the restore and the plaintext check.
    const newest = async () => (await f.t.call('GET', '/v1/backups')).json().items[0].id as string;

    it('tresor backup restore writes a new data dir that serves the same records', async () => {
      const id = await newest();
      const target = join(mkdtempSync(join(tmpdir(), 'tresor-restore-')), 'data');
      try {
        const run = await tresor(['backup', 'restore', id, '--to', target, '--json'], f.cliEnv());
        assert.equal(run.code, 0, run.stdout + run.stderr);
        assert.equal(JSON.parse(run.stdout).restoredTo, target);
        const app = await openRestored(target, f.t.store.config.keyFile);
        try {
          for (const rid of f.ids) {
            const [a, b] = await Promise.all([app.inject({ url: `${f.tenant.base}/${rid}`, headers: { authorization: `Bearer ${f.tenant.adminKey}` } }),
              f.t.call('GET', `${f.tenant.base}/${rid}`, { token: f.tenant.adminKey })]);
            assert.equal(a.statusCode, 200, a.body);
            assert.deepEqual(a.json(), b.json());
          }
        } finally { await app.closeAll(); }
      } finally { rmSync(join(target, '..'), { recursive: true, force: true }); }
    });

    it('the backup file holds no plaintext of a record', async () => {
      const id = await newest();
      const { readFileSync } = await import('node:fs');
      const bytes = readFileSync(join(f.backupDir, `${id}.tresorbak`));
      for (const needle of ['p0@example.com', 'Person 1', 'PG_VERSION', 'base/']) assert.equal(bytes.indexOf(needle), -1, needle);
    });

    it('the CLI creates through the server (id alone on the last line) and lists as a JSON array', async () => {
      const url = await f.t.app.listen({ port: 0, host: '127.0.0.1' });
      const env = { TRESOR_URL: url, TRESOR_TOKEN: f.t.operatorKey };
      const made = await tresor(['backup', 'create'], env);
      assert.equal(made.code, 0, made.stderr);
      const id = made.stdout.trimEnd().split('\n').at(-1)!;
      assert.match(id, ID);
      const list = await tresor(['backup', 'list', '--json'], env);
      const items = JSON.parse(list.stdout);
      assert.ok(Array.isArray(items));
      assert.equal(items[0].id, id);
      assert.ok(items[0].sizeBytes > 0 && typeof items[0].createdAt === 'string');
      assert.ok(existsSync(join(f.backupDir, `${id}.tresorbak`)));

      // verify starts the run on the server and follows it to the signed evidence; exit 0 when it passed.
      const verified = await tresor(['backup', 'verify', id, '--json'], env);
      assert.equal(verified.code, 0, verified.stderr);
      const v = JSON.parse(verified.stdout);
      assert.deepEqual([v.backupId, v.result], [id, 'passed']);
      assert.match(verified.stderr, new RegExp(`verify ${id}: 6/6 steps`), 'the progress ends at the last step');
    });
  });
}
