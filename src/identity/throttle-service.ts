import { createHash } from 'node:crypto';
import type { Queries, Tx } from '../db/db.ts';
import { RequestError } from '../errors.ts';
import { encodeParts } from '../crypto/encoding.ts';
import { throttleRepo, type ThrottleRow } from './throttle-repo.ts';

export interface ThrottleLimits { lockThreshold: number; lockMs: number; maxPerHour: number; maxPerIpHour: number }

const HOUR = 3600_000;

/**
 * Keys of the throttle table: a hash, never the e-mail or address itself. An
 * account key is made for unknown e-mails too, so an unknown account locks
 * exactly like a real one (no enumeration through the lock).
 */
export const accountKey = (tenantId: string | null, emailNorm: string) =>
  createHash('sha256').update(encodeParts('tresor.throttle.account.v1', [tenantId ?? '', emailNorm])).digest();
export const addressKey = (ip: string) => createHash('sha256').update(encodeParts('tresor.throttle.ip.v1', [ip])).digest();

/** Milliseconds until the key may try again, or 0. */
function waitFor(row: ThrottleRow | undefined, now: Date, maxPerHour: number): number {
  if (!row) return 0;
  const lock = row.lockedUntil ? row.lockedUntil.getTime() - now.getTime() : 0;
  const windowEnd = row.windowStart.getTime() + HOUR - now.getTime();
  const hourly = row.windowFailures >= maxPerHour && windowEnd > 0 ? windowEnd : 0;
  return Math.max(lock, hourly, 0);
}

function afterFailure(row: ThrottleRow | undefined, now: Date, limits: { lockThreshold: number; lockMs: number }): ThrottleRow {
  const fresh = !row || row.windowStart.getTime() + HOUR <= now.getTime();
  const consecutive = (row?.consecutive ?? 0) + 1;
  // The run starts again after a lock, so the next lock needs as many failures.
  const locks = consecutive >= limits.lockThreshold;
  return {
    consecutive: locks ? 0 : consecutive,
    lockedUntil: locks ? new Date(now.getTime() + limits.lockMs) : row?.lockedUntil ?? null,
    windowStart: fresh ? now : row.windowStart,
    windowFailures: fresh ? 1 : row.windowFailures + 1,
  };
}

const refuse = (ms: number) => new RequestError('auth.too_many_attempts', 'Too many failed attempts; try again later', { retryAfterSeconds: Math.ceil(ms / 1000) });

/**
 * Failed logins per account and per source address (ASVS V6.3, NIST SP
 * 800-63B §5.2.2): a run of `lockThreshold` failures locks the account for
 * `lockMs`, and an account or address never gets more than its hourly
 * number. Kept in the database, so every process and node counts together.
 */
export function throttleServiceFactory({ limits }: { limits: ThrottleLimits }) {
  return {
    /** Refuses (429 with Retry-After) while the account or the address is locked out. */
    async assertAllowed(tx: Queries, account: Buffer, ip: string | undefined, now: Date) {
      const wait = waitFor(await throttleRepo.get(tx, account), now, limits.maxPerHour);
      if (wait > 0) throw refuse(wait);
      if (!ip) return;
      const ipWait = waitFor(await throttleRepo.get(tx, addressKey(ip)), now, limits.maxPerIpHour);
      if (ipWait > 0) throw refuse(ipWait);
    },
    /** Counts a failure (in the caller's transaction); true when it locked the account just now. */
    async fail(tx: Tx, account: Buffer, ip: string | undefined, now: Date): Promise<boolean> {
      const before = await throttleRepo.get(tx, account, true);
      const after = afterFailure(before, now, limits);
      await throttleRepo.put(tx, account, after);
      if (ip) {
        const key = addressKey(ip);
        // An address is never locked by a run, only by its hourly number.
        await throttleRepo.put(tx, key, afterFailure(await throttleRepo.get(tx, key, true), now, { lockThreshold: Number.MAX_SAFE_INTEGER, lockMs: 0 }));
      }
      return after.lockedUntil !== null && after.lockedUntil.getTime() > now.getTime() && before?.lockedUntil?.getTime() !== after.lockedUntil.getTime();
    },
    succeed: (tx: Tx, account: Buffer) => throttleRepo.reset(tx, account),
  };
}

export type ThrottleService = ReturnType<typeof throttleServiceFactory>;
