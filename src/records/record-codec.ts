import { blindIndexFor } from '../crypto/blind-index.ts';
import { decryptValue, encryptValue, fieldAadPrefix, fieldAadWith } from '../crypto/envelope.ts';
import type { FieldDef } from '../collections/collection-definition.ts';
import { indexValueFor } from '../collections/field-types.ts';
import type { KeyRing } from '../keys/keys-service.ts';

export interface IndexEntry { field: string; hash: string; u: boolean }
export interface EncodedRecord { enc: Record<string, string>; plain: Record<string, unknown>; index: IndexEntry[] }
interface Where { tenantId: string; collectionId: string; recordId: string }

const isEncrypted = (def: FieldDef) => def.classification !== 'none';

/** Blind index of one normalised value: HMAC under the tenant's index key, hex for transport to SQL. */
export function indexHash(ring: KeyRing, collectionId: string, def: FieldDef, normalised: unknown): string {
  return blindIndexFor(ring.index, { collection: collectionId, field: def.name, value: indexValueFor(def, normalised) }).toString('hex');
}

const aadPrefix = (at: Where) => fieldAadPrefix({ tenantId: at.tenantId, collection: at.collectionId, recordId: at.recordId });

function encryptBytes(key: Buffer, prefix: Buffer, field: string, keyVersion: number, bytes: Buffer): string {
  return encryptValue(key, bytes, fieldAadWith(prefix, field, keyVersion)).toString('base64');
}

function decryptBytes(key: Buffer, prefix: Buffer, field: string, keyVersion: number, blob: string): Buffer {
  return decryptValue(key, Buffer.from(blob, 'base64'), fieldAadWith(prefix, field, keyVersion));
}

// Personal and special fields are encrypted one by one with AES-256-GCM under
// the tenant's active data key; the AAD binds tenant, collection, record, field
// and key version, so a ciphertext copied elsewhere does not decrypt.
export function encodeRecord(ring: KeyRing, fields: FieldDef[], at: Where, values: Record<string, unknown>): EncodedRecord {
  const key = ring.data.get(ring.activeVersion)!;
  const prefix = aadPrefix(at);
  const out: EncodedRecord = { enc: {}, plain: {}, index: [] };
  for (const def of fields) {
    // Own properties only: a field named e.g. `constructor` must not read Object.prototype's.
    const value = Object.hasOwn(values, def.name) ? values[def.name] : undefined;
    if (value === undefined || value === null) continue;
    if (isEncrypted(def)) out.enc[def.name] = encryptBytes(key, prefix, def.name, ring.activeVersion, Buffer.from(JSON.stringify(value), 'utf8'));
    else out.plain[def.name] = value;
    if (def.searchable) out.index.push({ field: def.name, hash: indexHash(ring, at.collectionId, def, value), u: def.unique });
  }
  return out;
}

export interface StoredRecord { keyVersion: number; enc: Record<string, string>; plain: Record<string, unknown> }

export function decodeRecord(ring: KeyRing, at: Where, { keyVersion, enc, plain }: StoredRecord) {
  const key = ring.data.get(keyVersion);
  if (!key) throw new Error(`record key version ${keyVersion} is not in the tenant's key ring`);
  const prefix = aadPrefix(at);
  const data: Record<string, unknown> = { ...plain };
  for (const [field, blob] of Object.entries(enc)) data[field] = JSON.parse(decryptBytes(key, prefix, field, keyVersion, blob).toString('utf8'));
  return data;
}

/** Re-encrypts every field of a record under the active key version (rotation). */
export function reencrypt(ring: KeyRing, at: Where, { keyVersion, enc }: Pick<StoredRecord, 'keyVersion' | 'enc'>): Record<string, string> {
  const oldKey = ring.data.get(keyVersion);
  if (!oldKey) throw new Error(`record key version ${keyVersion} is not in the tenant's key ring`);
  const newKey = ring.data.get(ring.activeVersion)!;
  const prefix = aadPrefix(at);
  const out: Record<string, string> = {};
  for (const [field, blob] of Object.entries(enc)) {
    out[field] = encryptBytes(newKey, prefix, field, ring.activeVersion, decryptBytes(oldKey, prefix, field, keyVersion, blob));
  }
  return out;
}
