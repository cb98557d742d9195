import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newPassphraseSalt, openPassphraseKeyProvider } from '../../src/crypto/key-provider.js';

// Small cost parameters keep the tests fast; production uses N = 2^15.
const scrypt = { N: 2 ** 10, r: 8, p: 1 };
const aad = Buffer.from('ctx');

test('newPassphraseSalt returns 16 random bytes', () => {
  const a = newPassphraseSalt();
  assert.equal(a.length, 16);
  assert.notDeepEqual(a, newPassphraseSalt());
});

test('same passphrase and salt give the same keyId and can unwrap', () => {
  const salt = newPassphraseSalt();
  const a = openPassphraseKeyProvider({ passphrase: 'correct horse battery', salt, scrypt });
  const b = openPassphraseKeyProvider({ passphrase: 'correct horse battery', salt, scrypt });
  assert.equal(a.name, 'passphrase');
  assert.equal(a.keyId, b.keyId);
  assert.match(a.keyId, /^[0-9a-f]{16}$/);
  const wrapped = a.wrap(Buffer.from('dek'), aad);
  assert.equal(b.unwrap(wrapped, aad).toString(), 'dek');
});

test('different passphrase or salt cannot unwrap', () => {
  const salt = newPassphraseSalt();
  const a = openPassphraseKeyProvider({ passphrase: 'correct horse battery', salt, scrypt });
  const wrapped = a.wrap(Buffer.from('dek'), aad);
  const wrongPass = openPassphraseKeyProvider({ passphrase: 'correct horse battere', salt, scrypt });
  const wrongSalt = openPassphraseKeyProvider({ passphrase: 'correct horse battery', salt: newPassphraseSalt(), scrypt });
  for (const other of [wrongPass, wrongSalt]) {
    assert.notEqual(other.keyId, a.keyId);
    assert.throws(() => other.unwrap(wrapped, aad), { code: 'crypto.unwrap_failed' });
  }
});

test('short passphrase is refused without echoing it', () => {
  assert.throws(
    () => openPassphraseKeyProvider({ passphrase: 'elevenchars', salt: newPassphraseSalt(), scrypt }),
    (err: Error & { code?: string }) => err.code === 'config.passphrase_too_short' && !err.message.includes('elevenchars'),
  );
  // Exactly 12 characters is accepted.
  openPassphraseKeyProvider({ passphrase: 'twelve chars', salt: newPassphraseSalt(), scrypt });
});

test('short salt is refused', () => {
  assert.throws(
    () => openPassphraseKeyProvider({ passphrase: 'correct horse battery', salt: Buffer.alloc(8), scrypt }),
    { code: 'config.passphrase_salt_invalid' },
  );
});

test('default scrypt parameters work within the memory limit', () => {
  const kp = openPassphraseKeyProvider({ passphrase: 'correct horse battery', salt: newPassphraseSalt() });
  assert.match(kp.keyId, /^[0-9a-f]{16}$/);
});
