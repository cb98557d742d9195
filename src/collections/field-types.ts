// Validates and normalises record values against a collection's fields.
// Normalisation must be identical for writes and lookups, otherwise the
// blind index (HMAC of the normalised value) would never match a search.
// Problem details name the field and the rule, never the value: these
// messages end up in logs and API responses, the values are personal data.

import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { ErrorCode, SubCode } from '../errors.ts';
import { findPan } from '../records/card-guard.ts';
import { NAME_PATTERN, type FieldDef, type FieldType } from './collection-definition.js';

/** `path`: a JSON pointer into the request body, when it says more than the field name. */
export interface FieldProblem { field: string; code: SubCode; detail: string; path?: string }

export type RecordResult =
  | { ok: true; values: Record<string, unknown> }
  | { ok: false; problems: FieldProblem[] };

export type LookupResult =
  | { ok: true; value: unknown }
  | { ok: false; problem: FieldProblem };

type Check = { ok: true; value: unknown } | { ok: false; code: SubCode; rule: string };

/**
 * Size bounds from config (TRESOR_JSON_MAX_BYTES, TRESOR_RECORD_MAX_BYTES);
 * `cardGuard` false only with TRESOR_PAYMENT_CARD_GUARD=off (never in production).
 */
export interface RecordLimits { jsonMaxBytes: number; recordMaxBytes: number; cardGuard?: boolean }

export const MAX_EMAIL_LENGTH = 254;
// Deep nesting can blow the stack while walking; real documents are shallow.
export const MAX_JSON_DEPTH = 64;
// Generous for any formatted international number, bounds parser work.
const MAX_PHONE_INPUT = 64;

const EMAIL_LOCAL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TLD = /^[a-z]{2,63}$/;
const DATE_SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/;
// With the u flag a valid surrogate pair is one code point, so only lone
// surrogates match; they cannot round-trip through UTF-8 storage.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const pass = (value: unknown): Check => ({ ok: true, value });
const fail = (code: SubCode, rule: string): Check => ({ ok: false, code, rule });
const wrongType = (expected: string): Check => fail('record.invalid_type', `must be ${expected}`);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkLength(field: FieldDef, value: string): Check {
  if (field.maxLength !== undefined && [...value].length > field.maxLength) {
    return fail('record.too_long', `must be at most ${field.maxLength} characters`);
  }
  return pass(value);
}

function checkString(field: FieldDef, raw: unknown): Check {
  if (typeof raw !== 'string') return wrongType('a string');
  // NUL is rejected by PostgreSQL text and truncates in C-based tooling.
  if (raw.includes('\u0000') || LONE_SURROGATE.test(raw)) {
    return fail('record.invalid_value', 'must not contain NUL characters or unpaired surrogates');
  }
  // One spelling per text (NFC): "é" typed as U+00E9 or as e + U+0301 must
  // give one blind-index entry, or `unique` and search would miss the other.
  return checkLength(field, raw.normalize('NFC'));
}

export function isEmailAddress(value: string): boolean {
  if (value.length > MAX_EMAIL_LENGTH) return false;
  const at = value.lastIndexOf('@');
  const local = value.slice(0, at);
  const labels = value.slice(at + 1).split('.');
  if (at < 1 || local.length > 64 || !EMAIL_LOCAL.test(local) || labels.length < 2) return false;
  return labels.every((label) => DOMAIN_LABEL.test(label)) && TLD.test(labels[labels.length - 1] ?? '');
}

function checkEmail(field: FieldDef, raw: unknown): Check {
  if (typeof raw !== 'string') return wrongType('a string');
  // Lower-casing the local part is technically lossy (RFC 5321) but no
  // mainstream provider distinguishes case, and search must be case-blind.
  const value = raw.trim().toLowerCase();
  if (!isEmailAddress(value)) return fail('record.invalid_email', 'must be a valid e-mail address');
  return checkLength(field, value);
}

function checkPhone(field: FieldDef, raw: unknown): Check {
  if (typeof raw !== 'string') return wrongType('a string');
  const invalid = fail('record.invalid_phone', 'must be a valid international phone number starting with + or 00');
  const trimmed = raw.trim();
  if (trimmed.length > MAX_PHONE_INPUT) return invalid;
  const text = trimmed.startsWith('00') ? `+${trimmed.slice(2)}` : trimmed;
  // Without a default country only international numbers are unambiguous.
  if (!text.startsWith('+')) return invalid;
  // extract:false so "call +1 213 373 4253 now" is rejected, not mined.
  const parsed = parsePhoneNumberFromString(text, { extract: false });
  // E.164 has no extension; accepting one would silently drop data.
  if (!parsed || !parsed.isValid() || parsed.ext) return invalid;
  return checkLength(field, parsed.number);
}

