/**
 * Unambiguous byte encodings for values that feed AAD and HMAC inputs.
 *
 * Naive concatenation is ambiguous: ("ab","c") and ("a","bc") both give
 * "abc", which would let a ciphertext or blind index bound to one tuple
 * verify under another (a canonicalisation attack). Every part is therefore
 * prefixed with its byte length as uint32 big-endian, and the domain label
 * is encoded the same way so labels can never run into the first part.
 */

const MAX_UINT32 = 0xffffffff;

/** uint32 big-endian; rejects anything that would silently wrap or truncate. */
export function uint32be(n: number, what: string): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > MAX_UINT32) {
    throw new Error(`${what} must be an integer between 0 and ${MAX_UINT32}`);
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n, 0);
  return out;
}

/** A string as uint32 BE byte length followed by its UTF-8 bytes. */
export function lengthPrefixed(value: string): Buffer {
  if (typeof value !== 'string') throw new Error('encoded part must be a string');
  const bytes = Buffer.from(value, 'utf8');
  return Buffer.concat([uint32be(bytes.length, 'part length'), bytes]);
}

/** Domain label followed by each string part, all length-prefixed. */
export function encodeParts(label: string, parts: readonly string[]): Buffer {
  return Buffer.concat([lengthPrefixed(label), ...parts.map(lengthPrefixed)]);
}

const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A lower-case UUID with hyphens: the one spelling ids are stored, keyed and bound under. */
export const isCanonicalId = (id: unknown): id is string => typeof id === 'string' && CANONICAL_UUID.test(id);

/**
 * Ids feed AAD, HMAC inputs and cache keys as text, so one id spelt two ways
 * (upper case, urn:uuid:) would bind data to bytes no later read rebuilds.
 * The HTTP edge canonicalises ids; reaching this with any other spelling is a
 * programming error, refused loudly rather than sealed under different bytes.
 */
export function canonicalId(id: string, what: string): string {
  if (!isCanonicalId(id)) throw new Error(`${what} must be a canonical lower-case UUID`);
  return id;
}
