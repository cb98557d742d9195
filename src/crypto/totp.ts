/**
 * Time-based one-time passwords: RFC 6238 over HOTP (RFC 4226) with
 * HMAC-SHA-1, 30-second steps and 6 digits, as every authenticator app
 * expects. `now` is always passed in, so RFC 6238 Appendix B's vectors run
 * through the same functions as a login.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOTP_STEP_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of now, for clock drift (RFC 6238 §5.2 recommends at most one). */
export const TOTP_WINDOW = 1;
/** 160 bits, the HMAC-SHA-1 block-friendly size RFC 4226 §4 recommends. */
export const TOTP_SECRET_BYTES = 20;

export const newTotpSecret = (): Buffer => randomBytes(TOTP_SECRET_BYTES);

/** The time step a moment falls in (RFC 6238 §4.2, T0 = 0). */
export const totpStep = (now: Date, stepSeconds = TOTP_STEP_SECONDS): number => Math.floor(now.getTime() / 1000 / stepSeconds);

/** HOTP value for one counter (RFC 4226 §5.3, dynamic truncation). */
export function hotp(key: Buffer, counter: number, digits = TOTP_DIGITS): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(msg).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

export function totp(key: Buffer, now: Date, digits = TOTP_DIGITS): string {
  return hotp(key, totpStep(now), digits);
}

/**
 * The step whose code matches, among now ± TOTP_WINDOW, or null. Steps at or
 * before `lastUsedStep` are never accepted: a code (or an older one) works
 * once per user, so a code seen over a shoulder or in a log cannot be replayed.
 * Every candidate is compared, in constant time.
 */
export function verifyTotp(key: Buffer, code: string, now: Date, lastUsedStep: number | null, digits = TOTP_DIGITS): number | null {
  if (!new RegExp(`^\\d{${digits}}$`).test(code)) return null;
  const current = totpStep(now);
  const given = Buffer.from(code);
  let matched: number | null = null;
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
    const equal = timingSafeEqual(Buffer.from(hotp(key, step, digits)), given);
    if (equal && matched === null && (lastUsedStep === null || step > lastUsedStep)) matched = step;
  }
  return matched;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding, as otpauth:// URIs carry the secret. */
export function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** The Key Uri Format authenticator apps read from a QR code. */
export function otpauthUri(p: { issuer: string; account: string; secret: Buffer }): string {
  const label = `${encodeURIComponent(p.issuer)}:${encodeURIComponent(p.account)}`;
  const query = new URLSearchParams({ secret: base32(p.secret), issuer: p.issuer, algorithm: 'SHA1', digits: String(TOTP_DIGITS), period: String(TOTP_STEP_SECONDS) });
  return `otpauth://totp/${label}?${query}`;
}