export function isCalendarDate(value: string): boolean {
  const match = DATE_SHAPE.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return month >= 1 && month <= 12 && day >= 1 && day <= (days[month - 1] ?? 0);
}

function checkDate(_field: FieldDef, raw: unknown): Check {
  if (typeof raw !== 'string') return wrongType('a string');
  if (!isCalendarDate(raw)) return fail('record.invalid_date', 'must be a real calendar date in the form YYYY-MM-DD');
  return pass(raw);
}

function checkNumber(_field: FieldDef, raw: unknown): Check {
  if (typeof raw !== 'number') return wrongType('a number');
  if (!Number.isFinite(raw)) return fail('record.invalid_number', 'must be a finite number');
  // -0 and 0 must share one blind-index entry ("0").
  return pass(Object.is(raw, -0) ? 0 : raw);
}

function checkBoolean(_field: FieldDef, raw: unknown): Check {
  if (typeof raw !== 'boolean') return fail('record.invalid_boolean', 'must be true or false');
  return pass(raw);
}

// True when the value survives JSON.stringify/parse unchanged: no NaN,
// undefined, functions, Dates or class instances that serialise lossily.
export function isJsonValue(value: unknown, depth = 0): boolean {
  if (depth > MAX_JSON_DEPTH) return false;
  if (value === null || typeof value === 'boolean') return true;
  if (typeof value === 'string') return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1));
  if (!isPlainObject(value)) return false;
  return Object.entries(value).every(([key, item]) => isJsonValue(key, depth) && isJsonValue(item, depth + 1));
}

function checkJson(raw: unknown, maxBytes: number): Check {
  if (!isJsonValue(raw)) {
    return fail('record.invalid_value', `must be a JSON value (no NUL, nested at most ${MAX_JSON_DEPTH} levels)`);
  }
  const serialised = JSON.stringify(raw);
  if (Buffer.byteLength(serialised, 'utf8') > maxBytes) {
    return fail('record.too_long', `must serialise to at most ${maxBytes} bytes of JSON`);
  }
  // A fresh copy so later mutation by the caller cannot bypass validation.
  return pass(JSON.parse(serialised));
}

// RFC 3339 with a zone: the instant is unambiguous.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const PAYMENT_STATUS = /^[a-z][a-z0-9_]{0,31}$/;
// A provider's id of the transaction (Stripe "pi_…", Adyen PSP reference): printable ASCII, no spaces.
const PROVIDER_REF = /^[\x21-\x7e]{1,128}$/;
const PAYMENT_KEYS = new Set(['at', 'status', 'providerRef']);

/**
 * A payment as Tresor may keep it: when (`at`), its `status` and the
 * provider's reference; never card data (the guard scans `providerRef` too).
 */
function checkPaymentEvent(_field: FieldDef, raw: unknown): Check {
  const invalid = fail('record.invalid_payment_event',
    'must be an object {at: RFC 3339 date-time, status: lower-case word of at most 32 characters, providerRef?: at most 128 printable ASCII characters} and nothing else');
  if (!isPlainObject(raw) || Object.keys(raw).some((k) => !PAYMENT_KEYS.has(k))) return invalid;
  const { at, status, providerRef } = raw;
  if (typeof at !== 'string' || !INSTANT.test(at) || Number.isNaN(Date.parse(at))) return invalid;
  if (typeof status !== 'string' || !PAYMENT_STATUS.test(status)) return invalid;
  if (providerRef !== undefined && (typeof providerRef !== 'string' || !PROVIDER_REF.test(providerRef))) return invalid;
  const day = at.slice(0, 10);
  if (!isCalendarDate(day)) return invalid;
  return pass({ at: new Date(at).toISOString(), status, ...(providerRef === undefined ? {} : { providerRef }) });
}

// json is checked apart (it needs a size limit and is never searchable).
const CHECKS: Record<Exclude<FieldType, 'json'>, (field: FieldDef, raw: unknown) => Check> = {
  string: checkString,
  email: checkEmail,
  phone: checkPhone,
  date: checkDate,
  number: checkNumber,
  boolean: checkBoolean,
  payment_event: checkPaymentEvent,
};

function toProblem(field: string, check: { code: SubCode; rule: string }): FieldProblem {
  return { field, code: check.code, detail: `field '${field}' ${check.rule}` };
}

function requiredProblem(field: string): FieldProblem {
  return { field, code: 'record.required_field', detail: `field '${field}' is required` };
}

// Keys come from the client; echo them only when they look like a field
// name, since a malformed key may itself be personal data pasted wrongly.
function unknownProblem(key: string): FieldProblem {
  if (NAME_PATTERN.test(key)) {
    return { field: key, code: 'record.unknown_field', detail: `field '${key}' is not defined in this collection` };
  }
  return { field: '', code: 'record.unknown_field', detail: 'record contains a key that is not a valid field name' };
}

