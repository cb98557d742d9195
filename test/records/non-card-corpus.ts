// Realistic values that are NOT payment card numbers, for the card guard's
// false-positive rate (test/records/card-guard.test.ts, bench/card-guard.ts).
// Deterministic (seeded), so a rate is reproducible run to run.

import { getCountries, getCountryCallingCode } from 'libphonenumber-js';

export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const digits = (n: number) => Array.from({ length: n }, () => String(int(0, 9))).join('');
  const pick = <T>(list: readonly T[]) => list[int(0, list.length - 1)];
  return { next, int, digits, pick };
}
type Rng = ReturnType<typeof prng>;

export function luhnCheckDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = body.charCodeAt(i) - 48;
    if (double) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

const group = (s: string, size: number, sep: string) => s.match(new RegExp(`.{1,${size}}`, 'g'))!.join(sep);

const COUNTRIES = getCountries();
function phone(r: Rng): string {
  const cc = getCountryCallingCode(r.pick(COUNTRIES));
  const nsn = `${r.int(1, 9)}${r.digits(r.int(6, 11))}`;
  switch (r.int(0, 5)) {
    case 0: return `+${cc}${nsn}`;                                   // E.164
    case 1: return `+${cc} ${group(nsn, 3, ' ')}`;                   // grouped
    case 2: return `00${cc} ${group(nsn, 4, ' ')}`;                  // international prefix
    case 3: return `+${cc}-${group(nsn, 3, '-')}`;
    case 4: return `(${nsn.slice(0, 3)}) ${nsn.slice(3, 6)}-${nsn.slice(6)}`; // national, US style
    default: return `0${nsn}`;                                       // national with trunk 0
  }
}

// Country, BBAN shape (n: digits, a: upper-case letters, c: alphanumerics).
const IBAN_SHAPES: Array<[string, string]> = [
  ['DE', '18n'], ['FR', '10n11c2n'], ['GB', '4a14n'], ['NL', '4a10n'], ['ES', '20n'], ['IT', '1a10n12c'], ['AT', '16n'],
  ['BE', '12n'], ['CH', '5n12c'], ['PL', '24n'], ['SE', '20n'], ['DK', '14n'], ['FI', '14n'], ['PT', '21n'], ['IE', '4a14n'],
];
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
function iban(r: Rng): string {
  const [country, shape] = r.pick(IBAN_SHAPES);
  let bban = '';
  for (const [, n, kind] of shape.matchAll(/(\d+)([nac])/g)) {
    for (let i = 0; i < Number(n); i++) {
      bban += kind === 'n' ? String(r.int(0, 9)) : kind === 'a' ? r.pick([...LETTERS]) : r.pick([...LETTERS, ...'0123456789']);
    }
  }
  const numeric = `${bban}${country}00`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  const check = String(98 - Number(BigInt(numeric) % 97n)).padStart(2, '0');
  const value = `${country}${check}${bban}`;
  return r.int(0, 1) ? value : group(value, 4, ' ');
}

