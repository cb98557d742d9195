// The payment-card guard: Tresor stores no primary account numbers (PCI DSS
// 4.0 req. 3). Every value a write brings (strings, numbers, nested JSON keys
// and values) is scanned; a PAN-looking value refuses the write. What counts:
//
// - 13 to 19 digits, written together or in groups separated by one space or
//   one dash ("4111 1111 1111 1111", "4111-1111-1111-1111");
// - a candidate starts and ends at a group boundary and is not glued to a
//   letter, digit or '+' ("+4930…" is a phone number), so a card number inside
//   longer text is found, a long digit string is not cut into windows;
// - within a run of groups, only spans that start with the run's first group
//   or end with its last are candidates ("4111 1111 1111 1111 123" with a CVV
//   after it, "order 12 4111 …" before it), not slices from the middle of a
//   long grouped number (a USPS tracking number "9400 1000 …" holds 16-digit
//   slices of every prefix);
// - an IBAN (two letters, two check digits, BBAN; mod-97 valid) is not a card
//   number, whatever digits its BBAN holds;
// - it passes the Luhn check;
// - its leading digits fall in a known issuer (IIN) range AND its length is one
//   that issuer uses. The length rule is what keeps IMEIs out: an IMEI is 15
//   Luhn-valid digits starting with a reporting-body code (01, 35, 86, 99, …),
//   and among the brands below only American Express (34/37) issues 15 digits,
//   a prefix no reporting body has. The cost: 15-digit Maestro numbers (legal,
//   very rare) pass; Maestro is checked at 16 to 19 digits only.
//
// The guard prevents mistakes, it does not stop someone set on smuggling a
// number (spelt out, split across fields, encrypted): no scanner does.

interface Brand { name: string; prefixes: Array<[number, number]>; lengths: number[] }

const range = (from: number, to = from): [number, number] => [from, to];
const lengths = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Issuer ranges by leading digits (a prefix range [from, to] compares the same number of leading digits). */
export const BRANDS: readonly Brand[] = [
  { name: 'visa', prefixes: [range(4)], lengths: [13, 16, 19] },
  { name: 'mastercard', prefixes: [range(51, 55), range(2221, 2720)], lengths: [16] },
  { name: 'amex', prefixes: [range(34), range(37)], lengths: [15] },
  { name: 'discover', prefixes: [range(6011), range(644, 649), range(65)], lengths: lengths(16, 19) },
  { name: 'jcb', prefixes: [range(3528, 3589)], lengths: lengths(16, 19) },
  // 15 digits are left out: IMEIs start with reporting body 30 (300–305 would collide).
  { name: 'diners', prefixes: [range(300, 305), range(3095), range(38, 39)], lengths: [14, 16] },
  { name: 'diners-international', prefixes: [range(36)], lengths: [14, 16, 17, 18, 19] },
  { name: 'unionpay', prefixes: [range(62)], lengths: lengths(16, 19) },
  { name: 'maestro', prefixes: [range(5018), range(5020), range(5038), range(5893), range(6304), range(6759), range(6761, 6763)], lengths: lengths(16, 19) },
  { name: 'mir', prefixes: [range(2200, 2204)], lengths: lengths(16, 19) },
];

const MIN_DIGITS = 13;
const MAX_DIGITS = 19;

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return sum % 10 === 0;
}

function knownIssuer(digits: string): boolean {
  for (const b of BRANDS) {
    if (!b.lengths.includes(digits.length)) continue;
    for (const [from, to] of b.prefixes) {
      const lead = Number(digits.slice(0, String(from).length));
      if (lead >= from && lead <= to) return true;
    }
  }
  return false;
}

/** True when the digits (13–19 of them) are a Luhn-valid number of a known issuer and length. */
export function isPan(digits: string): boolean {
  return digits.length >= MIN_DIGITS && digits.length <= MAX_DIGITS && luhnValid(digits) && knownIssuer(digits);
}

const isDigit = (c: number) => c >= 48 && c <= 57;
// Letters (ASCII and beyond) and '+' glue: a run touching one is not a card number.
const glues = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c > 127;
const isSeparator = (c: number) => c === 32 || c === 45;

