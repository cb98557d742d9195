import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { hashApiKey, newApiKey, parseApiKey, safeEqual } from '../../src/crypto/api-key-secret.js';

test('new keys have the trk_<8 hex>_<43 base64url> format', () => {
  const { key, prefix } = newApiKey();
  assert.match(key, /^trk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$/);
  assert.match(prefix, /^[0-9a-f]{8}$/);
  assert.ok(key.startsWith(`trk_${prefix}_`));
  const secret = key.slice(`trk_${prefix}_`.length);
  assert.equal(Buffer.from(secret, 'base64url').length, 32);
});

test('hash is SHA-256 of the full key string', () => {
  const { key, hash } = newApiKey();
  assert.deepEqual(hash, createHash('sha256').update(key).digest());
  assert.deepEqual(hashApiKey(key), hash);
  assert.equal(hash.length, 32);
});

test('two keys differ', () => {
  const a = newApiKey();
  const b = newApiKey();
  assert.notEqual(a.key, b.key);
  assert.notDeepEqual(a.hash, b.hash);
});

test('parseApiKey returns the prefix of a well-formed key', () => {
  const { key, prefix } = newApiKey();
  assert.deepEqual(parseApiKey(key), { prefix });
});

test('parseApiKey rejects malformed keys', () => {
  const { key } = newApiKey();
  const bad = [
    '',
    'trk_',
    key.replace('trk_', 'trx_'),
    key.toUpperCase(),
    `${key}A`,
    key.slice(0, -1),
    `trk_0123456_${'A'.repeat(43)}`,
    `trk_0123456g_${'A'.repeat(43)}`,
    `trk_01234567_${'A'.repeat(42)}+`,
    ` ${key}`,
    `${key}\n`,
  ];
  for (const k of bad) assert.equal(parseApiKey(k), null, JSON.stringify(k));
});

test('safeEqual compares contents and rejects different lengths', () => {
  assert.equal(safeEqual(Buffer.from('abc'), Buffer.from('abc')), true);
  assert.equal(safeEqual(Buffer.from('abc'), Buffer.from('abd')), false);
  assert.equal(safeEqual(Buffer.from('abc'), Buffer.from('abcd')), false);
  assert.equal(safeEqual(Buffer.alloc(0), Buffer.alloc(0)), true);
});
