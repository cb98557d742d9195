import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base32, hotp, otpauthUri, totp, verifyTotp } from '../../src/crypto/totp.ts';

// RFC 6238 Appendix B, SHA-1 rows: the 20-byte ASCII seed, 8-digit values.
const seed = Buffer.from('12345678901234567890', 'ascii');
const vectors: [number, string][] = [
  [59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'],
  [1234567890, '89005924'], [2000000000, '69279037'], [20000000000, '65353130'],
];

test('RFC 6238 Appendix B vectors (SHA-1) through totp() and verifyTotp()', () => {
  for (const [seconds, expected] of vectors) {
    const now = new Date(seconds * 1000);
    assert.equal(totp(seed, now, 8), expected, `T = ${seconds}`);
    assert.notEqual(verifyTotp(seed, expected, now, null, 8), null, `T = ${seconds} verifies`);
  }
});

test('RFC 4226 Appendix D HOTP values', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  expected.forEach((code, counter) => assert.equal(hotp(seed, counter), code));
});

test('a code is accepted one step either side, not two', () => {
  const now = new Date(1_700_000_000_000);
  const code = totp(seed, now);
  assert.notEqual(verifyTotp(seed, code, new Date(now.getTime() + 30_000), null), null);
  assert.notEqual(verifyTotp(seed, code, new Date(now.getTime() - 30_000), null), null);
  assert.equal(verifyTotp(seed, code, new Date(now.getTime() + 61_000), null), null);
});

test('a step at or before the last used one is refused (replay)', () => {
  const now = new Date(1_700_000_000_000);
  const code = totp(seed, now);
  const step = verifyTotp(seed, code, now, null);
  assert.ok(step !== null);
  assert.equal(verifyTotp(seed, code, now, step), null);
  assert.equal(verifyTotp(seed, 'abcdef', now, null), null);
  assert.equal(verifyTotp(seed, '1234567', now, null), null);
});

test('base32 (RFC 4648 test vectors, no padding) and the otpauth URI', () => {
  const cases: [string, string][] = [['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
  for (const [plain, encoded] of cases) assert.equal(base32(Buffer.from(plain)), encoded);
  const uri = new URL(otpauthUri({ issuer: 'Tresor', account: 'ada@example.com', secret: seed }));
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.searchParams.get('secret'), base32(seed));
  assert.equal(uri.searchParams.get('digits'), '6');
  assert.equal(uri.searchParams.get('period'), '30');
});
