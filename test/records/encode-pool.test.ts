// A job that throws in an encode worker fails only its own request; the
// worker survives and jobs of other imports (other tenants) on the same
// pool succeed, at the same time and afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createEncodePool } from '../../src/records/encode-pool.ts';
import type { FieldDef } from '../../src/collections/collection-definition.ts';

const fields = [{ name: 'name', type: 'string', classification: 'personal', required: true, searchable: false, unique: false }] as unknown as FieldDef[];
const job = (dataKey: Buffer) => ({
  fields, tenantId: randomUUID(), collectionId: randomUUID(), keyVersion: 1, dataKey, indexKey: randomBytes(32),
  limits: { jsonMaxBytes: 65536, recordMaxBytes: 65536 },
  lines: [{ line: 1, text: JSON.stringify({ data: { name: 'Ada' } }) }],
});

test('a throwing job rejects alone; concurrent and later jobs on the same (single) worker succeed', async () => {
  const pool = createEncodePool(1);
  try {
    // A 16-byte data key makes the worker's AES-256 seal throw.
    const [bad, good] = await Promise.allSettled([pool.encode(job(randomBytes(16))), pool.encode(job(randomBytes(32)))]);
    assert.equal(bad.status, 'rejected');
    assert.doesNotMatch(String((bad as PromiseRejectedResult).reason), /Ada/);
    assert.equal(good.status, 'fulfilled');
    assert.equal((good as PromiseFulfilledResult<unknown[]>).value.length, 1);
    const later = await pool.encode(job(randomBytes(32)));
    assert.equal(later.length, 1);
  } finally {
    await pool.close();
  }
});
