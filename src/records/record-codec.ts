import { blindIndexFor } from '../crypto/blind-index.ts';
import { decryptValue, encryptValue, openRecord, recordAad, sealRecord } from '../crypto/envelope.ts';
import { toBuffer } from '../db/db.ts';
import type { FieldDef } from '../collections/collection-definition.ts';
import { indexValueFor } from '../collections/field-types.ts';
import type { KeyRing } from '../keys/keys-service.ts';
import { decodeFields } from './legacy-fields.ts';

export interface IndexEntry { field: string; hash: string; u: boolean }
/** sealed: base64 of nonce ‖ AES-256-GCM(padded JSON of the encrypted fields) ‖ tag. */
export interface EncodedRecord { sealed: string; plain: Record<string, unknown>; index: IndexEntry[] }
/** A row as stored: `sealed` (one seal per record), or the older per-field `enc` when sealed is null. */
export interface StoredRecord { keyVersion: number; enc: Record<string, string>; plain: Record<string, unknown>; sealed: Uint8Array | null }
interface Where { tenantId: string; collectionId: string; recordId: string }

const isEncrypted = (def: FieldDef) => def.classification !== 'none';
const aadOf = (at: Where, keyVersion: number) => ({ tenantId: at.tenantId, collection: at.collectionId, recordId: at.recordId, keyVersion });

/** Blind index of one normalised value: HMAC under the tenant's index key, hex for transport to SQL. */
export function indexHash(ring: KeyRing, collectionId: string, def: FieldDef, normalised: unknown): string {
  return blindIndexFor(ring.index, { collection: collectionId, field: def.name, value: indexValueFor(def, normalised) }).toString('hex');
}

function keyOf(ring: KeyRing, keyVersion: number): Buffer {
  const key = ring.data.get(keyVersion);
  if (!key) throw new Error(`record key version ${keyVersion} is not in the tenant's key ring`);
  return key;
}

// All personal and special fields of a record are sealed together, once, with
// AES-256-GCM under the tenant's active data key (one seal instead of one per
// field is most of the cost of a read); the AAD binds tenant, collection,
// record and key version, and padding hides the exact length.
export function encodeRecord(ring: KeyRing, fields: FieldDef[], at: Where, values: Record<string, unknown>): EncodedRecord {
  const secret: Record<string, unknown> = {};
  const out: EncodedRecord = { sealed: '', plain: {}, index: [] };
  for (const def of fields) {
    // Own properties only: a field named e.g. `constructor` must not read Object.prototype's.
    const value = Object.hasOwn(values, def.name) ? values[def.name] : undefined;
    if (value === undefined || value === null) continue;
    if (isEncrypted(def)) secret[def.name] = value;
    else out.plain[def.name] = value;
    if (def.searchable) out.index.push({ field: def.name, hash: indexHash(ring, at.collectionId, def, value), u: def.unique });
  }
  const key = keyOf(ring, ring.activeVersion);
  out.sealed = sealRecord(key, Buffer.from(JSON.stringify(secret), 'utf8'), aadOf(at, ring.activeVersion)).toString('base64');
  return out;
}

export function decodeRecord(ring: KeyRing, at: Where, row: StoredRecord): Record<string, unknown> {
  const key = keyOf(ring, row.keyVersion);
  const secret = row.sealed
    ? JSON.parse(openRecord(key, toBuffer(row.sealed), aadOf(at, row.keyVersion)).toString('utf8')) as Record<string, unknown>
    : decodeFields(key, at, row.keyVersion, row.enc);
  return { ...row.plain, ...secret };
}

/**
 * Re-seals a record under the active key version (rotation), converting a
 * per-field row on the way. A sealed row's padded plaintext is re-sealed as it
 * is: it is never parsed, and its bucket does not change.
 */
export function reencrypt(ring: KeyRing, at: Where, row: Pick<StoredRecord, 'keyVersion' | 'enc' | 'sealed'>): string {
  const oldKey = keyOf(ring, row.keyVersion);
  const newKey = keyOf(ring, ring.activeVersion);
  if (!row.sealed) {
    const secret = decodeFields(oldKey, at, row.keyVersion, row.enc);
    return sealRecord(newKey, Buffer.from(JSON.stringify(secret), 'utf8'), aadOf(at, ring.activeVersion)).toString('base64');
  }
  const padded = decryptValue(oldKey, toBuffer(row.sealed), recordAad(aadOf(at, row.keyVersion)));
  return encryptValue(newKey, padded, recordAad(aadOf(at, ring.activeVersion))).toString('base64');
}
