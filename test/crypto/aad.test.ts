import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldAad } from '../../src/crypto/envelope.js';
import { dataKeyAad } from '../../src/crypto/keyring.js';

const f = { tenantId: 't', collection: 'c', recordId: 'r', field: 'f', keyVersion: 1 };

test('fieldAad: boundary shifts that collide under concatenation give different bytes', () => {
  const pairs = [
    [{ ...f, collection: 'ab', field: 'c' }, { ...f, collection: 'a', field: 'bc' }],
    [{ ...f, tenantId: 'ab', collection: 'c' }, { ...f, tenantId: 'a', collection: 'bc' }],
    [{ ...f, recordId: 'r1', field: '' }, { ...f, recordId: 'r', field: '1' }],
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

test('dataKeyAad: boundary shifts give different bytes', () => {
  assert.notDeepEqual(
    dataKeyAad({ tenantId: 'tdata', purpose: 'index', version: 1 }),
    dataKeyAad({ tenantId: 'tdat', purpose: 'index', version: 1 }),
  );
  assert.notDeepEqual(
    dataKeyAad({ tenantId: 't', purpose: 'data', version: 1 }),
    dataKeyAad({ tenantId: 't', purpose: 'data', version: 256 }),
  );
  assert.ok(dataKeyAad({ tenantId: 't', purpose: 'data', version: 1 }).includes(Buffer.from('tresor.dek.v1')));
});

test('field and data-key AADs never coincide for look-alike inputs', () => {
  const a = fieldAad({ tenantId: 't', collection: 'data', recordId: '', field: '', keyVersion: 1 });
  const b = dataKeyAad({ tenantId: 't', purpose: 'data', version: 1 });
  assert.notDeepEqual(a, b);
});
