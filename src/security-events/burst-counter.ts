// Counts events per key in a sliding window and reports the moment a key
// reaches the threshold; its count then starts again. Used by the webhook
// alert on repeated refusals, per process (the incident rules count their
// bursts in the database instead, across nodes). Memory is bounded under a
// flood of keys.

const MAX_TRACKED = 10_000;

export interface BurstCounter {
  /** Counts one event for `key`; returns the count when it reaches the threshold (then starts again), else null. */
  hit(key: string): number | null;
}

export function burstCounter({ threshold, windowMs, now }: { threshold: number; windowMs: number; now: () => Date }): BurstCounter {
  const seen = new Map<string, number[]>();
  return {
    hit(key) {
      const t = now().getTime();
      const times = (seen.get(key) ?? []).filter((at) => at > t - windowMs);
      times.push(t);
      if (times.length >= threshold) {
        seen.delete(key);
        return times.length;
      }
      if (seen.size >= MAX_TRACKED && !seen.has(key)) seen.clear();
      seen.set(key, times);
      return null;
    },
  };
}