/** Spans of whole groups with 13–19 digits that start at the run's first usable group or end at its last, checked against isPan. */
function runHasPan(groups: string[], gluedStart: boolean, gluedEnd: boolean): boolean {
  const first = gluedStart ? 1 : 0;
  const last = gluedEnd ? groups.length - 2 : groups.length - 1;
  for (let i = first; i <= last; i++) {
    let digits = '';
    for (let j = i; j <= last; j++) {
      digits += groups[j];
      if (digits.length > MAX_DIGITS) break;
      if (digits.length >= MIN_DIGITS && (i === first || j === last) && isPan(digits)) return true;
    }
  }
  return false;
}

// An IBAN candidate: country, check digits, then 11–30 alphanumerics, optionally in groups.
const IBAN_LIKE = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}/g;

/** ISO 13616 check over the first `length` alphanumerics of `compact`. */
function ibanValid(compact: string, length: number): boolean {
  const text = compact.slice(4, length) + compact.slice(0, 4);
  let rest = 0;
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    rest = c <= 57 ? (rest * 10 + c - 48) % 97 : (rest * 100 + c - 55) % 97;
  }
  return rest === 1;
}

/** The text with every mod-97-valid IBAN blanked out (same length). */
function withoutIbans(text: string): string {
  if (!/[A-Z]{2}\d{2}/.test(text)) return text;
  return text.replace(IBAN_LIKE, (match) => {
    const compact = match.replace(/ /g, '');
    for (let length = compact.length; length >= 15; length--) {
      if (!ibanValid(compact, length)) continue;
      // Blank the match up to its length-th alphanumeric, keep the rest.
      let seen = 0, end = 0;
      while (seen < length) { if (match[end] !== ' ') seen++; end++; }
      return 'X'.repeat(end) + match.slice(end);
    }
    return match;
  });
}

/** Whether the text holds something that looks like a payment card number. */
export function containsPan(text: string): boolean {
  // Fewer than 13 digits cannot hold one: most values leave here.
  let count = 0;
  for (let i = 0; i < text.length && count < MIN_DIGITS; i++) if (isDigit(text.charCodeAt(i))) count++;
  if (count < MIN_DIGITS) return false;
  // IBANs are looked for only when a candidate was found (rare, and the costlier scan).
  return scan(text) && scan(withoutIbans(text));
}

function scan(text: string): boolean {
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isDigit(text.charCodeAt(i))) { i++; continue; }
    // A run: digit groups joined by single separators.
    const gluedStart = i > 0 && (glues(text.charCodeAt(i - 1)) || isDigit(text.charCodeAt(i - 1)));
    const groups: string[] = [];
    let total = 0;
    for (;;) {
      const start = i;
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      groups.push(text.slice(start, i));
      total += i - start;
      if (i + 1 < n && isSeparator(text.charCodeAt(i)) && isDigit(text.charCodeAt(i + 1))) { i++; continue; }
      break;
    }
    const gluedEnd = i < n && glues(text.charCodeAt(i));
    if (total >= MIN_DIGITS && runHasPan(groups, gluedStart, gluedEnd)) return true;
  }
  return false;
}

// RFC 6901 segments, shown only when they look like a name or an index: JSON
// keys are client data and may themselves be personal.
const SAFE_SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether any string, integer or key in the value holds a card number (no pointer built: the common, clean case). */
function holdsPan(value: unknown): boolean {
  if (typeof value === 'string') return containsPan(value);
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) >= 1e12 && containsPan(String(value));
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (holdsPan(value[i])) return true;
    return false;
  }
  const obj = value as Record<string, unknown>;
  for (const key in obj) if (containsPan(key) || holdsPan(obj[key])) return true;
  return false;
}

/**
 * The JSON pointer (relative to the value) of the first place holding a
 * card number, or null. A key that is not safe to show ends the pointer at
 * its parent. Depth is bounded by the validator before this runs.
 */
export function findPan(value: unknown, pointer = ''): string | null {
  if (pointer === '' && !holdsPan(value)) return null;
  if (typeof value === 'string') return containsPan(value) ? pointer : null;
  if (typeof value === 'number') return Number.isInteger(value) && containsPan(String(value)) ? pointer : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findPan(value[i], `${pointer}/${i}`);
      if (hit !== null) return hit;
    }
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    if (containsPan(key)) return pointer;
    const hit = findPan(item, SAFE_SEGMENT.test(key) ? `${pointer}/${key}` : pointer);
    if (hit !== null) return hit;
  }
  return null;
}
