import { decryptValue, fieldAadPrefix, fieldAadWith } from '../crypto/envelope.ts';

/**
 * Reads the first storage format: each encrypted field sealed on its own in
 * `enc` ({field: base64(nonce ‖ ciphertext ‖ tag)}, AAD tenant ‖ collection ‖
 * record ‖ field ‖ key version). Rows in it are read as they are and sealed
 * per record by the re-encryption job (migration 0003 asks it to).
 */
export function decodeFields(key: Buffer, at: { tenantId: string; collectionId: string; recordId: string }, keyVersion: number,
  enc: Record<string, string>): Record<string, unknown> {
  const prefix = fieldAadPrefix({ tenantId: at.tenantId, collection: at.collectionId, recordId: at.recordId });
  const out: Record<string, unknown> = {};
  for (const [field, blob] of Object.entries(enc)) {
    out[field] = JSON.parse(decryptValue(key, Buffer.from(blob, 'base64'), fieldAadWith(prefix, field, keyVersion)).toString('utf8'));
  }
  return out;
}
