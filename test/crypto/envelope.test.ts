import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decryptValue, encryptValue, fieldAad, gcmOpen, gcmSeal } from '../../src/crypto/envelope.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const base = { tenantId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0fa1b2c3d4', collection: 'c0ffee00-0000-4000-8000-00000000abcd', recordId: '55555555-5555-4555-8555-555555555555', field: 'email', keyVersion: 1 };
const decryptFailed = { code: 'crypto.decrypt_failed' };

test('round-trips a value', () => {
  const key = randomBytes(32);
  const aad = fieldAad(base);
  const blob = encryptValue(key, Buffer.from('alice@example.com'), aad);
  assert.equal(blob.length, 12 + 17 + 16);
  assert.equal(decryptValue(key, blob, aad).toString(), 'alice@example.com');
});

test('round-trips an empty value', () => {
  const key = randomBytes(32);
  const aad = fieldAad(base);
  assert.equal(decryptValue(key, encryptValue(key, Buffer.alloc(0), aad), aad).length, 0);
});

test('uses a fresh nonce for each encryption', () => {
  const key = randomBytes(32);
  const aad = fieldAad(base);
  const a = encryptValue(key, Buffer.from('same'), aad);
  const b = encryptValue(key, Buffer.from('same'), aad);
  assert.notDeepEqual(a.subarray(0, 12), b.subarray(0, 12));
  assert.notDeepEqual(a, b);
});

test('fails when the value is moved to another context (AAD)', () => {
  const key = randomBytes(32);
  const blob = encryptValue(key, Buffer.from('secret'), fieldAad(base));
  const moved = [
    { ...base, field: 'phone' },
    { ...base, recordId: '66666666-6666-4666-8666-666666666666' },
    { ...base, keyVersion: 2 },
    { ...base, tenantId: '22222222-2222-4222-8222-222222222222' },
    { ...base, collection: '44444444-4444-4444-8444-444444444444' },
  ];
  for (const ctx of moved) {
    assert.throws(() => decryptValue(key, blob, fieldAad(ctx)), decryptFailed);
  }
});

test('fails when any single byte is flipped', () => {
  const key = randomBytes(32);
  const aad = fieldAad(base);
  const blob = encryptValue(key, Buffer.from('secret value'), aad);
  for (const i of [0, 12, 15, blob.length - 1]) {
    const tampered = Buffer.from(blob);
    tampered[i] = (tampered[i] as number) ^ 0x01;
    assert.throws(() => decryptValue(key, tampered, aad), decryptFailed);
  }
});

test('fails with the wrong key, truncated or short input', () => {
  const key = randomBytes(32);
  const aad = fieldAad(base);
  const blob = encryptValue(key, Buffer.from('secret'), aad);
  assert.throws(() => decryptValue(randomBytes(32), blob, aad), decryptFailed);
  assert.throws(() => decryptValue(key, blob.subarray(0, blob.length - 1), aad), decryptFailed);
  assert.throws(() => decryptValue(key, Buffer.alloc(27), aad), decryptFailed);
  assert.throws(() => decryptValue(randomBytes(16), blob, aad), decryptFailed);
});

test('error messages do not leak plaintext', () => {
  const key = randomBytes(32);
  const blob = encryptValue(key, Buffer.from('very-secret-plaintext'), fieldAad(base));
  assert.throws(
    () => decryptValue(key, blob, fieldAad({ ...base, field: 'x' })),
    (err: Error) => !err.message.includes('very-secret-plaintext'),
  );
});

test('rejects keys that are not 32 bytes on encrypt', () => {
  assert.throws(() => encryptValue(randomBytes(16), Buffer.from('x'), Buffer.alloc(0)), /32 bytes/);
});

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Test Case 16:
// 256-bit key, 96-bit IV, 60-byte plaintext, 20-byte AAD.
test('AES-256-GCM matches McGrew-Viega Test Case 16', () => {
  const key = hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308');
  const iv = hex('cafebabefacedbaddecaf888');
  const pt = hex(
    'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
      '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
  );
  const aad = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
  const ct =
    '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
    '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662';
  const tag = '76fc6ece0f4e1768cddf8853bb2d551b';
  const sealed = gcmSeal(key, iv, pt, aad);
  assert.equal(sealed.toString('hex'), ct + tag);
  assert.deepEqual(gcmOpen(key, iv, sealed, aad), pt);
  // Same vector through the blob format decryptValue consumes.
  assert.deepEqual(decryptValue(key, Buffer.concat([iv, sealed]), aad), pt);
});

test('gcmOpen rejects a truncated tag', () => {
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const sealed = gcmSeal(key, iv, Buffer.from('hello'), Buffer.alloc(0));
  // Drop the last 4 tag bytes: a 12-byte tag must not be accepted.
  assert.throws(() => gcmOpen(key, iv, sealed.subarray(0, sealed.length - 4), Buffer.alloc(0)));
});

// One seal per record: padding to 32-byte buckets with a 64-byte minimum.
test('padPlaintext: 0x80 then zeros to a 32-byte bucket, at least 64 bytes; unpad inverts it', async () => {
  const { padPlaintext, unpadPlaintext } = await import('../../src/crypto/envelope.js');
  for (const [n, size] of [[0, 64], [1, 64], [63, 64], [64, 96], [95, 96], [96, 128]] as const) {
    const plain = Buffer.alloc(n, 0x80);
    const padded = padPlaintext(plain);
    assert.equal(padded.length, size, `length ${n}`);
    assert.deepEqual(unpadPlaintext(padded), plain);
  }
  assert.throws(() => unpadPlaintext(Buffer.alloc(64)), decryptFailed);
  assert.throws(() => unpadPlaintext(Buffer.concat([Buffer.from([0x80]), Buffer.alloc(62), Buffer.from([1])])), decryptFailed);
});

test('sealRecord: round-trips, and fails for another record, collection, tenant or key version', async () => {
  const { sealRecord, openRecord } = await import('../../src/crypto/envelope.js');
  const key = randomBytes(32);
  const at = { tenantId: base.tenantId, collection: base.collection, recordId: base.recordId, keyVersion: 1 };
  const blob = sealRecord(key, Buffer.from('{"email":"a@b.c"}'), at);
  assert.equal(blob.length, 12 + 64 + 16);
  assert.equal(openRecord(key, blob, at).toString(), '{"email":"a@b.c"}');
  const other = '7e57ab1e-0000-4000-8000-000000000001';
  for (const moved of [{ ...at, recordId: other }, { ...at, collection: other }, { ...at, tenantId: other }, { ...at, keyVersion: 2 }]) {
    assert.throws(() => openRecord(key, blob, moved), decryptFailed);
  }
  assert.throws(() => sealRecord(key, Buffer.from('{}'), { ...at, tenantId: at.tenantId.toUpperCase() }), /canonical/);
});