function orderId(r: Rng): string {
  switch (r.int(0, 4)) {
    case 0: return `${r.digits(3)}-${r.digits(7)}-${r.digits(7)}`;    // Amazon
    case 1: return `ORD-${r.int(2015, 2026)}-${r.digits(6)}`;
    case 2: return `#${r.int(1001, 999_999)}`;                        // Shopify
    // Snowflake ids (time since 2015 << 22): 18–19 digits.
    case 3: return String((BigInt(Date.UTC(2015, 0) + r.int(0, 11 * 365 * 86_400) * 1000 - 1420070400000) << 22n) + BigInt(r.int(0, 4_194_303)));
    default: return `INV-${r.int(2015, 2026)}${r.digits(2)}-${r.digits(5)}`;
  }
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
function date(r: Rng): string {
  const [y, m, d] = [r.int(1900, 2030), r.int(1, 12), r.int(1, 28)];
  return r.pick([`${y}-${pad(m)}-${pad(d)}`, `${pad(d)}.${pad(m)}.${y}`, `${pad(m)}/${pad(d)}/${y}`, `${y}${pad(m)}${pad(d)}`]);
}

function timestamp(r: Rng): string {
  const ms = r.int(946_684_800, 1_900_000_000) * 1000 + r.int(0, 999);
  const iso = new Date(ms).toISOString();
  switch (r.int(0, 5)) {
    case 0: return iso;
    case 1: return iso.replace('T', ' ').slice(0, 19);
    case 2: return String(Math.floor(ms / 1000));                       // epoch seconds
    case 3: return String(ms);                                          // epoch ms, 13 digits
    case 4: return `${ms}${r.digits(3)}`;                               // epoch µs, 16 digits
    default: return iso.replace(/[-:T]/g, '').slice(0, 14);           // 20240315123456
  }
}

// Reporting-body identifiers that start real TACs.
const IMEI_RBI = ['01', '10', '30', '33', '35', '44', '45', '49', '50', '51', '52', '53', '54', '86', '91', '98', '99'];
export function imei(r: Rng): string {
  const body = `${r.pick(IMEI_RBI)}${r.digits(12)}`;
  const value = `${body}${luhnCheckDigit(body)}`;
  switch (r.int(0, 2)) {
    case 0: return value;
    case 1: return `${value.slice(0, 2)}-${value.slice(2, 8)}-${value.slice(8, 14)}-${value.slice(14)}`;
    default: return `IMEI: ${value}`;
  }
}

function tracking(r: Rng): string {
  switch (r.int(0, 5)) {
    case 0: return `1Z${r.digits(3)}${r.pick([...LETTERS])}${r.pick([...LETTERS])}${r.digits(10)}`; // UPS
    case 1: return group(`94${r.digits(20)}`, 4, ' ');              // USPS, printed in groups
    case 2: return r.digits(12);                                     // FedEx
    case 3: return r.digits(10);                                     // DHL Express
    case 4: return `${r.pick([...LETTERS])}${r.pick([...LETTERS])}${r.digits(9)}${r.pick(['GB', 'DE', 'FR', 'NL'])}`; // UPU S10
    default: return `0${r.digits(13)}`;                              // DPD parcel number
  }
}

export const CATEGORIES = {
  phone, iban, orderId, date, timestamp, imei, tracking,
  uuid: (r: Rng) => {
    const hex = (n: number) => Array.from({ length: n }, () => r.int(0, 15).toString(16)).join('');
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${r.pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
  },
} as const;
export type Category = keyof typeof CATEGORIES;

/** `perCategory` values of each category (8 categories), deterministic. */
export function nonCardCorpus(perCategory: number, seed = 11): Array<{ category: Category; value: string }> {
  const r = prng(seed);
  const out: Array<{ category: Category; value: string }> = [];
  for (const category of Object.keys(CATEGORIES) as Category[]) {
    for (let i = 0; i < perCategory; i++) out.push({ category, value: CATEGORIES[category](r) });
  }
  return out;
}

// Test PANs of each brand (issuer prefix + random digits + Luhn digit).
const CARD_PREFIXES: Array<[string, number]> = [
  ['4', 16], ['4', 13], ['4', 19], ['51', 16], ['55', 16], ['2221', 16], ['2720', 16], ['34', 15], ['37', 15], ['6011', 16], ['65', 16],
  ['644', 16], ['649', 19], ['3528', 16], ['3589', 19], ['300', 14], ['305', 14], ['36', 14], ['38', 16], ['62', 16], ['62', 19],
  ['5018', 16], ['6304', 19], ['6761', 18], ['2200', 16],
];
export function cardNumbers(count: number, seed = 7): string[] {
  const r = prng(seed);
  return Array.from({ length: count }, (_, i) => {
    const [prefix, length] = CARD_PREFIXES[i % CARD_PREFIXES.length];
    const body = `${prefix}${r.digits(length - prefix.length - 1)}`;
    return `${body}${luhnCheckDigit(body)}`;
  });
}