function validateField(def: FieldDef, data: Record<string, unknown>, mode: 'create' | 'patch', limits: RecordLimits,
  out: RecordResult & { ok: true }, problems: FieldProblem[]): void {
  const present = Object.hasOwn(data, def.name) && data[def.name] !== undefined;
  const raw = present ? data[def.name] : undefined;
  if (!present) {
    if (mode === 'create' && def.required) problems.push(requiredProblem(def.name));
    return;
  }
  if (raw === null) {
    if (def.required) problems.push(requiredProblem(def.name));
    // In a patch null means "clear this field"; on create absence says it.
    else if (mode === 'patch') out.values[def.name] = null;
    return;
  }
  const check = def.type === 'json' ? checkJson(raw, limits.jsonMaxBytes) : CHECKS[def.type](def, raw);
  if (check.ok) out.values[def.name] = check.value;
  else problems.push(toProblem(def.name, check));
}

/** A record whose data serialises to more than recordMaxBytes of JSON is refused (create, patch after merging, import). */
export function recordSizeProblem(values: Record<string, unknown>, limits: RecordLimits): FieldProblem | undefined {
  if (Buffer.byteLength(JSON.stringify(values), 'utf8') <= limits.recordMaxBytes) return undefined;
  return { field: '', code: 'record.too_large', detail: `record data must serialise to at most ${limits.recordMaxBytes} bytes of JSON` };
}

/**
 * The payment-card guard, on what a write would store: every create, patch
 * and import line passes here. A hit names the field and the JSON pointer
 * within the request body (`/data/…`), never the value.
 */
function cardProblems(values: Record<string, unknown>): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const [field, value] of Object.entries(values)) {
    const at = findPan(value);
    if (at === null) continue;
    const path = `/data/${field}${at}`;
    out.push({ field, path, code: 'payment.card_data_rejected',
      detail: `field '${field}' holds what looks like a payment card number (at ${path}); card numbers are never stored, keep a payment_event (at, status, providerRef) instead` });
  }
  return out;
}

/** The answer's code for a failed validation: card data gets its own. */
export function recordProblemCode(problems: FieldProblem[]): ErrorCode {
  return problems.some((p) => p.code === 'payment.card_data_rejected') ? 'payment.card_data_rejected' : 'record.validation_failed';
}

export function validateRecordData(fields: FieldDef[], data: unknown, mode: 'create' | 'patch', limits: RecordLimits): RecordResult {
  if (!isPlainObject(data)) {
    return { ok: false, problems: [{ field: '', code: 'record.invalid_data', detail: 'record data must be a JSON object' }] };
  }
  const known = new Set(fields.map((def) => def.name));
  const problems: FieldProblem[] = Object.keys(data).filter((key) => !known.has(key)).map(unknownProblem);
  // Readers use own-property lookups: a field named `constructor` is an ordinary key.
  const out: RecordResult & { ok: true } = { ok: true, values: {} };
  for (const def of fields) validateField(def, data, mode, limits, out, problems);
  // Card problems first: an import line reports its first problem.
  if (limits.cardGuard !== false) problems.unshift(...cardProblems(out.values));
  const tooLarge = problems.length ? undefined : recordSizeProblem(out.values, limits);
  if (tooLarge) problems.push(tooLarge);
  return problems.length > 0 ? { ok: false, problems } : out;
}

// Canonical text fed to the HMAC. Throws (without the value) on misuse,
// because indexing an unvalidated value would corrupt the index silently.
export function indexValueFor(field: FieldDef, normalised: unknown): string {
  const misuse = (why: string): never => { throw new Error(`field '${field.name}' ${why}`); };
  switch (field.type) {
    case 'string': case 'email': case 'phone': case 'date':
      return typeof normalised === 'string' ? normalised : misuse('index value must be a normalised string');
    case 'number':
      // String() gives one spelling per number (1 and 1.0 both "1").
      return typeof normalised === 'number' && Number.isFinite(normalised)
        ? String(Object.is(normalised, -0) ? 0 : normalised)
        : misuse('index value must be a finite number');
    default:
      return misuse(`of type '${field.type}' is not indexable`);
  }
}

export function normaliseLookup(field: FieldDef, raw: unknown): LookupResult {
  if (!field.searchable) {
    return { ok: false, problem: { field: field.name, code: 'record.field_not_searchable', detail: `field '${field.name}' is not searchable` } };
  }
  if (raw === null || raw === undefined) {
    return { ok: false, problem: { field: field.name, code: 'record.required_field', detail: `field '${field.name}' needs a lookup value` } };
  }
  if (field.type === 'json') throw new Error(`field '${field.name}' of type 'json' cannot be searchable`);
  const check = CHECKS[field.type](field, raw);
  return check.ok ? { ok: true, value: check.value } : { ok: false, problem: toProblem(field.name, check) };
}
