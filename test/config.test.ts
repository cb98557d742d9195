// Configuration fails fast and completely: every problem at once, before
// anything opens, and without echoing secrets (DATABASE_URL's password, the
// key passphrase) into the message, which ends up in terminals and logs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../src/config.ts';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('loadConfig accepted an invalid configuration');
}

/** No run of 5 characters of the secret appears in the text (catches partial quotes too). */
function assertNoPieceOf(secret: string, text: string) {
  for (let i = 0; i + 5 <= secret.length; i++) {
    assert.ok(!text.includes(secret.slice(i, i + 5)), `'${secret.slice(i, i + 5)}' of a secret appears in: ${text}`);
  }
}

describe('configuration', () => {
  let dir: string;
  const file = (name: string, text: string) => { const path = join(dir, name); writeFileSync(path, text); return path; };

  before(() => { dir = mkdtempSync(join(tmpdir(), 'tresor-config-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has safe defaults without any setting', () => {
    const config = loadConfig({});
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1', 'listens on loopback unless told otherwise');
    assert.equal(config.keyProvider, 'file');
    assert.equal(config.keyFile, resolve('data', 'keys', 'root.key'));
    assert.equal(config.keyPassphrase, undefined);
  });

  it('lists every problem at once in one ConfigError', () => {
    const err = configError({ PORT: 'abc', TRESOR_KEY_PROVIDER: 'nope', DATABASE_URL: 'mysql://x' });
    assert.equal(err.problems.length, 3, err.message);
    assert.match(err.problems.find((p) => p.startsWith('PORT'))!, /whole number/);
    assert.match(err.problems.find((p) => p.startsWith('TRESOR_KEY_PROVIDER'))!, /one of file, passphrase/);
    assert.match(err.problems.find((p) => p.startsWith('DATABASE_URL'))!, /postgres:\/\//);
    for (const p of err.problems) assert.ok(err.message.includes(p), 'the message names every problem');
  });

  it('refuses a multi-host DATABASE_URL that does not ask for the primary', () => {
    const hosts = 'postgres://tresor:pw@db1:5432,db2:5432,db3:5432/tresor';
    for (const url of [hosts, `${hosts}?sslmode=require`, `${hosts}?target_session_attrs=any`]) {
      const err = configError({ DATABASE_URL: url });
      assert.deepEqual(err.problems.map((p) => p.split(':')[0]), ['DATABASE_URL'], url);
      assert.match(err.problems[0], /target_session_attrs=read-write/);
    }
    for (const target of ['read-write', 'primary']) {
      assert.equal(loadConfig({ DATABASE_URL: `${hosts}?target_session_attrs=${target}` }).databaseUrl, `${hosts}?target_session_attrs=${target}`);
    }
    assert.ok(loadConfig({ DATABASE_URL: 'postgres://tresor:pw@db1:5432/tresor' }).databaseUrl, 'one host needs no session target');
  });

  it('takes one Patroni REST API per member, comma-separated; refuses anything but http(s) base URLs', () => {
    const list = 'http://10.0.0.5:8008,https://db2.example:8008/';
    assert.equal(loadConfig({ TRESOR_PATRONI_URL: list }).patroniUrl, list);
    for (const bad of ['10.0.0.5:8008', 'http://a:8008,', 'http://a:8008/cluster', 'http://a:8008, http://b:8008', 'ftp://a']) {
      const err = configError({ TRESOR_PATRONI_URL: bad });
      assert.deepEqual(err.problems.map((p) => p.split(':')[0]), ['TRESOR_PATRONI_URL'], bad);
    }
  });

  it('checks numbers: whole, within bounds, and consistent with each other', () => {
    const err = configError({ PORT: '70000', TRESOR_DB_POOL_MAX: '0', TRESOR_BODY_LIMIT: '12.5', TRESOR_WORKERS: '-1',
      TRESOR_LIST_DEFAULT_LIMIT: '600', TRESOR_LIST_MAX_LIMIT: '500' });
    assert.equal(err.problems.length, 5, err.message);
    assert.ok(err.problems.some((p) => /^PORT .*at most 65535/.test(p)));
    assert.ok(err.problems.some((p) => /^TRESOR_DB_POOL_MAX .*at least 1/.test(p)));
    assert.ok(err.problems.some((p) => /^TRESOR_BODY_LIMIT .*whole number/.test(p)));
    assert.ok(err.problems.some((p) => /^TRESOR_WORKERS .*whole number/.test(p)));
    assert.ok(err.problems.some((p) => /^TRESOR_LIST_DEFAULT_LIMIT/.test(p)));
  });

  it('refuses unknown TRESOR_* variables, not those of the CLI', () => {
    const err = configError({ TRESOR_DB_POOL: '5', TRESOR_WORKER: '2', TRESOR_URL: 'http://x', TRESOR_TOKEN: 't', TRESOR_CONFIG: '' });
    assert.deepEqual(err.problems.sort(), ['TRESOR_DB_POOL: unknown setting', 'TRESOR_WORKER: unknown setting']);
  });

  it('refuses a cache TTL of 0, which the caches cannot honour', () => {
    const err = configError({ TRESOR_KEY_CACHE_TTL_MS: '0', TRESOR_AUTH_CACHE_TTL_MS: '0' });
    assert.equal(err.problems.length, 2, err.message);
    for (const p of err.problems) assert.match(p, /_CACHE_TTL_MS .*at least 1/);
  });

  it('checks size settings against each other', () => {
    const err = configError({ TRESOR_DEFAULT_MAX_LENGTH: '2000', TRESOR_MAX_LENGTH_CAP: '1000',
      TRESOR_RECORD_MAX_BYTES: '4096', TRESOR_IMPORT_LINE_MAX_BYTES: String(8 * 4096 + 1) });
    assert.equal(err.problems.length, 2, err.message);
    assert.ok(err.problems.some((p) => /^TRESOR_DEFAULT_MAX_LENGTH: must not exceed TRESOR_MAX_LENGTH_CAP/.test(p)));
    assert.ok(err.problems.some((p) => /^TRESOR_IMPORT_LINE_MAX_BYTES: must not exceed 8 × TRESOR_RECORD_MAX_BYTES/.test(p)));
    assert.ok(loadConfig({ TRESOR_RECORD_MAX_BYTES: '4096', TRESOR_IMPORT_LINE_MAX_BYTES: String(8 * 4096) }));
  });

  it('refuses the passphrase provider without a passphrase, accepts it with one', () => {
    const err = configError({ TRESOR_KEY_PROVIDER: 'passphrase' });
    assert.deepEqual(err.problems, ['TRESOR_KEY_PASSPHRASE: required when TRESOR_KEY_PROVIDER=passphrase']);
    assert.ok(configError({ TRESOR_KEY_PROVIDER: 'passphrase', TRESOR_KEY_PASSPHRASE: '' }).problems.length === 1, 'an empty passphrase is no passphrase');
    const config = loadConfig({ TRESOR_KEY_PROVIDER: 'passphrase', TRESOR_KEY_PASSPHRASE: 'a long and secret phrase' });
    assert.equal(config.keyProvider, 'passphrase');
  });

  it('reads a config file (TRESOR_CONFIG); the environment wins over it', () => {
    const path = file('tresor.json', JSON.stringify({ port: 9090, host: '0.0.0.0', logLevel: 'warn', dbPoolMax: 7, dataDir: join(dir, 'store') }));
    const config = loadConfig({ TRESOR_CONFIG: path, PORT: '1234', LOG_LEVEL: '' });
    assert.equal(config.port, 1234, 'env beats the file');
    assert.equal(config.host, '0.0.0.0', 'the file beats the default');
    assert.equal(config.logLevel, 'warn', 'an empty env value does not override the file');
    assert.equal(config.dbPoolMax, 7);
    assert.equal(config.keyFile, join(dir, 'store', 'keys', 'root.key'), 'the key file follows the data dir');
  });

  it('validates the file with the same rules and refuses unknown settings', () => {
    const path = file('bad.json', JSON.stringify({ port: 'eighty', pOrt: 80, databasePassword: 'x' }));
    const err = configError({ TRESOR_CONFIG: path });
    assert.equal(err.problems.length, 3, err.message);
    assert.ok(err.problems.some((p) => p.startsWith('PORT') && /whole number/.test(p)));
    assert.ok(err.problems.some((p) => p.includes("unknown setting 'pOrt'")));
    assert.ok(err.problems.some((p) => p.includes("unknown setting 'databasePassword'")));
  });

  it('refuses a config file that is missing, not JSON, or not an object', () => {
    assert.match(configError({ TRESOR_CONFIG: join(dir, 'nope.json') }).message, /TRESOR_CONFIG .*nope\.json/);
    assert.match(configError({ TRESOR_CONFIG: file('list.json', '[1, 2]') }).message, /must hold a JSON object/);
    assert.match(configError({ TRESOR_CONFIG: file('broken.json', '{"port": 80,,}') }).message, /not valid JSON/);
  });

  it("never puts DATABASE_URL's password into a ConfigError", () => {
    const password = 'hunter2-Sup3rSecret';
    const cases: NodeJS.ProcessEnv[] = [
      { DATABASE_URL: `mysql://tresor:${password}@db.internal/tresor` },
      { DATABASE_URL: `postgres://tresor:${password}@db.internal/tresor`, PORT: 'abc', TRESOR_KEY_PROVIDER: 'nope' },
      { TRESOR_CONFIG: file('url.json', JSON.stringify({ databaseUrl: `mysql://tresor:${password}@db/x` })) },
      // Malformed files: JSON.parse's own message quotes the text around the error.
      { TRESOR_CONFIG: file('quote.json', `{"databaseUrl": 'postgres://u:${password}@db/x'}`) },
      { TRESOR_CONFIG: file('tail.json', `{"databaseUrl": "postgres://u:${password}"x}`) },
      { TRESOR_CONFIG: file('bare.json', `{"port": 1, "databaseUrl": postgres://u:${password}@db/x}`) },
      { TRESOR_CONFIG: file('array.json', `{"databaseUrl": ["postgres://u:${password}",x]}`) },
    ];
    for (const env of cases) {
      const err = configError(env);
      assertNoPieceOf(password, err.message);
      assertNoPieceOf(password, JSON.stringify(err.problems));
    }
  });

  it('never puts the key passphrase into a ConfigError', () => {
    const passphrase = 'Xq9 zebra-Moonlit kettle 77';
    for (const text of [`{"keyPassphrase": '${passphrase}'}`, `{"keyProvider": "passphrase", "keyPassphrase": "${passphrase}" "port": 1}`]) {
      assertNoPieceOf(passphrase, configError({ TRESOR_CONFIG: file('pass.json', text) }).message);
    }
    assertNoPieceOf(passphrase, configError({ TRESOR_KEY_PASSPHRASE: passphrase, TRESOR_KEY_PROVIDER: 'hsm' }).message);
  });
});
