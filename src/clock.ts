// The services' clock (ServiceDeps.now). Outside production a deployment may
// run ahead of real time (TRESOR_CLOCK_OFFSET) so an operator or a tester can
// see what retention and closure do 13 months from now without waiting; the
// CLI's `--as-of` pins it to one moment. Production refuses an offset at start.

export interface ClockOffset { months: number; days: number; ms: number }

// ISO 8601 durations with an optional sign (+P13M, P400D, -PT1H), and the
// shorthand +13mo, +400d, +12h, +30m, +10s.
const ISO = /^([+-])?P(?:(\d{1,4})Y)?(?:(\d{1,5})M)?(?:(\d{1,3})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,7})H)?(?:(\d{1,9})M)?(?:(\d{1,10})S)?)?$/;
const SHORT = /^([+-])?(\d{1,6})(y|mo|w|d|h|m|s)$/;
const UNIT_MS: Record<string, number> = { w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/** The offset, or null when `text` is neither form (bounded: at most 100 years either way). */
export function parseClockOffset(text: string): ClockOffset | null {
  const t = text.trim();
  const short = SHORT.exec(t);
  if (short) {
    const sign = short[1] === '-' ? -1 : 1;
    const n = Number(short[2]) * sign + 0;
    const offset = short[3] === 'y' ? { months: 12 * n, days: 0, ms: 0 } : short[3] === 'mo' ? { months: n, days: 0, ms: 0 }
      : { months: 0, days: 0, ms: n * UNIT_MS[short[3]] };
    return withinBounds(offset);
  }
  const iso = ISO.exec(t);
  if (!iso || t.endsWith('P') || t.endsWith('T')) return null;
  const [, s, y, mo, w, d, h, mi, sec] = iso;
  const sign = s === '-' ? -1 : 1;
  const num = (v: string | undefined) => Number(v ?? 0);
  // `+ 0` turns -0 into 0.
  return withinBounds({ months: sign * (12 * num(y) + num(mo)) + 0, days: sign * (7 * num(w) + num(d)) + 0,
    ms: sign * (num(h) * 3_600_000 + num(mi) * 60_000 + num(sec) * 1000) + 0 });
}

const MAX_MS = 100 * 366 * 86_400_000;
function withinBounds(o: ClockOffset): ClockOffset | null {
  const approx = Math.abs(o.months) * 31 * 86_400_000 + Math.abs(o.days) * 86_400_000 + Math.abs(o.ms);
  return approx <= MAX_MS ? o : null;
}

/** `at` moved by the offset: calendar months (UTC), then days, then milliseconds. */
export function shiftDate(at: Date, o: ClockOffset): Date {
  const d = new Date(at.getTime());
  if (o.months) d.setUTCMonth(d.getUTCMonth() + o.months);
  if (o.days) d.setUTCDate(d.getUTCDate() + o.days);
  return new Date(d.getTime() + o.ms);
}

/** `at` plus whole calendar months (UTC): closure's retention period. */
export const addMonths = (at: Date, months: number) => shiftDate(at, { months, days: 0, ms: 0 });

/** The real clock, or one running `offset` ahead of it. */
export function clockFor(offset: string | undefined): () => Date {
  const parsed = offset ? parseClockOffset(offset) : null;
  if (!parsed) return () => new Date();
  return () => shiftDate(new Date(), parsed);
}
