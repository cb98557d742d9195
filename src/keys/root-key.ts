import type { Config } from '../config.ts';
import type { StartupCode } from '../errors.ts';
import type { Db } from '../db/db.ts';
import { toBuffer } from '../db/db.ts';
import { type KeyProvider, newPassphraseSalt, openFileKeyProvider, openPassphraseKeyProvider } from '../crypto/key-provider.ts';

export class RootKeyError extends Error {
  constructor(readonly code: StartupCode, message: string) { super(message); }
}

interface RootKeyRow { provider: string; kekId: string; salt: Uint8Array | null }

/**
 * Opens the configured root key and checks it against the one recorded in the
 * database: the first start records it; later starts refuse a missing key file
 * (file provider), a different provider, or a key that is not the recorded one.
 */
export async function openRootKey(config: Config, db: Db): Promise<KeyProvider> {
  const read = async () => (await db.query<RootKeyRow>('select provider, kek_id as "kekId", salt from root_key'))[0];
  const row = await read();
  if (row && row.provider !== config.keyProvider) {
    throw new RootKeyError('config.key_provider_mismatch',
      `The database's keys are wrapped by the '${row.provider}' key provider, but TRESOR_KEY_PROVIDER is '${config.keyProvider}'`);
  }
  const salt = row?.salt ? toBuffer(row.salt) : newPassphraseSalt();
  const provider = config.keyProvider === 'file'
    ? openFileKeyProvider({ path: config.keyFile, allowCreate: !row })
    : openPassphraseKeyProvider({ passphrase: config.keyPassphrase!, salt });
  if (!row) {
    await db.query('insert into root_key (provider, kek_id, salt) values ($1, $2, $3) on conflict do nothing',
      [config.keyProvider, provider.keyId, config.keyProvider === 'passphrase' ? salt : null]);
  }
  const recorded = row ?? (await read());
  if (recorded.kekId !== provider.keyId) {
    throw new RootKeyError('config.root_key_mismatch',
      `The root key (id ${provider.keyId}) is not the one that wraps this database's keys (id ${recorded.kekId}); ` +
        'restore the right key file or passphrase');
  }
  return provider;
}
