import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldAad } from '../../src/crypto/envelope.js';
import { dataKeyAad } from '../../src/crypto/keyring.js';

const T = '0a1b2c3d-4e5f-4a6b-8c7d-9e0fa1b2c3d4';
const C = 'c0ffee00-0000-4000-8000-00000000abcd';
const R = 'deadbeef-5555-4555-8555-555555555555';
const f = { tenantId: T, collection: C, recordId: R, field: 'f', keyVersion: 1 };

test('fieldAad: boundary shifts that collide under concatenation give different bytes', () => {
  const pairs = [
    [{ ...f, field: 'ab' }, { ...f, field: 'a' }],
    [{ ...f, field: 'x\u0000' }, { ...f, field: 'x' }],
  ];
  for (const [a, b] of pairs) assert.notDeepEqual(fieldAad(a!), fieldAad(b!));
});

test('fieldAad: is deterministic and includes the key version', () => {
  assert.deepEqual(fieldAad(f), fieldAad({ ...f }));
  assert.notDeepEqual(fieldAad(f), fieldAad({ ...f, keyVersion: 2 }));
});

test('fieldAad: rejects key versions that are not uint32', () => {
  for (const keyVersion of [-1, 1.5, 2 ** 32, Number.NaN]) {
    assert.throws(() => fieldAad({ ...f, keyVersion }), /keyVersion/);
  }
});

test('fieldAad: starts with the tresor.field.v1 label', () => {
  assert.ok(fieldAad(f).includes(Buffer.from('tresor.field.v1')));
});

test('dataKeyAad: differs by purpose and version, and carries its label', () => {
  assert.notDeepEqual(dataKeyAad({ tenantId: T, purpose: 'index', version: 1 }), dataKeyAad({ tenantId: T, purpose: 'data', version: 1 }));
  assert.notDeepEqual(dataKeyAad({ tenantId: T, purpose: 'data', version: 1 }), dataKeyAad({ tenantId: T, purpose: 'data', version: 256 }));
  assert.ok(dataKeyAad({ tenantId: T, purpose: 'data', version: 1 }).includes(Buffer.from('tresor.dek.v1')));
});

// Defect 1: one id spelt two ways would bind data to bytes no later read
// rebuilds; the builders refuse any spelling but the canonical one.
test('AAD builders refuse ids that are not canonical lower-case UUIDs', () => {
  for (const bad of [T.toUpperCase(), `urn:uuid:${T}`, ` ${T}`, '', 't']) {
    assert.throws(() => fieldAad({ ...f, tenantId: bad }), /tenant id must be a canonical/);
    assert.throws(() => fieldAad({ ...f, collection: bad }), /collection id must be a canonical/);
    assert.throws(() => fieldAad({ ...f, recordId: bad }), /record id must be a canonical/);
    assert.throws(() => dataKeyAad({ tenantId: bad, purpose: 'data', version: 1 }), /tenant id must be a canonical/);
  }
});

test('field and data-key AADs never coincide for look-alike inputs', () => {
  const a = fieldAad({ tenantId: T, collection: C, recordId: R, field: 'data', keyVersion: 1 });
  const b = dataKeyAad({ tenantId: T, purpose: 'data', version: 1 });
  assert.notDeepEqual(a, b);
});
