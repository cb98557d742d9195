import { RequestError } from '../errors.ts';
import { isCanonicalId } from '../crypto/encoding.ts';

/** Opaque cursors: base64url of the last id seen, checked on the way back in. */
export const encodeCursor = (id: string): string => Buffer.from(id, 'utf8').toString('base64url');

export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isCanonicalId(id)) throw new RequestError('request.invalid_cursor');
  return id;
}
