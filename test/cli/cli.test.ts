import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tresorDirs } from '../../bench/tresor-process.ts';
import { startupCatalogue } from '../../src/errors.ts';
import { tresor } from './run-cli.ts';

// The command line itself: help, version, usage errors, local errors, completion,
// and the [store] commands on a fresh embedded store. No server runs here.

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const storeCommands = [['start'], ['migrate'], ['operator-key'], ['operator-key', 'create']];
const apiCommands = [['import'], ['keys'], ['keys', 'rotate']];

describe('tresor command line', () => {
  const dirs = tresorDirs('tresor-cli-local-');
  after(() => dirs.remove());

  it('--version prints the version of package.json', async () => {
    const run = await tresor(['--version']);
    assert.equal(run.code, 0);
    assert.equal(run.stdout.trim(), pkg.version);
  });

  it('--help of every command names the environment variables it reads and gives an example', async () => {
    const runs = await Promise.all([...storeCommands, ...apiCommands, ['completion'], []].map(async (cmd) => [cmd, await tresor([...cmd, '--help'])] as const));
    for (const [cmd, run] of runs) {
      const name = cmd.join(' ') || 'tresor';
      assert.equal(run.code, 0, name);
      assert.match(run.stdout, /Environment:/, name);
      assert.match(run.stdout, /Example:\n  \$ .*tresor /, name);
      const group = cmd.length === 0 || (cmd.length === 1 && ['keys', 'operator-key'].includes(cmd[0]));
      if (!group) {
        assert.match(run.stdout, /Exit codes: 0 done, 1 failed, 2 partly done, 64 usage error/, name);
      }
      if (storeCommands.includes(cmd)) assert.match(run.stdout, /DATABASE_URL[\s\S]*TRESOR_DATA_DIR/, name);
      if (apiCommands.includes(cmd)) assert.match(run.stdout, /TRESOR_URL[\s\S]*TRESOR_TOKEN/, name);
      // Every option has a description (commander prints a bare flag otherwise).
      for (const line of run.stdout.split('\n').filter((l) => /^  -/.test(l))) assert.match(line, /^  \S.*\S {2,}\S/, `${name}: ${line}`);
    }
    const root = runs.at(-1)![1].stdout;
    assert.match(root, /Exit codes:\n {2}0 {3}done\n {2}1 {3}failed[^\n]*\n {2}2 {3}partly done[^\n]*\n {2}64 {2}usage error/);
  });

  it('a usage error exits 64; with --json it is a cli.usage object on stdout', async () => {
    const [unknownCommand, unknownOption, missingOption, badChoice, badNumber, json] = await Promise.all([
      tresor(['frobnicate']), tresor(['migrate', '--frobnicate']), tresor(['keys', 'rotate']), tresor(['completion', 'fish']),
      tresor(['keys', 'rotate', '--tenant', 't', '--progress-every', '0']),
      tresor(['import', 'file.jsonl', '--collection', 'people', '--json']),
    ]);
    for (const run of [unknownCommand, unknownOption, missingOption, badChoice, badNumber]) assert.equal(run.code, 64, run.stderr);
    assert.match(unknownCommand.stderr, /unknown command 'frobnicate'/);
    assert.match(missingOption.stderr, /required option '--tenant <id>' not specified/);
    assert.equal(json.code, 64);
    assert.deepEqual(JSON.parse(json.stdout), { code: 'cli.usage', title: startupCatalogue['cli.usage'].title,
      detail: "required option '--tenant <id>' not specified" });
  });

  it('a connection failure exits 1 and names the URL and the cause, not "fetch failed"', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const env = { TRESOR_URL: url, TRESOR_TOKEN: 'any' };
    const [text, json] = await Promise.all([
      tresor(['keys', 'rotate', '--tenant', '00000000-0000-4000-8000-000000000000'], env),
      tresor(['keys', 'rotate', '--tenant', '00000000-0000-4000-8000-000000000000', '--json'], env),
    ]);
    assert.equal(text.code, 1);
    assert.equal(text.stderr, `tresor: [cli.unreachable] cannot reach ${url}: ECONNREFUSED, connection refused (is the server running?)\n`);
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stdout), { code: 'cli.unreachable', title: startupCatalogue['cli.unreachable'].title,
      detail: `cannot reach ${url}: ECONNREFUSED, connection refused (is the server running?)`, url });
  });

  it('local errors exit 1 with a catalogued code: no server configured, an unreadable file', async () => {
    const [unset, noFile] = await Promise.all([
      tresor(['keys', 'rotate', '--tenant', 't', '--json']),
      tresor(['import', '--tenant', 't', '--collection', 'c', join(dirs.dir, 'missing.jsonl'), '--json'], { TRESOR_URL: 'http://127.0.0.1:9', TRESOR_TOKEN: 'k' }),
    ]);
    assert.equal(unset.code, 1);
    assert.equal(JSON.parse(unset.stdout).code, 'config.invalid');
    assert.match(JSON.parse(unset.stdout).detail, /TRESOR_URL and TRESOR_TOKEN/);
    assert.equal(noFile.code, 1);
    assert.deepEqual(JSON.parse(noFile.stdout), { code: 'cli.file_unreadable', title: startupCatalogue['cli.file_unreadable'].title,
      detail: `cannot read ${join(dirs.dir, 'missing.jsonl')}: ENOENT`, file: join(dirs.dir, 'missing.jsonl') });
  });

  it('migrate and operator-key create print JSON on a fresh embedded store', async () => {
    const migrate = await tresor(['migrate', '--json'], dirs.env);
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.deepEqual(JSON.parse(migrate.stdout), { migrated: true });
    const created = await tresor(['operator-key', 'create', '--name', 'ops', '--json'], dirs.env);
    assert.equal(created.code, 0, created.stderr);
    const body = JSON.parse(created.stdout);
    assert.equal(body.name, 'ops');
    assert.equal(typeof body.key, 'string');
    const text = await tresor(['operator-key', 'create', '--name', 'ops2'], dirs.env);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout.trim().split('\n').length, 1);
  });

  it('completion prints bash and zsh scripts of the commands and options', async () => {
    const [bash, zsh, json] = await Promise.all([tresor(['completion', 'bash']), tresor(['completion', 'zsh']), tresor(['completion', 'bash', '--json'])]);
    assert.equal(bash.code, 0);
    assert.equal(zsh.code, 0);
    assert.match(zsh.stdout, /^#compdef tresor\n/);
    assert.match(zsh.stdout, /"keys rotate"\*\) candidates=\(--tenant --url --token --progress-every --json --help\)/);
    assert.deepEqual(JSON.parse(json.stdout), { shell: 'bash', script: `${bash.stdout}` });
    // The bash script really completes: source it and ask as bash's completion would.
    const script = join(dirs.dir, 'tresor.bash');
    writeFileSync(script, bash.stdout);
    const complete = (words: string[]) => execFileSync('bash', ['-c',
      `source "$1"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tresor; echo "\${COMPREPLY[*]}"`, 'bash', script], { encoding: 'utf8' }).trim();
    assert.equal(complete(['tresor', 'k']), 'keys');
    assert.equal(complete(['tresor', 'keys', '']), 'rotate --help');
    assert.equal(complete(['tresor', 'keys', 'rotate', '--t']), '--tenant --token');
    assert.equal(complete(['tresor', 'import', '--tenant', 'x', '--co']), '--collection');
    assert.equal(complete(['tresor', 'completion', '']), 'bash zsh --json --help');
    assert.equal(complete(['tresor', 'import', join(dirs.dir, 'tresor.b')]), script);
  });
});
