/**
 * Errors thrown by the crypto layer carry a stable machine-readable `code`
 * so callers (HTTP layer, CLI) can map them without parsing messages.
 * Messages must never include key bytes or plaintext: they end up in logs.
 */
export type CryptoErrorCode =
  | 'crypto.decrypt_failed'
  | 'crypto.unwrap_failed'
  | 'config.key_file_missing'
  | 'config.key_file_permissions'
  | 'config.key_file_invalid'
  | 'config.passphrase_too_short'
  | 'config.passphrase_salt_invalid';

export interface CodedError extends Error {
  code: CryptoErrorCode;
}

export function codedError(code: CryptoErrorCode, message: string, cause?: unknown): CodedError {
  const err = new Error(message, cause === undefined ? undefined : { cause }) as CodedError;
  err.code = code;
  return err;
}
