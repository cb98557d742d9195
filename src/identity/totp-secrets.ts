import type { TenantTx } from '../db/db.ts';
import type { KeyProvider } from '../crypto/key-provider.ts';
import type { KeysService } from '../keys/keys-service.ts';
import { decryptValue, encryptValue } from '../crypto/envelope.ts';
import { canonicalId, encodeParts, uint32be } from '../crypto/encoding.ts';

// AAD of a TOTP secret: its own label, the tenant, the user and the key
// version, so a secret copied to another user or tenant fails to decrypt.
const totpAad = (tenantId: string, userId: string, version: number) =>
  Buffer.concat([encodeParts('tresor.totp.v1', [canonicalId(tenantId, 'tenant id'), canonicalId(userId, 'user id')]), uint32be(version, 'key version')]);

// Platform users (operator, support) have no tenant keys: their 160-bit
// secret is wrapped by the root key like a data key, under a label of its
// own (purpose separation: no tenant key's AAD can ever match it).
const platformAad = (userId: string) => encodeParts('tresor.totp.platform.v1', [canonicalId(userId, 'user id')]);

export interface SealedTotp { secret: Buffer; keyVersion: number | null }

/** TOTP secrets encrypted under the tenant's active data key (AES-256-GCM), or wrapped by the root key for platform users. */
export function totpSecretsFactory({ keys, keyProvider }: { keys: Pick<KeysService, 'ringFor'>; keyProvider: KeyProvider }) {
  return {
    async seal(tx: TenantTx | null, userId: string, secret: Buffer): Promise<SealedTotp> {
      if (!tx) return { secret: keyProvider.wrap(secret, platformAad(userId)), keyVersion: null };
      const ring = await keys.ringFor(tx, tx.tenantId);
      const key = ring.data.get(ring.activeVersion)!;
      return { secret: encryptValue(key, secret, totpAad(tx.tenantId, userId, ring.activeVersion)), keyVersion: ring.activeVersion };
    },
    async open(tx: TenantTx | null, userId: string, sealed: SealedTotp): Promise<Buffer> {
      if (!tx || sealed.keyVersion === null) return keyProvider.unwrap(sealed.secret, platformAad(userId));
      const ring = await keys.ringFor(tx, tx.tenantId, [sealed.keyVersion]);
      const key = ring.data.get(sealed.keyVersion);
      if (!key) throw new Error('the key version of a TOTP secret is gone');
      return decryptValue(key, sealed.secret, totpAad(tx.tenantId, userId, sealed.keyVersion));
    },
  };
}

export type TotpSecrets = ReturnType<typeof totpSecretsFactory>;
