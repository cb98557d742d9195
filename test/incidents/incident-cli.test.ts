// `tresor incident …` against a running server (the test app on a real port), with an operator key.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { backends } from '../helpers/backends.ts';
import { type TestApp, startTestApp } from '../helpers/test-app.ts';
import { tresor } from '../cli/run-cli.ts';

for (const backend of backends) {
  describe(`tresor incident against a running server [${backend}]`, () => {
    let t: TestApp;
    let env: Record<string, string>;
    const run = async (...args: string[]) => tresor(['incident', ...args], env);

    before(async () => {
      t = await startTestApp(backend);
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      env = { TRESOR_URL: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`, TRESOR_TOKEN: t.operatorKey };
    });
    after(() => t.close());

    it('opens, records, decides, closes and exports an incident; refusals exit 1 with the problem', async () => {
      // Runs that do not depend on each other's outcome go at once (each is a process of its own).
      const [future, opened] = await Promise.all([
        run('open', '--title', 'Later', '--category', 'integrity', '--severity', 'low', '--description', 'x',
          '--aware-at', new Date(Date.now() + 3_600_000).toISOString(), '--json'),
        run('open', '--title', 'Lost laptop', '--category', 'confidentiality', '--severity', 'medium',
          '--description', 'A support laptop was stolen.', '--detected-at', new Date(Date.now() - 7_200_000).toISOString(), '--systems', 'support laptop'),
      ]);
      assert.equal(future.code, 1, future.stderr);
      assert.equal(JSON.parse(future.stdout).code, 'incident.aware_in_future');
      assert.equal(opened.code, 0, opened.stderr);
      const id = opened.stdout.trim().split('\n').at(-1)!;
      assert.match(id, /^[0-9a-f-]{36}$/);

      const [event, undecided] = await Promise.all([run('event', id, '--kind', 'containment', '--note', 'Disk encryption confirmed'),
        run('close', id, '--lessons', 'none')]);
      assert.equal(event.code, 0, event.stderr);
      assert.equal(undecided.code, 1);
      assert.match(undecided.stderr, /incident\.undecided/);
      const decided = await run('decide', id, '--not-notifiable', '--reason', 'The disk is encrypted; the key was not on it.', '--json');
      assert.equal(decided.code, 0, decided.stderr);
      assert.equal(JSON.parse(decided.stdout).decision.notifiable, false);
      assert.equal((await run('close', id, '--lessons', 'Laptops stay encrypted.')).code, 0);

      const [listed, shown, md, exported] = await Promise.all([run('list', '--status', 'closed'), run('show', id), run('export', id), run('export', id, '--json')]);
      assert.match(listed.stdout, new RegExp(`^${id}\\s+closed`, 'm'));
      assert.match(shown.stdout, /#2 \S+ containment by api_key \S+: Disk encryption confirmed/);
      assert.equal(md.code, 0, md.stderr);
      assert.match(md.stdout, /^# Incident .*: Lost laptop/);
      assert.match(md.stdout, /Notifiable: false/);
      const json = JSON.parse(exported.stdout);
      assert.equal(json.format, 'tresor.incident-documentation.v1');
      assert.deepEqual(json.incident.timeline.map((e: { kind: string }) => e.kind), ['opened', 'containment', 'decision', 'closed']);
    });
  });
}
