import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { newPassphraseSalt, openPassphraseKeyProvider } from '../../src/crypto/key-provider.js';
import { createKeyCache, generateDataKey, unwrapDataKey, wrapDataKey } from '../../src/crypto/keyring.js';
import type { DataKeyParams } from '../../src/crypto/keyring.js';

const provider = openPassphraseKeyProvider({
  passphrase: 'keyring test passphrase',
  salt: newPassphraseSalt(),
  scrypt: { N: 2 ** 10, r: 8, p: 1 },
});
const ctx: DataKeyParams = { tenantId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0fa1b2c3d4', purpose: 'data', version: 1 };

test('generateDataKey returns 32 fresh random bytes', () => {
  const a = generateDataKey();
  assert.equal(a.length, 32);
  assert.notDeepEqual(a, generateDataKey());
});

test('wrap/unwrap round-trips a data key', () => {
  const dek = generateDataKey();
  const wrapped = wrapDataKey(provider, dek, ctx);
  assert.ok(!wrapped.includes(dek));
  assert.deepEqual(unwrapDataKey(provider, wrapped, ctx), dek);
});

test('a wrapped key moved to another tenant, version or purpose fails to unwrap', () => {
  const wrapped = wrapDataKey(provider, generateDataKey(), ctx);
  const moved: DataKeyParams[] = [
    { ...ctx, tenantId: '22222222-2222-4222-8222-222222222222' },
    { ...ctx, version: 2 },
    { ...ctx, purpose: 'index' },
    { ...ctx, purpose: 'pseudonym' },
  ];
  for (const p of moved) {
    assert.throws(() => unwrapDataKey(provider, wrapped, p), { code: 'crypto.unwrap_failed' });
  }
});

test('wrapDataKey rejects keys that are not 32 bytes', () => {
  assert.throws(() => wrapDataKey(provider, Buffer.alloc(16), ctx), /32 bytes/);
});

test('cache returns stored values and supports delete/clear', () => {
  const cache = createKeyCache<string>({ max: 10, ttlMs: 60_000 });
  cache.set('a', '1');
  cache.set('b', '2');
  assert.equal(cache.get('a'), '1');
  cache.delete('a');
  assert.equal(cache.get('a'), undefined);
  cache.clear();
  assert.equal(cache.get('b'), undefined);
});

test('cache evicts the least recently used entry beyond max', () => {
  const cache = createKeyCache<number>({ max: 2, ttlMs: 60_000 });
  cache.set('a', 1);
  cache.set('b', 2);
  assert.equal(cache.get('a'), 1); // 'a' is now most recently used
  cache.set('c', 3);
  assert.equal(cache.get('b'), undefined);
  assert.equal(cache.get('a'), 1);
  assert.equal(cache.get('c'), 3);
});

test('cache entries expire after ttl', async () => {
  const cache = createKeyCache<number>({ max: 2, ttlMs: 1 });
  cache.set('a', 1);
  await sleep(5);
  assert.equal(cache.get('a'), undefined);
});

test('cache rejects invalid options', () => {
  assert.throws(() => createKeyCache({ max: 0, ttlMs: 1 }));
  assert.throws(() => createKeyCache({ max: 1, ttlMs: 0 }));
});
