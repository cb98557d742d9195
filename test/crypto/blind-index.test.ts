import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { blindIndexFor, hmacSha256 } from '../../src/crypto/blind-index.js';

const people = 'c0ffee00-0000-4000-8000-00000000abcd';
const customers = '44444444-4444-4444-8444-444444444444';
const p = { collection: people, field: 'email', value: 'alice@example.com' };

test('is deterministic and 32 bytes', () => {
  const key = randomBytes(32);
  const a = blindIndexFor(key, p);
  assert.equal(a.length, 32);
  assert.deepEqual(a, blindIndexFor(key, { ...p }));
});

test('differs across fields, collections, values and keys', () => {
  const key = randomBytes(32);
  const a = blindIndexFor(key, p);
  assert.notDeepEqual(a, blindIndexFor(key, { ...p, field: 'billing_email' }));
  assert.notDeepEqual(a, blindIndexFor(key, { ...p, collection: customers }));
  assert.notDeepEqual(a, blindIndexFor(key, { ...p, value: 'bob@example.com' }));
  assert.notDeepEqual(a, blindIndexFor(randomBytes(32), p));
});

test('boundary shifts between parts give different indexes', () => {
  const key = randomBytes(32);
  assert.notDeepEqual(
    blindIndexFor(key, { collection: people, field: 'fv', value: '' }),
    blindIndexFor(key, { collection: people, field: 'f', value: 'v' }),
  );
});

test('refuses a collection id that is not a canonical lower-case UUID (defect 1)', () => {
  for (const bad of [people.toUpperCase(), `urn:uuid:${people}`, 'people']) {
    assert.throws(() => blindIndexFor(randomBytes(32), { ...p, collection: bad }), /collection id must be a canonical/);
  }
});

test('rejects short index keys', () => {
  assert.throws(() => blindIndexFor(randomBytes(16), p), /32 bytes/);
});

// RFC 4231 §4.3, Test Case 2.
test('hmacSha256 matches RFC 4231 test case 2', () => {
  const mac = hmacSha256(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'));
  assert.equal(mac.toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
});
