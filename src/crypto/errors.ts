import type { StartupCode } from '../errors.ts';

/**
 * Errors thrown by the crypto layer carry a stable machine-readable `code`
 * so callers (HTTP layer, CLI) can map them without parsing messages.
 * Messages must never include key bytes or plaintext: they end up in logs.
 */
export type CryptoErrorCode = Extract<StartupCode, `crypto.${string}` | `config.key_file_${string}` | `config.passphrase_${string}`>;

export interface CodedError extends Error {
  code: CryptoErrorCode;
}

export function codedError(code: CryptoErrorCode, message: string, cause?: unknown): CodedError {
  const err = new Error(message, cause === undefined ? undefined : { cause }) as CodedError;
  err.code = code;
  return err;
}
