import type { Queries } from '../db/db.ts';

export interface ThrottleRow { consecutive: number; lockedUntil: Date | null; windowStart: Date; windowFailures: number }

const columns = 'consecutive, locked_until as "lockedUntil", window_start as "windowStart", window_failures as "windowFailures"';

export const throttleRepo = {
  get: async (tx: Queries, key: Buffer, lock = false) =>
    (await tx.query<ThrottleRow>(`select ${columns} from auth_throttle where key = $1${lock ? ' for update' : ''}`, [key]))[0],
  put: (tx: Queries, key: Buffer, r: ThrottleRow) =>
    tx.query(
      `insert into auth_throttle (key, consecutive, locked_until, window_start, window_failures) values ($1, $2, $3, $4, $5)
       on conflict (key) do update set consecutive = $2, locked_until = $3, window_start = $4, window_failures = $5`,
      [key, r.consecutive, r.lockedUntil, r.windowStart, r.windowFailures],
    ),
  /** A success ends the run of consecutive failures (the hourly count stays). */
  reset: (tx: Queries, key: Buffer) => tx.query('update auth_throttle set consecutive = 0 where key = $1 and consecutive > 0', [key]),
};
