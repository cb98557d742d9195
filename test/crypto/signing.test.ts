import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicKey, verify } from 'node:crypto';
import { openFileKeyProvider, openPassphraseKeyProvider, newPassphraseSalt } from '../../src/crypto/key-provider.js';
import { signingKeyFor, signingKeyFromSeed, signingKeyId, verifyEd25519 } from '../../src/crypto/signing.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tresor-sign-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

// RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte 0x72).
const RFC8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

for (const [i, v] of RFC8032.entries()) {
  test(`RFC 8032 test ${i + 1}: public key and signature match the published vector`, () => {
    const key = signingKeyFromSeed(hex(v.seed));
    assert.equal(key.algorithm, 'Ed25519');
    assert.equal(key.publicKey.toString('hex'), v.publicKey);
    assert.equal(key.sign(hex(v.message)).toString('hex'), v.signature);
    assert.equal(key.verify(hex(v.message), hex(v.signature)), true);
    assert.equal(verifyEd25519(hex(v.publicKey), hex(v.message), hex(v.signature)), true);
  });
}

test('keyId is the first 8 bytes of SHA-256 of the raw public key', () => {
  const key = signingKeyFromSeed(hex(RFC8032[0]!.seed));
  assert.match(key.keyId, /^[0-9a-f]{16}$/);
  assert.equal(key.keyId, signingKeyId(hex(RFC8032[0]!.publicKey)));
});

test('the same root key and purpose give the same signing key after reopening', () => {
  const path = join(dir, 'root.key');
  const a = signingKeyFor(openFileKeyProvider({ path, allowCreate: true }), 'audit.tree_head');
  const b = signingKeyFor(openFileKeyProvider({ path, allowCreate: false }), 'audit.tree_head');
  assert.equal(a.keyId, b.keyId);
  assert.deepEqual(a.publicKey, b.publicKey);
  const msg = Buffer.from('tree head');
  assert.equal(b.verify(msg, a.sign(msg)), true);
});

test('each purpose has its own key: a signature for one purpose does not verify under another', () => {
  const provider = openFileKeyProvider({ path: join(dir, 'purpose.key'), allowCreate: true });
  const audit = signingKeyFor(provider, 'audit.tree_head');
  const backup = signingKeyFor(provider, 'backup.restore_evidence');
  assert.notEqual(audit.keyId, backup.keyId);
  const msg = Buffer.from('evidence');
  assert.equal(backup.verify(msg, audit.sign(msg)), false);
});

test('a different root key gives a different signing key', () => {
  const a = signingKeyFor(openFileKeyProvider({ path: join(dir, 'a.key'), allowCreate: true }), 'audit.tree_head');
  const b = signingKeyFor(openFileKeyProvider({ path: join(dir, 'b.key'), allowCreate: true }), 'audit.tree_head');
  assert.notEqual(a.keyId, b.keyId);
});

test('the passphrase provider derives signing keys too, stable for the same passphrase and salt', () => {
  const salt = newPassphraseSalt();
  const scrypt = { N: 2 ** 10, r: 8, p: 1 };
  const open = () => openPassphraseKeyProvider({ passphrase: 'correct horse battery', salt, scrypt });
  assert.equal(signingKeyFor(open(), 'audit.tree_head').keyId, signingKeyFor(open(), 'audit.tree_head').keyId);
});

test('any altered byte of message or signature fails verification; wrong lengths are invalid, not errors', () => {
  const key = signingKeyFor(openFileKeyProvider({ path: join(dir, 'tamper.key'), allowCreate: true }), 'audit.tree_head');
  const msg = Buffer.from('0001000000000000000a', 'hex');
  const sig = key.sign(msg);
  for (let i = 0; i < msg.length; i++) {
    const bad = Buffer.from(msg);
    bad[i]! ^= 0x01;
    assert.equal(key.verify(bad, sig), false);
  }
  for (let i = 0; i < sig.length; i += 7) {
    const bad = Buffer.from(sig);
    bad[i]! ^= 0x80;
    assert.equal(key.verify(msg, bad), false);
  }
  assert.equal(key.verify(msg, sig.subarray(0, 63)), false);
  assert.equal(verifyEd25519(key.publicKey.subarray(0, 31), msg, sig), false);
});

test('signatures verify with a plain SPKI import of the raw public key (what an outside verifier does)', () => {
  const key = signingKeyFor(openFileKeyProvider({ path: join(dir, 'spki.key'), allowCreate: true }), 'audit.tree_head');
  const msg = Buffer.from('independent');
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: key.publicKey.toString('base64url') };
  assert.equal(verify(null, msg, createPublicKey({ key: jwk, format: 'jwk' }), key.sign(msg)), true);
});

test('purpose labels are restricted so no two spellings name one key', () => {
  const provider = openFileKeyProvider({ path: join(dir, 'label.key'), allowCreate: true });
  assert.throws(() => signingKeyFor(provider, 'Audit Tree Head'), /key purpose/);
  assert.throws(() => provider.deriveKey(''), /key purpose/);
});
