import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { openTenantSecretStore } from '../../src/crypto/tenant-secrets.ts';

describe('tenant key secrets outside the database', () => {
  const root = mkdtempSync(join(tmpdir(), 'tresor-secrets-'));
  const dir = join(root, 'tenants');
  const store = openTenantSecretStore(dir);
  after(() => rmSync(root, { recursive: true, force: true }));

  it('creates one 32-byte secret, readable by the owner only, and hands back the same one after', () => {
    const tenant = randomUUID();
    const secret = store.ensure(tenant)!;
    assert.equal(secret.length, 32);
    assert.deepEqual(store.ensure(tenant), secret);
    assert.throws(() => store.ensure(tenant.toUpperCase()), /canonical/, 'an id written another way never names a second file');
    assert.equal(statSync(join(dir, `${tenant}.key`)).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file is left behind');
  });

  it('a destroyed secret stays destroyed: the file is gone and none is made again', () => {
    const tenant = randomUUID();
    store.ensure(tenant);
    store.destroy(tenant, new Date('2027-01-01T00:00:00Z'));
    assert.equal(readdirSync(dir).includes(`${tenant}.key`), false);
    assert.deepEqual(store.read(tenant), { state: 'destroyed', at: '2027-01-01T00:00:00.000Z' });
    assert.equal(store.ensure(tenant), null);
  });

  it('a key file of the wrong length is refused, never padded', () => {
    const tenant = randomUUID();
    writeFileSync(join(dir, `${tenant}.key`), Buffer.alloc(0), { mode: 0o600 });
    assert.throws(() => store.read(tenant), /exactly 32 bytes/);
  });
});
