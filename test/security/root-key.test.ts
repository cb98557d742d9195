// The root key wraps every tenant key. A start with a missing, exposed or
// wrong root key must stop with a clear error instead of minting a fresh key
// (which would make all existing data unreadable) or running with a
// world-readable one.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { backends, openRootKey, openTestStore, testConfig, type TestStore } from '../helpers/backends.ts';
import { createServices } from '../../src/services.ts';

const mode = (path: string) => statSync(path).mode & 0o777;
const passphraseEnv = (passphrase: string) => ({ TRESOR_KEY_PROVIDER: 'passphrase', TRESOR_KEY_PASSPHRASE: passphrase });

for (const backend of backends) {
  describe(`root key: file provider [${backend}]`, () => {
    let store: TestStore;
    let keyFile: string;
    let keyId: string;
    let tenantId: string;

    /** The tenant's keys unwrap under the root key just opened: the data is still reachable. */
    async function assertTenantReadable() {
      const keyProvider = await openRootKey(store.config, store.db);
      const services = createServices(store.config, { db: store.db, keyProvider });
      const ring = await store.db.withTenant(tenantId, (tx) => services.keys.ringFor(tx, tenantId));
      assert.equal(ring.activeVersion, 1);
    }

    before(async () => {
      store = await openTestStore(backend);
      keyFile = store.config.keyFile;
    });
    after(async () => store.close());

    it('creates the key file on first open, 32 bytes with mode 0600 in a 0700 directory', async () => {
      assert.equal(existsSync(keyFile), false);
      const provider = await openRootKey(store.config, store.db);
      keyId = provider.keyId;
      assert.equal(mode(keyFile), 0o600);
      assert.equal(mode(dirname(keyFile)) & 0o077, 0, 'the key directory must not be open to group/other');
      assert.equal(readFileSync(keyFile).length, 32);
      const [row] = await store.db.query<{ provider: string; kek_id: string }>('select provider, kek_id from root_key');
      assert.deepEqual({ ...row }, { provider: 'file', kek_id: keyId });
      const services = createServices(store.config, { db: store.db, keyProvider: provider });
      const { key: operatorKey } = await services.apiKeys.createOperatorKey('root key test');
      tenantId = (await services.tenants.create(await services.apiKeys.authenticate(operatorKey), { name: 'Root Key Test' })).id;
    });

    it('reopens with the same key file', async () => {
      assert.equal((await openRootKey(store.config, store.db)).keyId, keyId);
      await assertTenantReadable();
    });

    it('refuses to start when the key file is missing, and does not create a new one', async () => {
      renameSync(keyFile, `${keyFile}.bak`);
      try {
        await assert.rejects(openRootKey(store.config, store.db), { code: 'config.key_file_missing' });
        assert.equal(existsSync(keyFile), false, 'a fresh key must not be minted over existing data');
      } finally { renameSync(`${keyFile}.bak`, keyFile); }
      await assertTenantReadable();
    });

    it('refuses a key file readable by group or other', async () => {
      for (const loose of [0o644, 0o640, 0o604]) {
        chmodSync(keyFile, loose);
        try {
          await assert.rejects(openRootKey(store.config, store.db), (err: Error & { code?: string }) => {
            assert.equal(err.code, 'config.key_file_permissions');
            assert.match(err.message, /chmod 600/);
            return true;
          });
        } finally { chmodSync(keyFile, 0o600); }
      }
    });

    it('refuses another root key (config.root_key_mismatch), naming no key material', async () => {
      const original = readFileSync(keyFile);
      const other = randomBytes(32);
      unlinkSync(keyFile);
      writeFileSync(keyFile, other, { mode: 0o600 });
      try {
        await assert.rejects(openRootKey(store.config, store.db), (err: Error & { code?: string }) => {
          assert.equal(err.code, 'config.root_key_mismatch');
          for (const secret of [original, other]) {
            assert.ok(!err.message.includes(secret.toString('hex')) && !err.message.includes(secret.toString('base64')));
          }
          return true;
        });
      } finally {
        unlinkSync(keyFile);
        writeFileSync(keyFile, original, { mode: 0o600 });
      }
      await assertTenantReadable();
    });

    it('refuses a key file of the wrong size', async () => {
      const original = readFileSync(keyFile);
      writeFileSync(keyFile, original.subarray(0, 16));
      try {
        await assert.rejects(openRootKey(store.config, store.db), { code: 'config.key_file_invalid' });
      } finally { writeFileSync(keyFile, original); }
    });

    it('refuses switching to the passphrase provider (config.key_provider_mismatch)', async () => {
      const config = testConfig(store.dir, { ...(store.databaseUrl ? { DATABASE_URL: store.databaseUrl } : {}), ...passphraseEnv('a long enough passphrase') });
      await assert.rejects(openRootKey(config, store.db), { code: 'config.key_provider_mismatch' });
      await assertTenantReadable();
    });
  });

  describe(`root key: passphrase provider [${backend}]`, () => {
    const passphrase = 'correct horse battery staple 42';
    let store: TestStore;

    before(async () => { store = await openTestStore(backend, { env: passphraseEnv(passphrase) }); });
    after(async () => store.close());

    it('records a salt (not the key) on first open and reopens with the same passphrase', async () => {
      const first = await openRootKey(store.config, store.db);
      const [row] = await store.db.query<{ provider: string; kek_id: string; salt: Uint8Array | null }>('select provider, kek_id, salt from root_key');
      assert.equal(row!.provider, 'passphrase');
      assert.equal(row!.kek_id, first.keyId);
      assert.ok(row!.salt && row!.salt.length >= 16, 'the scrypt salt is stored with the data');
      assert.equal(existsSync(store.config.keyFile), false, 'the passphrase provider writes no key file');
      const again = await openRootKey(store.config, store.db);
      assert.equal(again.keyId, first.keyId);
      const wrapped = first.wrap(randomBytes(32), Buffer.from('aad'));
      assert.equal(again.unwrap(wrapped, Buffer.from('aad')).length, 32, 'the same passphrase derives the same key');
    });

    it('refuses another passphrase (config.root_key_mismatch)', async () => {
      const config = testConfig(store.dir, { ...(store.databaseUrl ? { DATABASE_URL: store.databaseUrl } : {}), ...passphraseEnv(`${passphrase}!`) });
      await assert.rejects(openRootKey(config, store.db), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'config.root_key_mismatch');
        assert.ok(!err.message.includes(passphrase), 'the error must not echo the passphrase');
        return true;
      });
    });

    it('refuses switching to the file provider (config.key_provider_mismatch) without creating a key file', async () => {
      const config = testConfig(store.dir, store.databaseUrl ? { DATABASE_URL: store.databaseUrl } : {});
      await assert.rejects(openRootKey(config, store.db), { code: 'config.key_provider_mismatch' });
      assert.equal(existsSync(join(store.dir, 'keys', 'root.key')), false);
    });
  });
}
