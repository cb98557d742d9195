// The injectable clock: TRESOR_CLOCK_OFFSET runs retention, closure and
// time-bound access ahead of real time outside production only.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { addMonths, clockFor, parseClockOffset, shiftDate } from '../../src/clock.ts';

describe('clock offset', () => {
  it('reads ISO 8601 durations and the short forms', () => {
    assert.deepEqual(parseClockOffset('P13M'), { months: 13, days: 0, ms: 0 });
    assert.deepEqual(parseClockOffset('+P1Y2M3DT4H'), { months: 14, days: 3, ms: 4 * 3_600_000 });
    assert.deepEqual(parseClockOffset('-PT30M'), { months: 0, days: 0, ms: -30 * 60_000 });
    assert.deepEqual(parseClockOffset('+13mo'), { months: 13, days: 0, ms: 0 });
    assert.deepEqual(parseClockOffset('400d'), { months: 0, days: 0, ms: 400 * 86_400_000 });
    for (const bad of ['', 'P', 'PT', '13', '+13x', 'P1000000D', '+200y', 'soon']) assert.equal(parseClockOffset(bad), null, bad);
  });

  it('adds calendar months in UTC (13 months after 31 January is the end of February)', () => {
    assert.equal(addMonths(new Date('2026-01-15T10:00:00Z'), 13).toISOString(), '2027-02-15T10:00:00.000Z');
    assert.equal(shiftDate(new Date('2026-01-01T00:00:00Z'), { months: 0, days: 1, ms: 1000 }).toISOString(), '2026-01-02T00:00:01.000Z');
  });

  it('a clock with an offset runs ahead of real time by it', () => {
    const ahead = clockFor('P10D')().getTime() - Date.now();
    assert.ok(Math.abs(ahead - 10 * 86_400_000) < 60_000, String(ahead));
    assert.ok(Math.abs(clockFor(undefined)().getTime() - Date.now()) < 60_000);
  });

  it('is refused at start in production (the default environment), accepted in staging and test, and must parse', () => {
    assert.throws(() => loadConfig({ TRESOR_CLOCK_OFFSET: '+13mo' }),
      (err: ConfigError) => err.code === 'config.invalid' && err.problems.some((p) => /TRESOR_CLOCK_OFFSET: is refused in production/.test(p)));
    assert.equal(loadConfig({ TRESOR_CLOCK_OFFSET: '+13mo', TRESOR_ENVIRONMENT: 'staging' }).clockOffset, '+13mo');
    assert.equal(loadConfig({ TRESOR_CLOCK_OFFSET: 'P400D', TRESOR_ENVIRONMENT: 'test' }).clockOffset, 'P400D');
    assert.throws(() => loadConfig({ TRESOR_CLOCK_OFFSET: 'next year', TRESOR_ENVIRONMENT: 'test' }),
      (err: ConfigError) => err.problems.some((p) => /TRESOR_CLOCK_OFFSET: must be an ISO 8601 duration/.test(p)));
  });
});
