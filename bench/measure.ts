// One way to count for both sides of a comparison: successful operations per
// second of wall time, and latency percentiles over every successful call
// (sub-millisecond precision; autocannon's own histogram rounds to whole ms).

export interface Figures {
  ops: number; errors: number; seconds: number; rps: number; p50: number; p99: number;
  /** Server CPU (all its processes) per successful request, µs; HTTP side only. */
  cpuUs?: number;
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function summarise(latenciesMs: number[], errors: number, seconds: number): Figures {
  const sorted = Float64Array.from(latenciesMs).sort();
  return { ops: sorted.length, errors, seconds, rps: sorted.length / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/**
 * `concurrency` async loops calling op(i) back to back for `seconds`; i counts
 * calls across all loops. A failing call is counted, not timed.
 */
export async function closedLoop(concurrency: number, seconds: number, op: (i: number) => Promise<unknown>): Promise<Figures> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  let firstError: unknown;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await op(next++);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  }));
  if (firstError) process.stderr.write(`  (${errors} failed; first: ${(firstError as Error).message})\n`);
  return summarise(latencies, errors, (performance.now() - start) / 1000);
}

export const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
