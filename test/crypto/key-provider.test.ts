import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openFileKeyProvider } from '../../src/crypto/key-provider.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tresor-kp-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const aad = Buffer.from('ctx');

test('creates a 0600 key file of 32 bytes in a 0700 directory', () => {
  const path = join(dir, 'create', 'nested', 'root.key');
  const kp = openFileKeyProvider({ path, allowCreate: true });
  assert.equal(kp.name, 'file');
  assert.match(kp.keyId, /^[0-9a-f]{16}$/);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'create', 'nested')).mode & 0o777, 0o700);
  assert.equal(readFileSync(path).length, 32);
});

test('re-opening gives the same keyId and unwraps what the first wrapped', () => {
  const path = join(dir, 'reopen.key');
  const first = openFileKeyProvider({ path, allowCreate: true });
  const wrapped = first.wrap(Buffer.from('dek-bytes'), aad);
  const second = openFileKeyProvider({ path, allowCreate: false });
  assert.equal(second.keyId, first.keyId);
  assert.equal(second.unwrap(wrapped, aad).toString(), 'dek-bytes');
  // Opening with allowCreate=true must not overwrite an existing key.
  assert.equal(openFileKeyProvider({ path, allowCreate: true }).keyId, first.keyId);
});

test('unwrap fails with a different AAD', () => {
  const kp = openFileKeyProvider({ path: join(dir, 'aad.key'), allowCreate: true });
  const wrapped = kp.wrap(Buffer.from('x'), aad);
  assert.throws(() => kp.unwrap(wrapped, Buffer.from('other')), { code: 'crypto.unwrap_failed' });
});

test('missing file with allowCreate=false is refused', () => {
  const path = join(dir, 'missing.key');
  assert.throws(() => openFileKeyProvider({ path, allowCreate: false }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'config.key_file_missing');
    assert.ok(err.message.includes(path));
    assert.match(err.message, /already holds keys/);
    return true;
  });
});

test('group/other-readable key file is refused with a chmod hint', () => {
  const path = join(dir, 'loose.key');
  writeFileSync(path, randomBytes(32), { mode: 0o600 });
  chmodSync(path, 0o644);
  assert.throws(() => openFileKeyProvider({ path, allowCreate: false }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'config.key_file_permissions');
    assert.ok(err.message.includes(`chmod 600 ${path}`));
    return true;
  });
});

test('key file of the wrong length is refused', () => {
  const path = join(dir, 'short.key');
  writeFileSync(path, randomBytes(31), { mode: 0o600 });
  chmodSync(path, 0o600);
  assert.throws(() => openFileKeyProvider({ path, allowCreate: true }), { code: 'config.key_file_invalid' });
});

test('a different key file cannot unwrap', () => {
  const a = openFileKeyProvider({ path: join(dir, 'a.key'), allowCreate: true });
  const b = openFileKeyProvider({ path: join(dir, 'b.key'), allowCreate: true });
  assert.notEqual(a.keyId, b.keyId);
  const wrapped = a.wrap(randomBytes(32), aad);
  assert.throws(() => b.unwrap(wrapped, aad), { code: 'crypto.unwrap_failed' });
});

test('error messages never contain key bytes', () => {
  const path = join(dir, 'leak.key');
  const key = randomBytes(32);
  writeFileSync(path, key, { mode: 0o600 });
  chmodSync(path, 0o640);
  assert.throws(
    () => openFileKeyProvider({ path, allowCreate: false }),
    (err: Error) => !err.message.includes(key.toString('hex')) && !err.message.includes(key.toString('base64')),
  );
});
