import { hkdfSync } from 'node:crypto';
import { canonicalId, encodeParts } from '../crypto/encoding.ts';
import { KEY_BYTES, decryptValue, encryptValue } from '../crypto/envelope.ts';
import type { KeyRing } from '../keys/keys-service.ts';

// A legal hold's lookup values, sealed while the hold is active so that a
// collection created later gets the hold's terms too (its blind index binds the
// collection, so the hashes cannot be derived from another collection's). The
// key is derived from the tenant's blind-index key under its own label (HKDF),
// never the index key itself; the AAD binds tenant and hold. The values go
// with the tenant's keys (crypto-shredding) and are dropped at release.

const LABEL = 'tresor.hold.subject.v1';

const holdKey = (ring: KeyRing) => Buffer.from(hkdfSync('sha256', ring.index, Buffer.alloc(0), Buffer.from(LABEL), KEY_BYTES));
const aad = (tenantId: string, holdId: string) => encodeParts(LABEL, [canonicalId(tenantId, 'tenant id'), canonicalId(holdId, 'hold id')]);

export function sealHoldSubject(ring: KeyRing, at: { tenantId: string; holdId: string }, where: Record<string, unknown>): Buffer {
  return encryptValue(holdKey(ring), Buffer.from(JSON.stringify(where), 'utf8'), aad(at.tenantId, at.holdId));
}

export function openHoldSubject(ring: KeyRing, at: { tenantId: string; holdId: string }, sealed: Buffer): Record<string, unknown> {
  return JSON.parse(decryptValue(holdKey(ring), sealed, aad(at.tenantId, at.holdId)).toString('utf8')) as Record<string, unknown>;
}
