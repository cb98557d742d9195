import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, needsRehash, verifyPassword } from '../../src/crypto/passwords.ts';
import { commonPasswordCount, passwordProblems } from '../../src/identity/password-policy.ts';

const params = { memoryKiB: 19_456, iterations: 2, parallelism: 1 };

test('argon2id: the PHC string names the parameters; right and wrong passwords', async () => {
  const stored = await hashPassword('correct horse battery staple', params);
  assert.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(await verifyPassword(stored, 'correct horse battery staple'), true);
  assert.equal(await verifyPassword(stored, 'correct horse battery stapler'), false);
  assert.equal(await verifyPassword('not a hash', 'x'), false);
  assert.equal(needsRehash(stored, params), false);
  assert.equal(needsRehash(stored, { ...params, iterations: 3 }), true);
});

test('the blocklist ships at least 100,000 common passwords', () => {
  assert.ok(commonPasswordCount() >= 100_000, String(commonPasswordCount()));
});

const policy = { minLength: 12, maxLength: 128, composition: false, maxAgeDays: 0, history: 0 };
const who = { email: 'ada.lovelace@example.com', name: 'Ada Lovelace' };
const codes = (pw: string, p = policy) => passwordProblems(p, pw, who).map((x) => x.code);

test('the policy: length, common passwords, the user\'s own e-mail and name, optional composition', () => {
  assert.deepEqual(codes('short'), ['password.too_short']);
  assert.deepEqual(codes('x'.repeat(129)), ['password.too_long']);
  assert.deepEqual(codes('x'.repeat(128)), []);
  assert.deepEqual(codes('password1234'), ['password.common']);
  assert.deepEqual(codes('my-lovelace-pass-9'), ['password.personal']);
  assert.deepEqual(codes('ada.lovelace@example.com!'), ['password.personal']);
  assert.deepEqual(codes('tangerine velvet orbit'), []);
  assert.deepEqual(codes('tangerine velvet orbit', { ...policy, composition: true }), ['password.composition']);
  assert.deepEqual(codes('Tangerine velvet orbit 7', { ...policy, composition: true }), []);
});
